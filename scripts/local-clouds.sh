# shellcheck shell=bash
# Sourced by scripts/demo.sh and scripts/chaos.sh (defines functions only): a work copy of examples/complete
# wired to the locally built provider, and the local clouds started beside it.

# example_workdir WORK TARGET: WORK/config is a fresh copy of examples/complete; Terraform is pointed at the
# provider binary in TARGET through WORK/terraformrc.
example_workdir() {
  local work=$1 target=$2
  rm -rf "$work"
  mkdir -p "$work"
  cp -r examples/complete "$work/config"
  cat > "$work/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/idbridge/idbridge" = "$target"
  }
  direct {}
}
RC
  export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
}

# start_local_clouds WORK TARGET: starts the emulators from TARGET (endpoints in WORK/endpoints.json, log in
# WORK/emulators.log) and exports the provider's environment for them. They stop when this shell exits, even
# when it is killed: they read their stdin, a FIFO held open on fd 3.
start_local_clouds() {
  local work=$1 target=$2
  mkfifo "$work/emulators.stdin"
  "$target/idbridge-emulators" start --json --stop-on-stdin-eof --provisioning-interval-secs 5 \
    <"$work/emulators.stdin" >"$work/endpoints.json" 2>"$work/emulators.log" &
  emulators_pid=$!
  exec 3>"$work/emulators.stdin"
  trap 'exec 3>&-; wait "$emulators_pid" 2>/dev/null || true' EXIT
  # moto and the botocore models load in seconds, but a loaded machine can take a minute or more.
  for _ in $(seq 1 1800); do
    [[ -s "$work/endpoints.json" ]] && break
    kill -0 "$emulators_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -s "$work/endpoints.json" ]] || { cat "$work/emulators.log" >&2; echo "emulators did not start" >&2; exit 1; }
  eval "$(python3 - "$work/endpoints.json" <<'PY'
import json, shlex, sys
e = json.load(open(sys.argv[1]))
env = {
    "ARM_TENANT_ID": e["tenant_id"], "ARM_CLIENT_ID": e["client_id"], "ARM_CLIENT_SECRET": e["client_secret"],
    "ARM_USE_CLI": "false",
    "IDBRIDGE_GRAPH_ENDPOINT": e["graph_url"], "IDBRIDGE_LOGIN_ENDPOINT": e["login_url"],
    "AWS_ENDPOINT_URL": e["aws_endpoint_url"], "AWS_REGION": e["aws_region"],
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
    "TF_VAR_scim_token": e["scim_token"],
}
for k, v in env.items():
    print(f"export {k}={shlex.quote(v)}")
PY
)"
}
