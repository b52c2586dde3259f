# Import by the permission set ARN; the instance is derived from it.
terraform import idbridge_permission_set.operators arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef
