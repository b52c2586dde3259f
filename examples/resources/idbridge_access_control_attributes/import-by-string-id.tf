import {
  to = idbridge_access_control_attributes.abac
  id = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
}
