#!/usr/bin/env python3
"""Fault injection and bookkeeping for scripts/chaos.sh, against the local emulators.

  chaos_report.py faults ENDPOINTS     install the mixed Graph faults and throttle the AWS proxy
  chaos_report.py calm ENDPOINTS       remove them
  chaos_report.py count ENDPOINTS      print JSON: objects in the emulators that the example creates
  chaos_report.py retries ENDPOINTS    print JSON: faulted answers in the Graph request log, AWS throttles

Runs with the tools venv's Python: boto3 (installed with moto) reads AWS through the proxy.
"""
import collections
import json
import sys

from demo_fixtures import call  # the same stdlib HTTP helper as the demo's fixtures

GALLERY_TEMPLATE = "21ed01d2-ec13-4e9e-86c1-cd546719ebc4"

# One Graph request in ~4 meets a fault: throttling (with Retry-After), server errors before and after the server
# acted, dropped connections before and after, latency. Creating calls get the "answer lost" faults on purpose.
GRAPH_FAULTS = [
    {"path": "^/v1\\.0/applicationTemplates/[^/]+/instantiate$", "method": "POST", "status": 503,
     "afterHandler": True, "probability": 0.5},
    {"path": "^/v1\\.0/servicePrincipals/[^/]+/appRoleAssignedTo$", "method": "POST", "dropConnection": True,
     "afterHandler": True, "probability": 0.3},
    {"path": "^/v1\\.0/servicePrincipals/[^/]+/synchronization/jobs$", "method": "POST", "status": 502,
     "afterHandler": True, "probability": 0.5},
    {"path": "^/v1\\.0/", "status": 429, "retryAfterSeconds": 1, "probability": 0.08},
    {"path": "^/v1\\.0/", "status": 503, "probability": 0.05},
    {"path": "^/v1\\.0/", "status": 504, "probability": 0.03},
    {"path": "^/v1\\.0/", "dropConnection": True, "probability": 0.05},
    {"path": "^/v1\\.0/", "delayMs": 300, "probability": 0.05},
]
# Throttled AWS: a quarter of the real 20 TPS quota, and latency on every call.
AWS_PROXY = {"tps_limit": 5, "burst": 5, "latency_ms": 40, "server_error_percent": 10}


class Clouds:
    def __init__(self, endpoints_path):
        self.e = json.load(open(endpoints_path))
        self.graph = self.e["graph_url"].rstrip("/")
        self.proxy = self.e["aws_endpoint_url"].rstrip("/")
        self._token = None

    def token(self):
        if self._token is None:
            self._token = call("POST", f"{self.e['login_url'].rstrip('/')}/{self.e['tenant_id']}/oauth2/v2.0/token",
                               form={"grant_type": "client_credentials", "client_id": self.e["client_id"],
                                     "client_secret": self.e["client_secret"],
                                     "scope": "https://graph.microsoft.com/.default"})["access_token"]
        return self._token

    def get_all(self, path):
        items, url = [], f"{self.graph}/v1.0{path}"
        while url:
            page = call("GET", url, self.token())
            items += page.get("value", [])
            url = page.get("@odata.nextLink")
        return items

    def admin(self, method, path, body=None):
        return call(method, f"{self.graph}/_emulator{path}", body=body)

    def permission_sets(self):
        import boto3  # in the tools venv, with moto
        client = boto3.client("sso-admin", endpoint_url=self.proxy, region_name=self.e["aws_region"],
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        total = 0
        for instance in client.list_instances()["Instances"]:
            for page in client.get_paginator("list_permission_sets").paginate(InstanceArn=instance["InstanceArn"]):
                total += len(page["PermissionSets"])
        return total


def count(clouds):
    apps = [a for a in clouds.get_all("/applications") if a.get("applicationTemplateId") == GALLERY_TEMPLATE]
    names = collections.Counter(a["displayName"] for a in apps)
    jobs = duplicate_jobs = duplicate_role_assignments = 0
    for app in apps:
        for sp in clouds.get_all(f"/servicePrincipals?$filter=appId%20eq%20%27{app['appId']}%27"):
            templates = collections.Counter(
                j.get("templateId") for j in clouds.get_all(f"/servicePrincipals/{sp['id']}/synchronization/jobs"))
            jobs += sum(templates.values())
            duplicate_jobs += sum(n - 1 for n in templates.values())
            pairs = collections.Counter(
                (a["principalId"], a["appRoleId"]) for a in clouds.get_all(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo"))
            duplicate_role_assignments += sum(n - 1 for n in pairs.values())
    policies = clouds.get_all("/policies/claimsMappingPolicies")
    permission_sets = clouds.permission_sets()
    return {
        "gallery_apps": len(apps),
        "duplicate_gallery_apps": sum(n - 1 for n in names.values()),
        "temporary_named_apps": sum(1 for a in apps if "(creating " in a["displayName"]),
        "provisioning_jobs": jobs,
        "duplicate_jobs": duplicate_jobs,
        "duplicate_role_assignments": duplicate_role_assignments,
        "claims_policies": len(policies),
        "permission_sets": permission_sets,
    }


def retries(clouds):
    log = clouds.admin("GET", "/requests")["requests"]
    faulted = collections.Counter(r["status"] for r in log if r["status"] in (0, 429, 500, 502, 503, 504))
    stats = call("GET", f"{clouds.proxy}/_proxy/stats")
    return {"graph_requests": len(log), "graph_faulted_answers": dict(faulted),
            "aws_calls": stats.get("total_calls"), "aws_throttles": stats.get("throttles"),
            "aws_server_errors": stats.get("server_errors")}


def main():
    command, clouds = sys.argv[1], Clouds(sys.argv[2])
    if command == "faults":
        for rule in GRAPH_FAULTS:
            clouds.admin("POST", "/faults", rule)
        current = call("GET", f"{clouds.proxy}/_proxy/config")
        call("PUT", f"{clouds.proxy}/_proxy/config", body={**current, **AWS_PROXY})
    elif command == "calm":
        clouds.admin("DELETE", "/faults")
    elif command == "count":
        print(json.dumps(count(clouds)))
    elif command == "retries":
        print(json.dumps(retries(clouds)))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
