#!/usr/bin/env python3
"""The console-built integration the `scripts/demo.sh --adopt` run adopts: made by hand through the emulators' APIs,
as an administrator does in the Entra admin center and the IAM Identity Center console.

Creates the AWS IAM Identity Center gallery application (Enterprise applications > New application), sets up its
SAML single sign-on and automatic provisioning (SCIM endpoint and token, then "Start provisioning"), assigns a
group with one member to it, waits for the provisioning cycle to bring the group to the Identity Store, makes two
permission sets (IAM Identity Center > Permission sets > Create) and assigns the group on one account with one of
them. Then prints the `.tfquery.hcl` that finds all of it. Run with the tools venv's Python (boto3 comes with moto).
"""
import json
import sys
import time
import urllib.parse
import urllib.request

import boto3

TEMPLATE = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"
APP_NAME = "AWS IAM Identity Center (console)"
GROUP_NAME = "Console-Admins"
PERMISSION_SETS = {"ConsoleAdmins": "PT4H", "ConsoleReadOnly": "PT1H"}
ACCOUNT = "111111111111"
# What the IAM Identity Center console shows as the AWS side of the SAML trust (the demo's values).
ENTITY_ID = "https://eu-west-1.signin.aws.amazon.com/platform/saml/d-9067a1b2c3"
ACS_URL = "https://eu-west-1.signin.aws.amazon.com/platform/saml/acs/0f6c1d2e-3a4b-4c5d-9e8f-7a6b5c4d3e2f"


class Graph:
    def __init__(self, e):
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": e["client_id"], "client_secret": e["client_secret"],
            "scope": "https://graph.microsoft.com/.default",
        }).encode()
        request = urllib.request.Request(f"{e['login_url']}/{e['tenant_id']}/oauth2/v2.0/token", data=form,
                                         method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            self.token = json.load(response)["access_token"]
        self.base = f"{e['graph_url']}/v1.0"

    def __call__(self, method, path, body=None):
        request = urllib.request.Request(
            f"{self.base}{path}", data=None if body is None else json.dumps(body).encode(), method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else {}


def made(what):
    print(f"made by hand: {what}", file=sys.stderr)


def main():
    e = json.load(open(sys.argv[1]))
    graph = Graph(e)
    created = graph("POST", f"/applicationTemplates/{TEMPLATE}/instantiate", {"displayName": APP_NAME})
    app, sp = created["application"], created["servicePrincipal"]["id"]
    made(f"application {app['displayName']} ({app['id']})")

    # Single sign-on > SAML: Identifier and Reply URL from the AWS console, a signing certificate made active.
    graph("PATCH", f"/applications/{app['id']}", {"identifierUris": [ENTITY_ID], "web": {"redirectUris": [ACS_URL]}})
    certificate = graph("POST", f"/servicePrincipals/{sp}/addTokenSigningCertificate",
                        {"displayName": "CN=Microsoft Azure Federated SSO Certificate"})
    graph("PATCH", f"/servicePrincipals/{sp}", {"preferredSingleSignOnMode": "saml",
                                                "preferredTokenSigningKeyThumbprint": certificate["thumbprint"]})
    made("SAML single sign-on")

    # Provisioning > Automatic: the SCIM endpoint and token AWS gave, then Start provisioning.
    template = graph("GET", f"/servicePrincipals/{sp}/synchronization/templates")["value"][0]["id"]
    job = graph("POST", f"/servicePrincipals/{sp}/synchronization/jobs", {"templateId": template})["id"]
    graph("PUT", f"/servicePrincipals/{sp}/synchronization/secrets", {"value": [
        {"key": "BaseAddress", "value": e["scim_endpoint"]}, {"key": "SecretToken", "value": e["scim_token"]},
    ]})

    # Users and groups > Add user/group: a group with one member, with the application's User role.
    group = graph("POST", "/groups", {"displayName": GROUP_NAME, "mailEnabled": False,
                                      "mailNickname": GROUP_NAME, "securityEnabled": True})["id"]
    member = graph("POST", "/users", {
        "accountEnabled": True, "displayName": "Console Admin", "givenName": "Console", "surname": "Admin",
        "mailNickname": "console-admin", "userPrincipalName": "console-admin@example.com",
        "passwordProfile": {"password": "Emulator-Only-1!"},
    })["id"]
    graph("POST", f"/groups/{group}/members/$ref", {"@odata.id": f"{graph.base}/directoryObjects/{member}"})
    role = next(r["id"] for r in graph("GET", f"/servicePrincipals/{sp}")["appRoles"] if r["displayName"] == "User")
    graph("POST", f"/servicePrincipals/{sp}/appRoleAssignedTo",
          {"principalId": group, "resourceId": sp, "appRoleId": role})
    graph("POST", f"/servicePrincipals/{sp}/synchronization/jobs/{job}/start")
    made(f"provisioning (job {job}) and the group {GROUP_NAME} assigned")

    aws = {"endpoint_url": e["aws_endpoint_url"], "region_name": e["aws_region"],
           "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    store = boto3.client("identitystore", **aws)
    group_in_store = None
    for _ in range(120):  # the provisioning cycle (every few seconds in the emulators; ~40 min in Entra)
        try:
            group_in_store = store.get_group_id(
                IdentityStoreId=e["identity_store_id"],
                AlternateIdentifier={"UniqueAttribute": {"AttributePath": "displayName",
                                                         "AttributeValue": GROUP_NAME}})["GroupId"]
            break
        except store.exceptions.ResourceNotFoundException:
            time.sleep(0.5)
    if group_in_store is None:
        sys.exit(f"the provisioning cycle did not bring {GROUP_NAME} to the Identity Store")

    sso = boto3.client("sso-admin", **aws)
    arns = {}
    for name, duration in PERMISSION_SETS.items():
        arns[name] = sso.create_permission_set(InstanceArn=e["sso_instance_arn"], Name=name, SessionDuration=duration,
                                               Description="made in the console")["PermissionSet"]["PermissionSetArn"]
        made(f"permission set {name}")
    sso.create_account_assignment(InstanceArn=e["sso_instance_arn"], TargetId=ACCOUNT, TargetType="AWS_ACCOUNT",
                                  PermissionSetArn=arns["ConsoleAdmins"], PrincipalType="GROUP",
                                  PrincipalId=group_in_store)
    made(f"{GROUP_NAME} assigned on {ACCOUNT} as ConsoleAdmins")

    def listing(type_name, config):
        return (f'list "{type_name}" "console" {{\n  provider         = idbridge\n  include_resource = true\n'
                f'  config {{\n    {config}\n  }}\n}}\n')
    by_application = f'application_id = "{app["id"]}"'
    print("\n".join([
        listing("idbridge_entra_application", f'display_name_prefix = "{APP_NAME}"'),
        listing("idbridge_saml_trust", by_application),
        listing("idbridge_scim_provisioning", by_application),
        listing("idbridge_group_assignment", by_application),
        listing("idbridge_permission_set", f'instance_arn = "{e["sso_instance_arn"]}"\n    name_prefix  = "Console"'),
    ]))


if __name__ == "__main__":
    main()
