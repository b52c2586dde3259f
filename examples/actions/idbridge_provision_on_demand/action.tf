action "idbridge_provision_on_demand" "now" {
  config {
    application_id = idbridge_entra_application.aws.id
    user_id        = "00000000-0000-0000-0000-000000000000"
  }
}

# terraform apply -invoke=action.idbridge_provision_on_demand.now
