# <application object id>/<Entra group object id>
import {
  to = idbridge_group_assignment.platform_admins
  id = "9a8b7c6d-1111-2222-3333-444455556666/3f2b8c1e-5d4a-4e7b-9c6f-0a1b2c3d4e5f"
}
