# A break-glass administrator: the Entra ID user gets AdministratorAccess in every account of the
# organization (its root), as a USER assignment, in one apply.
resource "idbridge_user_assignment" "break_glass" {
  application_id          = idbridge_entra_application.aws.id
  entra_user_id           = "5c4b3a29-1807-4f6e-9d8c-7b6a59483726"
  permission_set_arns     = [idbridge_permission_set.admin.arn]
  organizational_unit_ids = ["r-ab12"]

  # The SCIM provisioning job must exist before the user can be provisioned.
  depends_on = [idbridge_scim_provisioning.aws]
}
