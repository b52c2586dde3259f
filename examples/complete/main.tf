# The whole Entra ID -> AWS IAM Identity Center integration in one apply.
# Credentials come from the environment (ARM_* for Entra ID, the standard AWS chain); see docs/index.md.
# scripts/demo.sh runs this against local emulators; docs/guides/entra-aws-identity-center.md against real clouds.

terraform {
  required_version = ">= 1.11"
  required_providers {
    idbridge = {
      source = "idbridge/idbridge"
    }
  }
}

provider "idbridge" {}

locals {
  all_accounts = setunion(var.dev_account_ids, var.production_account_ids)
}

module "identity_center" {
  source = "./modules/entra-aws-identity-center"

  aws_metadata_xml      = file(var.aws_metadata_file)
  scim_endpoint         = var.scim_endpoint
  scim_token            = var.scim_token
  scim_token_version    = var.scim_token_version
  scim_token_expires_at = var.scim_token_expires_at

  permission_sets = {
    AdministratorAccess = {
      description         = "Full access"
      session_duration    = "PT8H"
      managed_policy_arns = ["arn:aws:iam::aws:policy/AdministratorAccess"]
    }
    ReadOnlyAccess = {
      description         = "Read-only access"
      session_duration    = "PT8H"
      managed_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    }
    Developer = {
      description         = "Developers: power user without IAM, plus reading CloudWatch logs"
      session_duration    = "PT8H"
      managed_policy_arns = ["arn:aws:iam::aws:policy/PowerUserAccess"]
      inline_policy = jsonencode({
        Version = "2012-10-17"
        Statement = [{
          Sid      = "ReadLogs"
          Effect   = "Allow"
          Action   = ["logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogGroups"]
          Resource = "*"
        }]
      })
    }
  }

  groups = {
    "AWS-Admins" = {
      entra_group_id  = var.entra_group_ids["AWS-Admins"]
      permission_sets = ["AdministratorAccess"]
      account_ids     = local.all_accounts
    }
    "AWS-Developers" = {
      entra_group_id  = var.entra_group_ids["AWS-Developers"]
      permission_sets = ["Developer"]
      account_ids     = var.dev_account_ids
    }
    "AWS-ReadOnly" = {
      entra_group_id  = var.entra_group_ids["AWS-ReadOnly"]
      permission_sets = ["ReadOnlyAccess"]
      # Every account of the workloads OU, including accounts created or moved there later.
      organizational_unit_ids = [var.workloads_ou_id]
    }
  }
}
