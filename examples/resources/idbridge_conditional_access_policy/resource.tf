resource "idbridge_entra_application" "aws" {
  display_name = "AWS IAM Identity Center"
}

# Start report-only: sign-ins to AWS are evaluated and logged in the sign-in logs, nothing is enforced.
resource "idbridge_conditional_access_policy" "aws_mfa" {
  display_name      = "AWS: require MFA"
  application_id    = idbridge_entra_application.aws.id
  state             = "enabledForReportingButNotEnforced"
  include_groups    = ["00000000-0000-0000-0000-000000000001"] # the groups assigned to the AWS app
  exclude_users     = ["00000000-0000-0000-0000-000000000002"] # a break-glass account
  built_in_controls = ["mfa"]
}
