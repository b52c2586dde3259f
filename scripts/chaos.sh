#!/usr/bin/env bash
# Runs examples/complete against the local emulators under mixed faults and reports how the provider coped:
# Graph answers 429 (Retry-After), 503/504, drops connections and adds latency, creating calls lose their
# answers after the server acted, and AWS runs at a quarter of its 20 TPS quota with latency on every call and
# one call in ten failing inside the service (HTTP 500).
#
#   scripts/chaos.sh            apply until converged (at most 5 applies), check the re-plan, destroy, report
#
# Prints: applies needed to converge, retries (the provider's debug log and the faulted answers the emulators
# logged), duplicates (gallery apps, provisioning jobs, app role assignments: must be 0) and orphans after destroy
# (must be 0). Exits non-zero when it does not converge or finds a duplicate or an orphan. Not part of
# scripts/test.sh: it measures, it does not gate. Work files are in .work/chaos/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

scripts/setup.sh >/dev/null
export IDBRIDGE_TOOLS_DIR="${IDBRIDGE_TOOLS_DIR:-$repo/.tools}"
terraform="$IDBRIDGE_TOOLS_DIR/bin/terraform"
python="$IDBRIDGE_TOOLS_DIR/venv/bin/python"
cargo build --quiet --bins -p terraform-provider-idbridge -p idbridge-emulators
target="${CARGO_TARGET_DIR:-$repo/target}/debug"

work="$repo/.work/chaos"
source scripts/local-clouds.sh
example_workdir "$work" "$target"
export TF_LOG_PROVIDER=DEBUG TF_LOG_PATH="$work/provider-debug.log"
tf() { "$terraform" -chdir="$work/config" "$@"; }

start_local_clouds "$work" "$target"
python3 scripts/demo_fixtures.py "$work/endpoints.json" "$work/aws-sso-metadata.xml" >"$work/config/terraform.tfvars.json"
report() { "$python" scripts/chaos_report.py "$1" "$work/endpoints.json"; }

tf init -input=false -no-color >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }
report faults
started=$SECONDS
applies=0 converged=false
while (( applies < 5 )); do
  applies=$((applies + 1))
  if tf apply -auto-approve -input=false -no-color >"$work/apply-$applies.log" 2>&1; then converged=true; break; fi
  echo "apply $applies failed: $(grep -m1 'Error:' "$work/apply-$applies.log" || true)"
done
apply_seconds=$((SECONDS - started))
set +e
tf plan -detailed-exitcode -input=false -no-color >"$work/plan.log" 2>&1
plan_status=$?
set -e
report calm   # the counts are read without faults; destroy runs under them again
after_apply="$(report count)"
report faults
destroys=0 destroyed=false
while (( destroys < 3 )); do
  destroys=$((destroys + 1))
  if tf destroy -auto-approve -input=false -no-color >"$work/destroy-$destroys.log" 2>&1; then destroyed=true; break; fi
done
retries_seen="$(report retries)"
report calm
after_destroy="$(report count)"

"$python" - "$converged" "$applies" "$apply_seconds" "$plan_status" "$destroyed" "$destroys" \
  "$after_apply" "$retries_seen" "$after_destroy" "$work/provider-debug.log" <<'PY'
import json, sys
converged, applies, seconds, plan_status, destroyed, destroys = sys.argv[1:7]
after_apply, retries, after_destroy = (json.loads(a) for a in sys.argv[7:10])
log = open(sys.argv[10], errors="replace").read() if sys.argv[10] else ""
duplicates = after_apply["duplicate_gallery_apps"] + after_apply["duplicate_jobs"] + \
    after_apply["duplicate_role_assignments"] + after_apply["temporary_named_apps"]
orphans = after_destroy["gallery_apps"] + after_destroy["provisioning_jobs"] + after_destroy["claims_policies"] + \
    after_destroy["permission_sets"]
print(f"applies to converge:   {applies if converged == 'true' else 'did not converge in ' + applies} ({seconds} s)")
print(f"re-plan after apply:   {'no changes' if plan_status == '0' else 'exit ' + plan_status}")
print(f"retries (provider):    graph {log.count('retrying graph request')}, aws {log.count('retrying AWS call')}, "
      f"look-backs after lost answers {log.count('failed ambiguously')}")
print(f"faulted answers:       graph {retries['graph_faulted_answers']} of {retries['graph_requests']} requests, "
      f"aws throttles {retries['aws_throttles']} and server errors {retries['aws_server_errors']} of {retries['aws_calls']} calls")
print(f"duplicates:            {duplicates} {after_apply}")
print(f"destroy:               {'ok' if destroyed == 'true' else 'failed'} after {destroys} run(s)")
print(f"orphans after destroy: {orphans} {after_destroy}")
sys.exit(0 if converged == "true" and plan_status == "0" and destroyed == "true" and duplicates == 0 and orphans == 0 else 1)
PY
