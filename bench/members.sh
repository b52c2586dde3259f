#!/usr/bin/env bash
# Benchmark: members provisioned on demand. GROUPS Entra groups of MEMBERS users each, one account, through
# real Terraform against the emulators with the scheduled provisioning cycle an hour away, so every member
# reaches AWS on demand (group + at most 5 members per request, 5 requests per 10 s per job). Prints the
# wall time, the Graph calls (provisionOnDemand and member reads) and the AWS calls; asserts nothing.
# Usage: bench/members.sh [groups=50] [members=20]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MEMBERS_PER_GROUP=${2:-20} EMULATOR_ARGS="--provisioning-interval-secs 3600" \
  exec "$ROOT/bench/assignments.sh" "${1:-50}" 1
