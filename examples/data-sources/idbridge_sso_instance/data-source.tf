data "idbridge_sso_instance" "this" {}

output "identity_store_id" {
  value = data.idbridge_sso_instance.this.identity_store_id
}
