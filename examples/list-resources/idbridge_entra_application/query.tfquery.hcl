list "idbridge_entra_application" "apps" {
  provider         = idbridge
  include_resource = true
  config {
    display_name_prefix = "AWS IAM Identity Center"
  }
}
