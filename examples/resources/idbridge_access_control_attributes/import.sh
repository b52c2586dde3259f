# Import by the instance ARN: there is one configuration per instance.
terraform import idbridge_access_control_attributes.abac arn:aws:sso:::instance/ssoins-1234567890abcdef
