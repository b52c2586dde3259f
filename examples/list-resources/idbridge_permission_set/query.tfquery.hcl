list "idbridge_permission_set" "sets" {
  provider         = idbridge
  include_resource = true
  config {
    instance_arn = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
    name_prefix  = "Team"
  }
}
