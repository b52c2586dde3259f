# Without the metadata file: the two values the IAM Identity Center console shows under "Service provider
# metadata" ("show individual metadata values").
resource "idbridge_saml_trust" "aws" {
  application_id = idbridge_entra_application.aws.id
  entity_id      = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-1234567890"
  acs_url        = "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/0f6c1d2e-3a4b-4c5d-9e8f-7a6b5c4d3e2f"
}
