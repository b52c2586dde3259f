# 50 groups x 20 accounts x 1 permission set = 1,000 account assignments (bench/assignments.sh).
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
variable "moved_permission_set_arn" { type = string }
# bench/assignments.sh sets this for its second apply: every assignment moves to the other permission set.
variable "moved" {
  type    = bool
  default = false
}
variable "account_ids" { type = list(string) }

resource "idbridge_group_assignment" "g" {
  count               = length(var.group_ids)
  application_id      = var.application_id
  entra_group_id      = var.group_ids[count.index]
  permission_set_arns = [var.moved ? var.moved_permission_set_arn : var.permission_set_arn]
  account_ids         = var.account_ids
}
