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

  # ABAC: the Entra cost center reaches the identity store user's enterprise attributes.
  attribute_mapping {
    target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"
    source = "employeeOrgData.costCenter"
  }
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

# ABAC: the cost center becomes the session tag CostCenter in every account (aws:PrincipalTag/CostCenter).
resource "idbridge_access_control_attributes" "this" {
  attribute {
    key    = "CostCenter"
    source = ["$${path:enterprise.costCenter}"]
  }
}

# MFA for AWS sign-ins, report-only: check the sign-in logs, then set state = "enabled".
resource "idbridge_conditional_access_policy" "mfa" {
  display_name      = "${var.application_name}: require MFA"
  application_id    = idbridge_entra_application.this.id
  state             = "enabledForReportingButNotEnforced"
  include_groups    = [for group in var.groups : group.entra_group_id]
  built_in_controls = ["mfa"]
}
