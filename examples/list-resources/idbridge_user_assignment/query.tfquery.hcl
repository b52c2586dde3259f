list "idbridge_user_assignment" "users" {
  provider         = idbridge
  include_resource = true
  config {
    application_id = "00000000-0000-0000-0000-000000000000"
  }
}
