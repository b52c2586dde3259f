# What signing in to AWS will give Alice, read after the integration is applied.
data "idbridge_sign_in_preview" "alice" {
  application_id      = idbridge_entra_application.aws.id
  user_principal_name = "alice@contoso.com"

  depends_on = [idbridge_saml_trust.aws, idbridge_group_assignment.developers]
}

# Every plan and apply reports (as a warning) when Alice could not sign in, and why.
check "alice_can_sign_in" {
  assert {
    condition     = length(data.idbridge_sign_in_preview.alice.problems) == 0
    error_message = join("\n", data.idbridge_sign_in_preview.alice.problems)
  }
}

output "alice_can_open" {
  # e.g. ["111111111111/arn:aws:sso:::permissionSet/ssoins-.../ps-..."]
  value = data.idbridge_sign_in_preview.alice.access
}

output "alice_department_tag" {
  value = lookup(
    data.idbridge_sign_in_preview.alice.claims,
    "https://aws.amazon.com/SAML/Attributes/AccessControl:Department",
    null,
  )
}
