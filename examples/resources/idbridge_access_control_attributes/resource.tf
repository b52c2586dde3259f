data "idbridge_sso_instance" "this" {}

# Users' cost center and department reach AWS accounts as the session tags CostCenter and Department, for
# policies such as "aws:PrincipalTag/CostCenter": "${aws:ResourceTag/CostCenter}".
resource "idbridge_access_control_attributes" "abac" {
  instance_arn = data.idbridge_sso_instance.this.arn

  attribute {
    key    = "CostCenter"
    source = ["$${path:enterprise.costCenter}"]
  }

  attribute {
    key    = "Department"
    source = ["$${path:enterprise.department}"]
  }
}
