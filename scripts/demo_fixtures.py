#!/usr/bin/env python3
"""Directory fixtures for the local demo: what a tenant already has before the provider runs.

Creates the Entra groups AWS-Admins, AWS-Developers and AWS-ReadOnly (one member each) in the Graph emulator, an
AWS organization with a "workloads" OU holding two accounts (moto's Organizations, through the AWS proxy), and
writes the SAML metadata file IAM Identity Center would let you download for the emulated instance.
Prints a tfvars JSON document on stdout. Standard library only: a fresh machine has no requests/curl.
"""
import json
import sys
import urllib.parse
import urllib.request

GROUPS = ["AWS-Admins", "AWS-Developers", "AWS-ReadOnly"]


def call(method, url, token=None, body=None, form=None):
    headers = {}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else None


def organizations(aws_url, op, body):
    request = urllib.request.Request(f"{aws_url.rstrip('/')}/", data=json.dumps(body).encode(), headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"AWSOrganizationsV20161128.{op}",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/organizations/aws4_request, "
                         "SignedHeaders=host, Signature=00",
    })
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else {}


def workloads_ou(aws_url):
    """The organization's "workloads" OU with two accounts in it: what examples/complete's OU target reads."""
    organizations(aws_url, "CreateOrganization", {"FeatureSet": "ALL"})
    root = organizations(aws_url, "ListRoots", {})["Roots"][0]["Id"]
    ou = organizations(aws_url, "CreateOrganizationalUnit", {"ParentId": root, "Name": "workloads"})
    ou_id = ou["OrganizationalUnit"]["Id"]
    for name in ("workload-a", "workload-b"):
        created = organizations(aws_url, "CreateAccount", {"AccountName": name, "Email": f"{name}@contoso.example"})
        account = created["CreateAccountStatus"]["AccountId"]
        organizations(aws_url, "MoveAccount", {"AccountId": account, "SourceParentId": root,
                                               "DestinationParentId": ou_id})
    return ou_id


def sp_metadata(region, identity_store_id, acs_id):
    entity = f"https://{region}.signin.aws.amazon.com/platform/saml/{identity_store_id}"
    acs = f"https://{region}.signin.aws.amazon.com/platform/saml/acs/{acs_id}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
        Location="{acs}" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
"""


def main():
    endpoints = json.load(open(sys.argv[1]))
    metadata_path = sys.argv[2]
    base = endpoints["graph_url"].rstrip("/")
    token = call(
        "POST",
        f"{endpoints['login_url'].rstrip('/')}/{endpoints['tenant_id']}/oauth2/v2.0/token",
        form={
            "grant_type": "client_credentials",
            "client_id": endpoints["client_id"],
            "client_secret": endpoints["client_secret"],
            "scope": "https://graph.microsoft.com/.default",
        },
    )["access_token"]
    group_ids = {}
    member_upns = {}
    for name in GROUPS:
        group = call("POST", f"{base}/v1.0/groups", token, {
            "displayName": name, "mailEnabled": False, "mailNickname": name.lower(), "securityEnabled": True,
        })
        nickname = name.lower().replace("aws-", "") + ".user"
        user = call("POST", f"{base}/v1.0/users", token, {
            "accountEnabled": True,
            "displayName": f"{name} member",
            "givenName": name.split("-")[1],
            "surname": "Member",
            "mailNickname": nickname,
            "userPrincipalName": f"{nickname}@contoso.example",
            "passwordProfile": {"password": "Demo-Passw0rd!", "forceChangePasswordNextSignIn": False},
        })
        call("POST", f"{base}/v1.0/groups/{group['id']}/members/$ref", token, {
            "@odata.id": f"{base}/v1.0/directoryObjects/{user['id']}",
        })
        group_ids[name] = group["id"]
        member_upns[name] = user["userPrincipalName"]
    with open(metadata_path, "w") as out:
        out.write(sp_metadata(endpoints["aws_region"], endpoints["identity_store_id"],
                              "4d5e6f70-8192-4a3b-9c4d-5e6f708192a3"))
    if len(sys.argv) > 3:
        # The users whose sign-in the demo previews at the end (examples/complete's preview_users).
        with open(sys.argv[3], "w") as out:
            json.dump({"preview_users": member_upns}, out, indent=2)
    json.dump({
        "aws_metadata_file": metadata_path,
        "scim_endpoint": endpoints["scim_endpoint"],
        "entra_group_ids": group_ids,
        "dev_account_ids": ["111111111111", "222222222222"],
        "production_account_ids": ["333333333333"],
        "workloads_ou_id": workloads_ou(endpoints["aws_endpoint_url"]),
    }, sys.stdout, indent=2)


if __name__ == "__main__":
    main()
