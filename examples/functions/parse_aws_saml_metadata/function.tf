locals {
  aws_sp = provider::idbridge::parse_aws_saml_metadata(file("${path.module}/aws-sso-metadata.xml"))
}

output "entra_identifier" {
  value = local.aws_sp.entity_id
}

output "entra_reply_url" {
  value = local.aws_sp.acs_url
}
