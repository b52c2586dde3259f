import {
  to = idbridge_conditional_access_policy.require_mfa
  identity = {
    id = "00000000-0000-0000-0000-000000000000"
  }
}
