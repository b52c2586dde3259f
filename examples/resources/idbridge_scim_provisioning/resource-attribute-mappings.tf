# Send the cost center and department to AWS (for ABAC session tags, see idbridge_access_control_attributes)
# and drop Entra's default phone number mappings AWS does not take.
resource "idbridge_scim_provisioning" "aws" {
  application_id = idbridge_entra_application.aws.id
  scim_endpoint  = var.scim_endpoint
  scim_token_wo  = var.scim_token

  attribute_mapping {
    target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"
    source = "employeeOrgData.costCenter"
  }
  attribute_mapping {
    target = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
    source = "department"
  }
  attribute_mapping {
    target     = "displayName"
    expression = "Join(\" \", [givenName], [surname])"
  }

  removed_targets = [
    "phoneNumbers[type eq \"mobile\"].value",
    "phoneNumbers[type eq \"fax\"].value",
  ]
}
