# Read-only access in every ACTIVE account of the "workloads" OU and the OUs below it, plus every account
# tagged env=sandbox, except the log archive account. Accounts that join the OU later are a change at the
# next plan and are assigned by the next apply.
resource "idbridge_group_assignment" "readers" {
  application_id          = idbridge_entra_application.aws.id
  entra_group_id          = "7d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
  permission_set_arns     = [idbridge_permission_set.read_only.arn]
  organizational_unit_ids = ["ou-ab12-cdefgh34"]
  account_tags            = { env = "sandbox" }
  exclude_account_ids     = ["333333333333"]

  depends_on = [idbridge_scim_provisioning.aws]
}
