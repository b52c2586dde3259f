# Import with the object ID of the application the trust is configured on.
terraform import idbridge_saml_trust.aws 00000000-1111-2222-3333-444444444444
