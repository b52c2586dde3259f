variable "application_name" {
  description = "Display name of the enterprise application in Microsoft Entra ID."
  type        = string
  default     = "AWS IAM Identity Center"
}

variable "aws_metadata_xml" {
  description = "The SAML metadata file IAM Identity Center offers for download (Settings > Identity source > Change identity source > External identity provider > Download metadata file)."
  type        = string
}

variable "scim_endpoint" {
  description = "The SCIM endpoint IAM Identity Center shows when you enable automatic provisioning."
  type        = string
}

variable "scim_token" {
  description = "The SCIM access token IAM Identity Center shows once when you enable automatic provisioning. Never stored in state."
  type        = string
  sensitive   = true
  ephemeral   = true
}

variable "scim_token_version" {
  description = "Bump when you paste a new SCIM token, so the provider sends it to Entra ID again."
  type        = number
  default     = 1
}

variable "scim_token_expires_at" {
  description = "When the SCIM token expires (RFC 3339). Plans warn 30 days ahead and fail once it has expired."
  type        = string
  default     = null
}

variable "permission_sets" {
  description = "Permission sets to create, by name."
  type = map(object({
    description         = optional(string)
    session_duration    = optional(string, "PT1H")
    managed_policy_arns = optional(set(string), [])
    inline_policy       = optional(string)
  }))
}

variable "groups" {
  description = "Entra groups and what they get in AWS: permission set names (keys of permission_sets) on account ids and on every account of organizational units (`ou-…`, or the root `r-…`)."
  type = map(object({
    entra_group_id          = string
    permission_sets         = set(string)
    account_ids             = optional(set(string), [])
    organizational_unit_ids = optional(set(string), [])
  }))
}
