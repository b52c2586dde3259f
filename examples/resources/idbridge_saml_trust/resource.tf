resource "idbridge_entra_application" "aws" {
  display_name = "AWS IAM Identity Center"
}

resource "idbridge_saml_trust" "aws" {
  application_id = idbridge_entra_application.aws.id

  # IAM Identity Center > Settings > Identity source > Actions > Change identity source >
  # External identity provider > "Download metadata file".
  aws_metadata_xml = file("${path.module}/aws-sso-metadata.xml")

  sign_on_url = "https://d-1234567890.awsapps.com/start"

  additional_claims = {
    "https://aws.amazon.com/SAML/Attributes/SessionDuration" = "28800"
  }

  certificate_validity_days = 1095
  rotate_before_days        = 30
}

# Upload this file in IAM Identity Center as "IdP SAML metadata".
resource "local_file" "entra_idp_metadata" {
  filename = "${path.module}/entra-idp-metadata.xml"
  content  = idbridge_saml_trust.aws.idp_metadata_xml
}
