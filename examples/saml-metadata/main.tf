# Reads the SAML metadata file of an IAM Identity Center instance, offline: no Entra ID or AWS credentials are
# needed. Replace aws-sso-metadata.xml with the file downloaded from your instance (IAM Identity Center >
# Settings > Identity source > Actions > Change identity source > External identity provider).

terraform {
  required_providers {
    idbridge = {
      source = "idbridge/idbridge"
    }
  }
}

provider "idbridge" {}

data "idbridge_aws_saml_metadata" "aws" {
  xml = file("${path.module}/aws-sso-metadata.xml")
}

locals {
  # The same values through the provider function, e.g. for a module input.
  parsed = provider::idbridge::parse_aws_saml_metadata(file("${path.module}/aws-sso-metadata.xml"))
}

output "identifier" {
  description = "Entra ID \"Identifier (Entity ID)\" of the AWS IAM Identity Center application."
  value       = data.idbridge_aws_saml_metadata.aws.entity_id
}

output "reply_url" {
  description = "Entra ID \"Reply URL (Assertion Consumer Service URL)\"."
  value       = data.idbridge_aws_saml_metadata.aws.acs_url
}

output "nameid_format" {
  value = data.idbridge_aws_saml_metadata.aws.nameid_format
}

output "function_agrees" {
  value = local.parsed.entity_id == data.idbridge_aws_saml_metadata.aws.entity_id && local.parsed.acs_url == data.idbridge_aws_saml_metadata.aws.acs_url
}
