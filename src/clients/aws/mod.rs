//! AWS IAM Identity Center clients.
