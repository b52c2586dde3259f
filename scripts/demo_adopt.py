#!/usr/bin/env python3
"""The console-built integration the `scripts/demo.sh --adopt` run adopts: made by hand through the emulators' APIs,
as an administrator does in the Entra admin center and the IAM Identity Center console.

Creates the AWS IAM Identity Center gallery application (Entra ID > Enterprise applications > New application) and
two permission sets (IAM Identity Center > Permission sets > Create), then prints the `.tfquery.hcl` that finds
them. Run with the tools venv's Python (boto3 comes with moto).
"""
import json
import sys
import urllib.parse
import urllib.request

import boto3

TEMPLATE = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"
APP_NAME = "AWS IAM Identity Center (console)"
PERMISSION_SETS = {"ConsoleAdmins": "PT4H", "ConsoleReadOnly": "PT1H"}


def graph_token(e):
    form = urllib.parse.urlencode({
        "grant_type": "client_credentials", "client_id": e["client_id"], "client_secret": e["client_secret"],
        "scope": "https://graph.microsoft.com/.default",
    }).encode()
    request = urllib.request.Request(f"{e['login_url']}/{e['tenant_id']}/oauth2/v2.0/token", data=form, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["access_token"]


def main():
    e = json.load(open(sys.argv[1]))
    request = urllib.request.Request(
        f"{e['graph_url']}/v1.0/applicationTemplates/{TEMPLATE}/instantiate",
        data=json.dumps({"displayName": APP_NAME}).encode(),
        headers={"Authorization": f"Bearer {graph_token(e)}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        app = json.load(response)["application"]
    print(f"made by hand: application {app['displayName']} ({app['id']})", file=sys.stderr)
    sso = boto3.client("sso-admin", endpoint_url=e["aws_endpoint_url"], region_name=e["aws_region"],
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    for name, duration in PERMISSION_SETS.items():
        sso.create_permission_set(InstanceArn=e["sso_instance_arn"], Name=name, SessionDuration=duration,
                                  Description="made in the console")
        print(f"made by hand: permission set {name}", file=sys.stderr)
    print(f"""list "idbridge_entra_application" "console" {{
  provider         = idbridge
  include_resource = true
  config {{
    display_name_prefix = "{APP_NAME}"
  }}
}}

list "idbridge_permission_set" "console" {{
  provider         = idbridge
  include_resource = true
  config {{
    instance_arn = "{e['sso_instance_arn']}"
    name_prefix  = "Console"
  }}
}}""")


if __name__ == "__main__":
    main()
