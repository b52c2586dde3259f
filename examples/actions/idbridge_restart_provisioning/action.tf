action "idbridge_restart_provisioning" "now" {
  config {
    application_id = idbridge_entra_application.aws.id
    reset_scope    = ["Full"]
  }
}

# terraform apply -invoke=action.idbridge_restart_provisioning.now
