output "idp_metadata_xml" {
  description = "Upload to IAM Identity Center: Settings > Identity source > Change identity source > External identity provider > IdP SAML metadata."
  value       = idbridge_saml_trust.this.idp_metadata_xml
}

output "idp_metadata_url" {
  description = "Entra's federation metadata URL for this application."
  value       = idbridge_saml_trust.this.idp_metadata_url
}

output "idp_sso_url" {
  description = "IdP sign-in URL, if you enter the IdP settings by hand instead of uploading the metadata."
  value       = idbridge_saml_trust.this.idp_sso_url
}

output "idp_entity_id" {
  description = "IdP issuer URL, if you enter the IdP settings by hand."
  value       = idbridge_saml_trust.this.idp_entity_id
}

output "idp_certificate_pem" {
  description = "IdP certificate, if you enter the IdP settings by hand."
  value       = idbridge_saml_trust.this.idp_certificate_pem
}

output "certificate_expires_at" {
  description = "When the active SAML signing certificate expires; rotate before then."
  value       = idbridge_saml_trust.this.certificate_expires_at
}

output "application_id" {
  value = idbridge_entra_application.this.id
}

output "permission_set_arns" {
  value = { for name, ps in idbridge_permission_set.this : name => ps.arn }
}

output "assignments" {
  description = "What exists in AWS per group: <account id>/<permission set ARN>."
  value       = { for name, a in idbridge_group_assignment.this : name => a.assignments }
}
