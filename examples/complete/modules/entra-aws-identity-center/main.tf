# The gallery application "AWS IAM Identity Center" in Entra ID.
resource "idbridge_entra_application" "this" {
  display_name = var.application_name
}

# SAML both ways: AWS's SP metadata in, Entra's IdP metadata (and active signing certificate) out.
resource "idbridge_saml_trust" "this" {
  application_id   = idbridge_entra_application.this.id
  aws_metadata_xml = var.aws_metadata_xml
}

# Entra pushes the assigned users and groups to AWS over SCIM.
resource "idbridge_scim_provisioning" "this" {
  application_id        = idbridge_entra_application.this.id
  scim_endpoint         = var.scim_endpoint
  scim_token_wo         = var.scim_token
  scim_token_wo_version = var.scim_token_version
  token_expires_at      = var.scim_token_expires_at
}

resource "idbridge_permission_set" "this" {
  for_each = var.permission_sets

  name                = each.key
  description         = each.value.description
  session_duration    = each.value.session_duration
  managed_policy_arns = each.value.managed_policy_arns
  inline_policy       = each.value.inline_policy
}

# Each group: assigned to the app, provisioned on demand, then given its permission sets on its accounts and on
# every account of its organizational units (followed at every plan as accounts move).
resource "idbridge_group_assignment" "this" {
  for_each = var.groups

  application_id          = idbridge_entra_application.this.id
  entra_group_id          = each.value.entra_group_id
  permission_set_arns     = [for name in each.value.permission_sets : idbridge_permission_set.this[name].arn]
  account_ids             = length(each.value.account_ids) > 0 ? each.value.account_ids : null
  organizational_unit_ids = length(each.value.organizational_unit_ids) > 0 ? each.value.organizational_unit_ids : null

  # Provisioning must be configured before a group can be provisioned on demand.
  depends_on = [idbridge_scim_provisioning.this]
}
