# The SCIM endpoint and access token come from IAM Identity Center:
# Settings > Identity source > Automatic provisioning > Enable, then "Generate token".
variable "scim_endpoint" {
  type        = string
  description = "https://scim.<region>.amazonaws.com/<tenant>/scim/v2/"
}

# Ephemeral: the token is used during apply and never written to the plan or the state.
variable "scim_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "idbridge_entra_application" "aws" {
  display_name = "AWS IAM Identity Center"
}

resource "idbridge_scim_provisioning" "aws" {
  application_id = idbridge_entra_application.aws.id
  scim_endpoint  = var.scim_endpoint

  scim_token_wo = var.scim_token
  # Bump when you generate a new token: Terraform cannot see a change of a write-only value.
  scim_token_wo_version = 1
  # AWS SCIM tokens expire after a year: plans warn 30 days ahead and fail once it has passed.
  token_expires_at = "2027-06-30T00:00:00Z"

  scope   = "assigned"
  enabled = true

  timeouts {
    create = "10m"
  }
}

output "provisioning_status" {
  value = idbridge_scim_provisioning.aws.status
}
