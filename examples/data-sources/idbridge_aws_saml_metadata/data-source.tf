# The file IAM Identity Center offers under Settings > Identity source > Actions > Change identity source >
# External identity provider > "Download metadata file".
data "idbridge_aws_saml_metadata" "aws" {
  xml = file("${path.module}/aws-sso-metadata.xml")
}

output "entra_identifier" {
  value = data.idbridge_aws_saml_metadata.aws.entity_id
}

output "entra_reply_url" {
  value = data.idbridge_aws_saml_metadata.aws.acs_url
}
