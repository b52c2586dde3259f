# Give the Entra ID group "aws-platform-admins" AdministratorAccess in two AWS accounts, in one apply:
# the group is assigned to the IAM Identity Center enterprise app, provisioned on demand over SCIM with its
# members (the plan warns about members AWS will not take), and assigned the permission set in each account
# once it exists in the AWS identity store.
resource "idbridge_group_assignment" "platform_admins" {
  application_id      = idbridge_entra_application.aws.id
  entra_group_id      = "3f2b8c1e-5d4a-4e7b-9c6f-0a1b2c3d4e5f"
  permission_set_arns = [idbridge_permission_set.admin.arn]
  account_ids         = ["111111111111", "222222222222"]

  # The SCIM provisioning job must exist before the group can be provisioned.
  depends_on = [idbridge_scim_provisioning.aws]

  timeouts {
    create = "30m"
  }
}
