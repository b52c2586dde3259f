import {
  to = idbridge_permission_set.operators
  id = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef"
}
