"""Bench fixtures made directly through the emulators' APIs (stdlib only): the enterprise app with a
provisioning job pointed at the SCIM endpoint, N Entra groups with one member each, one permission set.
Reads the emulators' JSON line on stdin; prints a terraform.tfvars.json document on stdout."""
import json
import sys
import urllib.parse
import urllib.request

TEMPLATE = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"
GROUPS = int(sys.argv[1]) if len(sys.argv) > 1 else 50
ACCOUNTS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
MEMBERS = int(sys.argv[3]) if len(sys.argv) > 3 else 1
ep = json.loads(sys.stdin.readline())


def call(method, url, body=None, headers=None, form=False):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded" if form else "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req) as resp:
        text = resp.read().decode()
        return json.loads(text) if text.strip() else None


token = call("POST", f"{ep['login_url']}/{ep['tenant_id']}/oauth2/v2.0/token", {
    "grant_type": "client_credentials", "client_id": ep["client_id"], "client_secret": ep["client_secret"],
    "scope": "https://graph.microsoft.com/.default"}, form=True)["access_token"]
auth = {"Authorization": f"Bearer {token}"}
graph = ep["graph_url"] + "/v1.0"

created = call("POST", f"{graph}/applicationTemplates/{TEMPLATE}/instantiate", {"displayName": "bench-aws"}, auth)
app_id, sp_id = created["application"]["id"], created["servicePrincipal"]["id"]
template = call("GET", f"{graph}/servicePrincipals/{sp_id}/synchronization/templates", None, auth)["value"][0]["id"]
call("POST", f"{graph}/servicePrincipals/{sp_id}/synchronization/jobs", {"templateId": template}, auth)
call("PUT", f"{graph}/servicePrincipals/{sp_id}/synchronization/secrets", {"value": [
    {"key": "BaseAddress", "value": ep["scim_endpoint"]}, {"key": "SecretToken", "value": ep["scim_token"]}]}, auth)

group_ids = []
for i in range(GROUPS):
    name = f"bench-group-{i:03d}"
    group = call("POST", f"{graph}/groups", {"displayName": name, "mailEnabled": False, "mailNickname": name,
                                             "securityEnabled": True}, auth)
    for m in range(MEMBERS):
        member = f"{name}-member" if m == 0 else f"{name}-member{m:02d}"
        user = call("POST", f"{graph}/users", {
            "accountEnabled": True, "displayName": f"{member}", "mailNickname": member,
            "passwordProfile": {"password": "Emulator-Only-1!"}, "userPrincipalName": f"{member}@example.com",
            "givenName": "Bench", "surname": name}, auth)
        call("POST", f"{graph}/groups/{group['id']}/members/$ref",
             {"@odata.id": f"{graph}/directoryObjects/{user['id']}"}, auth)
    group_ids.append(group["id"])

def create_permission_set(name):
    return call("POST", ep["aws_endpoint_url"] + "/", {"InstanceArn": ep["sso_instance_arn"], "Name": name,
                                                       "SessionDuration": "PT1H"}, {
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "SWBExternalService.CreatePermissionSet",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sso/aws4_request, "
                         "SignedHeaders=host, Signature=00"})["PermissionSet"]["PermissionSetArn"]


json.dump({
    "application_id": app_id,
    "group_ids": group_ids,
    "permission_set_arn": create_permission_set("bench-ps"),
    "moved_permission_set_arn": create_permission_set("bench-ps-moved"),
    "account_ids": [f"{100000000000 + i:012d}" for i in range(ACCOUNTS)],
}, sys.stdout, indent=1)
