# <application object id>/<Entra user object id>
import {
  to = idbridge_user_assignment.break_glass
  id = "9a8b7c6d-1111-2222-3333-444455556666/5c4b3a29-1807-4f6e-9d8c-7b6a59483726"
}
