terraform {
  # Write-only arguments (the SCIM token of idbridge_scim_provisioning) need Terraform 1.11.
  required_version = ">= 1.11"

  required_providers {
    idbridge = {
      source  = "idbridge/idbridge"
      version = "~> 0.1"
    }
  }
}
