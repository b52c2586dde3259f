#!/usr/bin/env bash
# Benchmark: GROUPS Entra groups x ACCOUNTS accounts x 1 permission set through real Terraform and the
# provider against the emulators (40 ms latency, asynchronous operations completing --complete-ms N ms
# after they start, quotas on): apply, refresh-only plan, a move of every assignment to another permission
# set, destroy. Prints numbers; asserts nothing.
# Usage: bench/assignments.sh [groups=50] [accounts=20] [--complete-ms N (default 200)] [--release]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${IDBRIDGE_TOOLS_DIR:-$ROOT/.tools}
TF=${TF_ACC_TERRAFORM_PATH:-$TOOLS/bin/terraform}
COMPLETE_MS=${COMPLETE_MS:-200}
PROFILE=debug
POSITIONAL=()
while [ $# -gt 0 ]; do
  case $1 in
    --complete-ms) COMPLETE_MS=$2; shift 2 ;;
    --complete-ms=*) COMPLETE_MS=${1#*=}; shift ;;
    --release) PROFILE=release; shift ;;
    *) POSITIONAL+=("$1"); shift ;;
  esac
done
N_GROUPS=${POSITIONAL[0]:-50}
N_ACCOUNTS=${POSITIONAL[1]:-20}
# bench/members.sh sets these: members per Entra group and more emulator options.
MEMBERS_PER_GROUP=${MEMBERS_PER_GROUP:-1}
EMULATOR_ARGS=${EMULATOR_ARGS:-}
TPS=20
# Other scenarios reuse this script (bench/org_targets.sh): their Terraform directory, a fixture script whose
# JSON output is merged into the variables, and the phases to run.
TF_SRC=${TF_SRC:-$ROOT/bench/assignments}
EXTRA_FIXTURES=${EXTRA_FIXTURES:-}
PHASES=${PHASES:-apply refresh move destroy}
SLOTS=10

(cd "$ROOT" && cargo build --workspace --bins --quiet)
if [ "$PROFILE" = release ]; then
  (cd "$ROOT" && cargo build --release --bin terraform-provider-idbridge --quiet)
fi
PROVIDER=$(readlink -f "$ROOT/target/$PROFILE/terraform-provider-idbridge")
EMULATORS=$ROOT/target/debug/idbridge-emulators

WORK=$(mktemp -d "${TMPDIR:-/tmp}/idbridge-bench.XXXXXX")
mkdir -p "$WORK/tf"
cp "$TF_SRC/main.tf" "$WORK/tf/"
echo "work dir: $WORK"

# The emulators stop when their stdin closes: hold a FIFO open for the script's lifetime.
mkfifo "$WORK/emulators.in"
IDBRIDGE_TOOLS_DIR=$TOOLS "$EMULATORS" start --json --latency-ms 40 --complete-ms "$COMPLETE_MS" --stop-on-stdin-eof $EMULATOR_ARGS \
  <"$WORK/emulators.in" >"$WORK/emulators.out" 2>"$WORK/emulators.log" &
EMULATORS_PID=$!
exec 3>"$WORK/emulators.in"
cleanup() {
  exec 3>&-
  kill "$EMULATORS_PID" 2>/dev/null || true
  wait "$EMULATORS_PID" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 1 240); do
  [ -s "$WORK/emulators.out" ] && break
  kill -0 "$EMULATORS_PID" 2>/dev/null || break
  sleep 0.5
done
ENDPOINTS=$(head -n 1 "$WORK/emulators.out")
[ -n "$ENDPOINTS" ] || { echo "emulators did not start; see $WORK/emulators.log" >&2; exit 1; }
AWS_URL=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["aws_endpoint_url"])' "$ENDPOINTS")

GRAPH_URL=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["graph_url"])' "$ENDPOINTS")

echo "fixtures: $N_GROUPS groups of $MEMBERS_PER_GROUP member(s), $N_ACCOUNTS accounts, 1 permission set (+1 to move to); complete-ms $COMPLETE_MS; $PROFILE provider"
python3 "$ROOT/bench/fixtures.py" "$N_GROUPS" "$N_ACCOUNTS" "$MEMBERS_PER_GROUP" <<<"$ENDPOINTS" >"$WORK/tf/terraform.tfvars.json"
echo '{}' >"$WORK/extra.json"
if [ -n "$EXTRA_FIXTURES" ]; then
  python3 "$EXTRA_FIXTURES" <<<"$ENDPOINTS" >"$WORK/extra.json"
  python3 - "$WORK/tf/terraform.tfvars.json" "$WORK/extra.json" <<'PY'
import json, sys
tfvars, extra = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
tfvars.update(extra.get("tfvars", {}))
json.dump(tfvars, open(sys.argv[1], "w"))
PY
fi

