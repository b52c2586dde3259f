"""Fixtures of bench/org_targets.sh: an AWS organization in the emulators (moto's Organizations through the AWS
proxy) with the OU tree root -> workloads -> {prod, staging, dev, sandbox}, 25 accounts in each leaf OU.

Reads the emulators' JSON line on stdin; prints {"tfvars": {...}, "ou_count": N, "account_count": N}."""

import json
import sys
import urllib.request

LEAVES = ["prod", "staging", "dev", "sandbox"]
ACCOUNTS_PER_LEAF = 25

endpoints = json.loads(sys.stdin.readline())
AWS = endpoints["aws_endpoint_url"]


def org(op, body):
    request = urllib.request.Request(
        f"{AWS}/",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSOrganizationsV20161128.{op}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/organizations/aws4_request, "
            "SignedHeaders=host, Signature=00",
        },
    )
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read() or b"{}")


org("CreateOrganization", {"FeatureSet": "ALL"})
root = org("ListRoots", {})["Roots"][0]["Id"]
workloads = org("CreateOrganizationalUnit", {"ParentId": root, "Name": "workloads"})["OrganizationalUnit"]["Id"]
accounts = 0
for leaf in LEAVES:
    ou = org("CreateOrganizationalUnit", {"ParentId": workloads, "Name": leaf})["OrganizationalUnit"]["Id"]
    for i in range(ACCOUNTS_PER_LEAF):
        name = f"{leaf}-{i}"
        account = org("CreateAccount", {"AccountName": name, "Email": f"{name}@example.com"})
        account_id = account["CreateAccountStatus"]["AccountId"]
        org("MoveAccount", {"AccountId": account_id, "SourceParentId": root, "DestinationParentId": ou})
        accounts += 1

json.dump({"tfvars": {"ou_ids": [workloads]}, "ou_count": 1 + len(LEAVES), "account_count": accounts}, sys.stdout)
