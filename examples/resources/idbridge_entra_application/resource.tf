data "azuread_client_config" "current" {}

resource "idbridge_entra_application" "aws" {
  display_name = "AWS IAM Identity Center"
  notes        = "SSO into the AWS organization. Managed by Terraform."
  owners       = [data.azuread_client_config.current.object_id]

  # Only users assigned (usually through groups) may sign in to AWS.
  app_role_assignment_required = true
  hide_from_my_apps            = false

  tags = ["team:platform"]
}

output "aws_app_user_role_id" {
  value = idbridge_entra_application.aws.app_role_ids["User"]
}