# Provider environment from the endpoints line.
eval "$(python3 - "$ENDPOINTS" <<'PY'
import json, shlex, sys
e = json.loads(sys.argv[1])
for k, v in {"ARM_TENANT_ID": e["tenant_id"], "ARM_CLIENT_ID": e["client_id"], "ARM_CLIENT_SECRET": e["client_secret"],
             "IDBRIDGE_GRAPH_ENDPOINT": e["graph_url"], "IDBRIDGE_LOGIN_ENDPOINT": e["login_url"],
             "AWS_ENDPOINT_URL": e["aws_endpoint_url"], "AWS_REGION": e["aws_region"], "AWS_ACCESS_KEY_ID": "testing",
             "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}.items():
    print(f"export {k}={shlex.quote(v)}")
PY
)"
cat >"$WORK/cli.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "registry.terraform.io/idbridge/idbridge" = "$(dirname "$PROVIDER")"
  }
  direct {}
}
TFRC
export TF_CLI_CONFIG_FILE=$WORK/cli.tfrc TF_IN_AUTOMATION=1
[ -e "$HOME/.terraformrc" ] || touch "$HOME/.terraformrc"

stats() { python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]+"/_proxy/stats").read().decode())' "$AWS_URL"; }
# The Graph emulator's request log (every request since start).
graph_log() { python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]+"/_emulator/requests").read().decode())' "$GRAPH_URL"; }

# Peak RSS of every provider process Terraform starts (VmHWM from /proc), sampled until told to stop.
watch_rss() {
  local out=$1 peak=0
  while [ ! -e "$out.stop" ]; do
    for exe in /proc/[0-9]*/exe; do
      if [ "$(readlink "$exe" 2>/dev/null)" = "$PROVIDER" ]; then
        local kb
        kb=$(awk '/VmHWM/ {print $2}' "${exe%/exe}/status" 2>/dev/null || echo 0)
        [ "${kb:-0}" -gt "$peak" ] && peak=$kb
      fi
    done
    echo "$peak" >"$out"
    sleep 0.2
  done
}

now() { date +%s.%N; }

run_phase() { # name, terraform args...
  local name=$1; shift
  stats >"$WORK/stats-before-$name.json"
  graph_log >"$WORK/graph-before-$name.json"
  rm -f "$WORK/rss-$name" "$WORK/rss-$name.stop"
  watch_rss "$WORK/rss-$name" &
  local watcher=$! start end status=0
  start=$(now)
  (cd "$WORK/tf" && "$TF" "$@" >"$WORK/$name.log" 2>&1) || status=$?
  end=$(now)
  touch "$WORK/rss-$name.stop"; wait "$watcher" || true
  stats >"$WORK/stats-after-$name.json"
  graph_log >"$WORK/graph-after-$name.json"
  echo "$status $(python3 -c "print(round($end - $start, 1))") $start $end" >"$WORK/$name.result"
}

for phase in $PHASES; do
  echo "$phase..."
  case $phase in
    apply) run_phase apply apply -auto-approve -input=false -parallelism=10 ;;
    refresh) run_phase refresh plan -refresh-only -input=false -parallelism=10 ;;
    plan) run_phase plan plan -input=false -parallelism=10 ;;
    move)
      (cd "$WORK/tf" && "$TF" show -json >"$WORK/state.json" 2>/dev/null) || echo '{}' >"$WORK/state.json"
      run_phase move apply -auto-approve -input=false -parallelism=10 -var moved=true
      (cd "$WORK/tf" && "$TF" show -json >"$WORK/state-moved.json" 2>/dev/null) || echo '{}' >"$WORK/state-moved.json"
      ;;
    destroy) run_phase destroy destroy -auto-approve -input=false -parallelism=10 -var moved=true ;;
  esac
done
[ -s "$WORK/state.json" ] || { (cd "$WORK/tf" && "$TF" show -json >"$WORK/state.json" 2>/dev/null) || echo '{}' >"$WORK/state.json"; }
[ -s "$WORK/state-moved.json" ] || echo '{}' >"$WORK/state-moved.json"
python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]+"/_proxy/calls").read().decode())' "$AWS_URL" >"$WORK/calls.json"

python3 - "$WORK" "$N_GROUPS" "$N_ACCOUNTS" "$TPS" "$SLOTS" "$COMPLETE_MS" "$PHASES" <<'PY'
import json, sys, re
work, groups, accounts, tps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
slots, complete_s = int(sys.argv[5]), int(sys.argv[6]) / 1000
phases = sys.argv[7].split()
extra = json.load(open(f"{work}/extra.json"))
assignments = groups * accounts
# The irreducible asynchronous operations of each phase (a move deletes and creates every assignment).
operations = {"apply": ("creates", assignments), "move": ("creates + deletes", 2 * assignments),
              "destroy": ("deletes", assignments)}
def load(name): return json.load(open(f"{work}/{name}"))
def delta(phase):
    a, b = load(f"stats-after-{phase}.json"), load(f"stats-before-{phase}.json")
    ops = {k: v - b["calls_by_operation"].get(k, 0) for k, v in a["calls_by_operation"].items()}
    ops = {k: v for k, v in ops.items() if v}
    return ops, a["total_calls"] - b["total_calls"], a["throttles"] - b["throttles"], a["conflicts"] - b["conflicts"]
def resources_of(name):
    state = load(name)
    return [r for r in state.get("values", {}).get("root_module", {}).get("resources", [])
            if r["type"] == "idbridge_group_assignment"]
