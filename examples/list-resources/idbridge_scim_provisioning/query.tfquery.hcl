list "idbridge_scim_provisioning" "provisioning" {
  provider         = idbridge
  include_resource = true
  config {
    application_id = "00000000-0000-0000-0000-000000000000"
  }
}
