list "idbridge_conditional_access_policy" "aws" {
  provider         = idbridge
  include_resource = true
  config {
    application_id = "00000000-0000-0000-0000-000000000000"
  }
}
