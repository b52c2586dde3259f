data "idbridge_sso_instance" "this" {}

resource "idbridge_permission_set" "operators" {
  instance_arn     = data.idbridge_sso_instance.this.arn
  name             = "Operators"
  description      = "Day-to-day operations"
  session_duration = "PT4H"
  relay_state      = "https://console.aws.amazon.com/ec2/home"

  managed_policy_arns = [
    "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
  ]

  # Must exist in every account the permission set is provisioned to.
  customer_managed_policy {
    name = "OperatorsExtra"
    path = "/platform/"
  }

  inline_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Deny"
      Action   = "iam:*"
      Resource = "*"
    }]
  })

  permissions_boundary {
    managed_policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
  }

  tags = {
    team = "platform"
  }

  timeouts {
    update = "30m"
  }
}
