# ABAC through the SAML assertion instead of SCIM: each key becomes the session tag
# https://aws.amazon.com/SAML/Attributes/AccessControl:<key>, read from the Entra user at sign-in.
resource "idbridge_saml_trust" "aws" {
  application_id   = idbridge_entra_application.aws.id
  aws_metadata_xml = file("${path.module}/aws-sso-metadata.xml")

  access_control_attributes = {
    CostCenter = "user.employeeorgdata.costcenter"
    Department = "user.department"
  }
}