def complete_in(resources, marker):
    return sum(1 for r in resources
               if len([a for a in (r["values"].get("assignments") or []) if marker(a)]) == accounts)
moved_arn = json.load(open(f"{work}/tf/terraform.tfvars.json"))["moved_permission_set_arn"]
resources = resources_of("state.json")
complete = complete_in(resources, lambda a: True)
moved = complete_in(resources_of("state-moved.json"), lambda a: moved_arn in json.dumps(a))
members = [r["values"].get("provisioned_member_count") for r in resources]
if any(m is not None for m in members):
    print(f"members in identity store groups: {sum(m or 0 for m in members)} "
          f"({sum(1 for r in resources if r['values'].get('missing_members'))} resources with missing members)")
failed = groups - complete
errors = {phase: len(re.findall(r"^.*Error: ", open(f"{work}/{phase}.log").read(), re.M))
          for phase in ("apply", "move", "destroy") if phase in phases}
call_log = load("calls.json")["calls"]
for phase in phases:
    status, wall, started, ended = open(f"{work}/{phase}.result").read().split()
    started, ended = float(started), float(ended)
    ops, total, throttles, conflicts = delta(phase)
    rss = open(f"{work}/rss-{phase}").read().strip() if True else "0"
    print(f"\n== {phase} (exit {status}) ==")
    print(f"wall time:            {wall} s")
    print(f"AWS API calls:        {total} ({throttles} throttled, {conflicts} conflicts answered)")
    for op, n in sorted(ops.items()):
        print(f"  {op:42} {n}")
    log = load(f"graph-after-{phase}.json")["requests"][len(load(f"graph-before-{phase}.json")["requests"]):]
    kinds = {}
    for r in log:
        path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|AWSSCIM[.\w-]*", "{id}", r["path"])
        kinds[f'{r["method"]} {path}'] = kinds.get(f'{r["method"]} {path}', 0) + 1
    print(f"Graph calls:          {len(log)} ({sum(1 for r in log if r['status'] == 429)} answered 429)")
    for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {kind:60} {n}")
    print(f"provider peak RSS:    {int(rss) / 1024:.1f} MiB")
    # Where the wall time goes: seconds after the phase started (Identity Center calls only).
    calls = [(ms / 1000 - started, op) for ms, op in call_log
             if started * 1000 <= ms <= ended * 1000 and not op.startswith("organizations:")]
    writes = [t for t, op in calls if op in ("CreateAccountAssignment", "DeleteAccountAssignment")]
    if calls:
        line = f"timeline (s):         first AWS call {calls[0][0]:.2f}"
        if writes:
            line += f", first write {writes[0]:.2f}, last write {writes[-1]:.2f}"
        print(line + f", last AWS call {calls[-1][0]:.2f}, exit {ended - started:.2f}")
    floor = total / tps
    print(f"quota floor:          {floor:.1f} s ({total} calls / {tps} TPS); ratio {float(wall) / floor if floor else 0:.2f}x")
    if phase in operations:
        label, n = operations[phase]
        physical = max(n / tps, n * complete_s / slots)
        print(f"physical floor: {physical:.1f} s ({label} / {tps} TPS vs {label} x T / {slots} slots); "
              f"ratio {float(wall) / physical:.2f}x")
        # Entra accepts 5 provisionOnDemand requests per 10 s per application: the last batch leaves at
        # (ceil(R / 5) - 1) x 10 s, and its groups' AWS operations (5 groups' worth) can only follow it.
        on_demand = sum(1 for r in log if r["path"].endswith("/provisionOnDemand") and r["status"] != 429)
        if on_demand:
            entra = (-(-on_demand // 5) - 1) * 10
            tail_n = n * min(5, on_demand) / on_demand
            tail = max(tail_n / tps, tail_n * complete_s / slots)
            bound = max(physical, entra + tail)
            print(f"Entra pacing floor: {entra:.1f} s ({on_demand} on-demand requests / 5 per 10 s) "
                  f"+ {tail:.1f} s for the last batch's {label}; ratio to max(both floors) {float(wall) / bound:.2f}x")
    if phase == "refresh":
        pairs = accounts  # one permission set
        listing = ops.get("ListAccountAssignments", 0) + ops.get("ListAccountAssignmentsForPrincipal", 0)
        print(f"assignment reads:     {listing} for {pairs} (account, permission set) pairs ({listing / pairs:.2f} per pair)")
    org_reads = sum(n for op, n in ops.items() if op.startswith("organizations:"))
    if "ou_count" in extra:
        ous = extra["ou_count"]
        print(f"Organizations reads:  {org_reads} pages for {ous} OUs and {extra['account_count']} accounts "
              f"(target: at most {ous + 1}, the OUs + 1; accounts are listed once with their paths, 20 per page)")
if "apply" in phases:
    print(f"\nresources: {len(resources)} in state, {complete} complete, failed resources: {failed} (apply errors: {errors['apply']})")
if "move" in phases:
    print(f"moved: {moved} of {groups} resources on the other permission set (move errors: {errors['move']}); "
          f"destroy errors: {errors.get('destroy', 0)}")
PY
