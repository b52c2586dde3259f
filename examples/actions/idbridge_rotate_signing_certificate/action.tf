action "idbridge_rotate_signing_certificate" "now" {
  config {
    application_id            = idbridge_entra_application.aws.id
    certificate_validity_days = 365
  }
}

# terraform apply -invoke=action.idbridge_rotate_signing_certificate.now
