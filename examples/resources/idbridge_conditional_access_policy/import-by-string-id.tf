import {
  to = idbridge_conditional_access_policy.aws_mfa
  id = "00000000-0000-0000-0000-000000000000" # the policy ID
}
