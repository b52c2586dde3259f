import {
  to = idbridge_scim_provisioning.aws
  id = "00000000-0000-0000-0000-000000000000"
}
