terraform {
  required_version = ">= 1.11"
  required_providers {
    idbridge = {
      source = "idbridge/idbridge"
    }
  }
}
