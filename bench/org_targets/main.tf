# 10 groups x every account of an OU tree (100 accounts under 5 OUs) x 1 permission set (bench/org_targets.sh).
terraform {
  required_providers {
    idbridge = {
      source = "registry.terraform.io/idbridge/idbridge"
    }
  }
}

variable "application_id" { type = string }
variable "group_ids" { type = list(string) }
variable "permission_set_arn" { type = string }
variable "account_ids" { type = list(string) }
variable "ou_ids" { type = list(string) }

resource "idbridge_group_assignment" "g" {
  count                   = length(var.group_ids)
  application_id          = var.application_id
  entra_group_id          = var.group_ids[count.index]
  permission_set_arns     = [var.permission_set_arn]
  organizational_unit_ids = var.ou_ids
}
