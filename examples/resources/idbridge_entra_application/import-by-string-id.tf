import {
  to = idbridge_entra_application.aws
  id = "00000000-1111-2222-3333-444444444444"
}
