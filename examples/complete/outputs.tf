output "idp_metadata_xml" {
  description = "Upload this to IAM Identity Center (Settings > Identity source > External identity provider)."
  value       = module.identity_center.idp_metadata_xml
}

output "idp_metadata_url" {
  value = module.identity_center.idp_metadata_url
}

output "idp_sso_url" {
  value = module.identity_center.idp_sso_url
}

output "idp_entity_id" {
  value = module.identity_center.idp_entity_id
}

output "idp_certificate_pem" {
  value = module.identity_center.idp_certificate_pem
}

output "certificate_expires_at" {
  value = module.identity_center.certificate_expires_at
}

output "permission_set_arns" {
  value = module.identity_center.permission_set_arns
}

output "assignments" {
  value = module.identity_center.assignments
}
