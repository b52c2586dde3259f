list "idbridge_access_control_attributes" "abac" {
  provider         = idbridge
  include_resource = true
  config {
    instance_arn = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
  }
}
