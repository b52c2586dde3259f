# Import with the object id of the AWS IAM Identity Center application. The SCIM token is write-only and cannot be
# read back: keep `scim_token_wo` in the configuration and set (or bump) `scim_token_wo_version` after the import so
# the next apply sends the token.
terraform import idbridge_scim_provisioning.aws 00000000-0000-0000-0000-000000000000
