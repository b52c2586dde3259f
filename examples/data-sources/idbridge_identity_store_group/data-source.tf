# A group pushed by SCIM provisioning from Entra ID: wait up to 10 minutes for it to appear.
data "idbridge_identity_store_group" "admins" {
  display_name = "AWS-Admins"
  wait_for     = "10m"
}

# Or by the identifier the identity provider gave the group.
data "idbridge_identity_store_group" "by_external_id" {
  external_id {
    issuer = "https://scim.aws.com/1234567890"
    id     = "8d6f1e2a-0000-4000-8000-000000000000"
  }
}

output "admins_group_id" {
  value = data.idbridge_identity_store_group.admins.group_id
}
