variable "aws_metadata_file" {
  description = "Path of the SAML metadata file downloaded from IAM Identity Center."
  type        = string
  default     = "aws-sso-metadata.xml"
}

variable "scim_endpoint" {
  description = "SCIM endpoint from IAM Identity Center (automatic provisioning)."
  type        = string
}

variable "scim_token" {
  description = "SCIM access token from IAM Identity Center. Pass it as TF_VAR_scim_token; it never reaches state."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "scim_token_version" {
  type    = number
  default = 1
}

variable "scim_token_expires_at" {
  description = "Expiry of the SCIM token (RFC 3339), shown next to the token in IAM Identity Center."
  type        = string
  default     = null
}

variable "entra_group_ids" {
  description = "Object ids of the Entra groups AWS-Admins, AWS-Developers and AWS-ReadOnly."
  type        = map(string)
}

variable "dev_account_ids" {
  type = set(string)
}

variable "production_account_ids" {
  type = set(string)
}

variable "workloads_ou_id" {
  description = "The organizational unit (ou-…) whose accounts AWS-ReadOnly can read; needs AWS credentials that can read AWS Organizations."
  type        = string
}
