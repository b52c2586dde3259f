# The Entra ID side on its own: the gallery application, the SAML trust exchange and SCIM provisioning.
# Inputs come from IAM Identity Center (metadata file, SCIM endpoint and token); outputs go back to it.

terraform {
  required_version = ">= 1.11"
  required_providers {
    idbridge = {
      source = "idbridge/idbridge"
    }
  }
}

provider "idbridge" {}

variable "aws_metadata_file" {
  description = "SAML metadata file downloaded from IAM Identity Center."
  type        = string
  default     = "aws-sso-metadata.xml"
}

variable "scim_endpoint" {
  description = "SCIM endpoint shown by IAM Identity Center when automatic provisioning is enabled."
  type        = string
}

variable "scim_token" {
  description = "SCIM access token from IAM Identity Center (TF_VAR_scim_token). Never stored in state or plan."
  type        = string
  sensitive   = true
  ephemeral   = true
}

resource "idbridge_entra_application" "aws" {
  display_name = "AWS IAM Identity Center"
  notes        = "Managed by Terraform (idbridge)."
}

resource "idbridge_saml_trust" "aws" {
  application_id   = idbridge_entra_application.aws.id
  aws_metadata_xml = file(var.aws_metadata_file)
}

resource "idbridge_scim_provisioning" "aws" {
  application_id        = idbridge_entra_application.aws.id
  scim_endpoint         = var.scim_endpoint
  scim_token_wo         = var.scim_token
  scim_token_wo_version = 1
}

output "idp_metadata_xml" {
  description = "Upload to IAM Identity Center: Settings > Identity source > External identity provider."
  value       = idbridge_saml_trust.aws.idp_metadata_xml
}

output "certificate_expires_at" {
  value = idbridge_saml_trust.aws.certificate_expires_at
}

output "provisioning_status" {
  value = idbridge_scim_provisioning.aws.status
}

output "application_id" {
  description = "Pass to ../aws as application_id."
  value       = idbridge_entra_application.aws.id
}
