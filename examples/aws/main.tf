# The AWS side on its own: permission sets and an Entra group mapped to them on accounts. The Entra application
# (and its SCIM provisioning) exist already; see ../entra or ../complete for the whole chain.

terraform {
  required_version = ">= 1.11"
  required_providers {
    idbridge = {
      source = "idbridge/idbridge"
    }
  }
}

provider "idbridge" {}

variable "application_id" {
  description = "Object id of the AWS IAM Identity Center application in Entra ID (idbridge_entra_application.id)."
  type        = string
}

variable "entra_group_id" {
  description = "Object id of the Entra group that gets access."
  type        = string
}

variable "account_ids" {
  description = "AWS account ids the group gets the permission sets on."
  type        = set(string)
}

data "idbridge_sso_instance" "this" {}

resource "idbridge_permission_set" "read_only" {
  instance_arn        = data.idbridge_sso_instance.this.arn
  name                = "ReadOnly"
  description         = "Read-only access"
  session_duration    = "PT8H"
  managed_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
}

resource "idbridge_group_assignment" "readers" {
  application_id      = var.application_id
  entra_group_id      = var.entra_group_id
  instance_arn        = data.idbridge_sso_instance.this.arn
  permission_set_arns = [idbridge_permission_set.read_only.arn]
  account_ids         = var.account_ids
}

output "assignments" {
  value = idbridge_group_assignment.readers.assignments
}
