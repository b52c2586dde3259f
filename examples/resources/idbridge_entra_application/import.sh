# Import with the application's object ID (Entra ID > App registrations > the application > Object ID).
terraform import idbridge_entra_application.aws 00000000-1111-2222-3333-444444444444
