# What signing in gives one user of each group: the accounts and permission sets they can open, or why they
# cannot sign in. Read after the whole integration is applied; see the idbridge_sign_in_preview docs.

variable "preview_users" {
  description = "Users whose sign-in to preview: group name => user principal name (one member of each group)."
  type        = map(string)
  default     = {}
}

data "idbridge_sign_in_preview" "member" {
  for_each = var.preview_users

  application_id      = module.identity_center.application_id
  user_principal_name = each.value

  depends_on = [module.identity_center]
}

locals {
  permission_set_names = { for name, arn in module.identity_center.permission_set_arns : arn => name }
}

output "sign_in_preview" {
  description = "Per previewed user: the group, what they can open (\"<account id> as <permission set>\") and the problems."
  value = {
    for group, preview in data.idbridge_sign_in_preview.member : preview.user_principal_name => {
      group = group
      # access entries are "<12-digit account id>/<permission set ARN>"
      can_open = sort([
        for entry in preview.access :
        "${substr(entry, 0, 12)} as ${lookup(local.permission_set_names, substr(entry, 13, -1), substr(entry, 13, -1))}"
      ])
      problems = preview.problems
    }
  }
}
