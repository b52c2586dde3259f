# Credentials come from the environment (ARM_* for Entra ID, the standard AWS chain for AWS), so the provider
# block only says which tenant and which region.
provider "idbridge" {
  entra {
    tenant_id = "00000000-0000-0000-0000-000000000000"
    client_id = "11111111-1111-1111-1111-111111111111"
    # client_secret from ARM_CLIENT_SECRET
  }

  aws {
    region = "eu-west-1"
    # profile = "identity-center-admin"
  }
}
