#!/usr/bin/env bash
# Runs every check of the project, in order, and prints a summary; exits non-zero if any stage fails.
#   setup   scripts/setup.sh (pinned Terraform + moto in .tools/)
#   build   cargo build --workspace --bins (the provider and emulator binaries the acceptance tests launch)
#   fmt     cargo fmt --all --check
#   clippy  cargo clippy --workspace --all-targets -- -D warnings
#   test    cargo test --workspace with TF_ACC=1: unit tests and acceptance tests against real Terraform 1.15.5
#   engines the representative acceptance subset (below) on every other engine setup.sh installed, 1.11 and newer
#   demo    scripts/demo.sh: examples/complete applied, re-planned (must be empty) and destroyed on the local clouds
# Setup and build failures stop the run (nothing after them can work); fmt, clippy, test, engines and demo always
# all run.
#
# Knobs: IDBRIDGE_TOOLS_DIR (tools location, default .tools), IDBRIDGE_TEST_THREADS (parallel tests per test
# binary, default 2: each acceptance test runs Terraform plus the provider, and the reference machine has 2 cores),
# IDBRIDGE_ENGINES (space-separated Terraform versions for the engines stage, default: all installed >= 1.11 but
# the main one; "none" skips the stage), TF_ACC_TERRAFORM_PATH (the engine of the test stage, default
# .tools/bin/terraform).
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export IDBRIDGE_TOOLS_DIR="${IDBRIDGE_TOOLS_DIR:-$repo/.tools}"
threads="${IDBRIDGE_TEST_THREADS:-2}"
log_dir="$repo/.work/test-logs"
mkdir -p "$log_dir"
test_log="$log_dir/cargo-test.log"
engines_log="$log_dir/engines.log"

# Run on every engine besides the main one: each resource's lifecycle (scim_provisioning's carries the write-only
# token), the provider function, and the filesystem-mirror install. <test file>:<test name>; a name that no longer
# exists fails the stage (the count of tests that ran is checked).
engine_subset=(
  entra_application:entra_application_lifecycle
  saml_trust:saml_trust_lifecycle
  scim_provisioning:scim_provisioning_lifecycle_import_update_drift_and_destroy
  permission_set:permission_set_lifecycle
  group_assignment:group_assignment_full_chain_import_update_drift_destroy
  saml_metadata:saml_metadata_function_returns_the_same_attributes
  release_install:packaged_provider_installs_from_a_filesystem_mirror_and_applies
)
# Write-only attributes (the SCIM token) need Terraform 1.11; 1.10 is covered by its own test in engines.rs.
minimum_engine=1.11

stages=()
results=()
seconds=()
started_at=$(date +%s)

run_stage() {
  local name="$1"
  shift
  echo
  echo "==> [$name] $*"
  local start
  start=$(date +%s)
  if "$@"; then
    results+=("PASS")
  else
    results+=("FAIL")
  fi
  stages+=("$name")
  seconds+=($(($(date +%s) - start)))
  [[ "${results[-1]}" == PASS ]]
}

skip_stage() {
  stages+=("$1")
  results+=("SKIP")
  seconds+=(0)
}

cargo_tests() {
  # TF_ACC=1 turns the acceptance tests on; without it they report "SKIPPED (set TF_ACC=1 to run): <test>".
  TF_ACC=1 cargo test --workspace --no-fail-fast -- --test-threads="$threads" 2>&1 | tee "$test_log"
}

main_engine() {
  "${TF_ACC_TERRAFORM_PATH:-$IDBRIDGE_TOOLS_DIR/bin/terraform}" version -json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])'
}

# The Terraform versions of the engines stage: IDBRIDGE_ENGINES, else every installed launcher from the minimum on,
# without the main engine (the test stage ran everything on it).
matrix_engines() {
  if [[ -n "${IDBRIDGE_ENGINES:-}" ]]; then
    [[ "$IDBRIDGE_ENGINES" == none ]] || tr ' ' '\n' <<<"$IDBRIDGE_ENGINES"
    return
  fi
  local main version
  main="$(main_engine)" || return 1
  for version in $(cd "$IDBRIDGE_TOOLS_DIR/bin" && ls terraform-* | sed 's/^terraform-//' | sort -V); do
    [[ "$version" != "$main" && "$(printf '%s\n' "$minimum_engine" "$version" | sort -V | head -n1)" == "$minimum_engine" ]] &&
      echo "$version"
  done
  return 0
}

engine_tests() {
  local engines files=() names=() entry status=0
  engines="$(matrix_engines)" || return 1
  for entry in "${engine_subset[@]}"; do
    [[ " ${files[*]} " == *" --test ${entry%%:*} "* ]] || files+=(--test "${entry%%:*}")
    names+=("${entry#*:}")
  done
  : >"$engines_log"
  local version start ran
  for version in $engines; do
    start=$(date +%s)
    echo "--- Terraform $version: ${#names[@]} tests" | tee -a "$engines_log"
    local engine_log="$log_dir/engine-$version.log"
    TF_ACC=1 TF_ACC_TERRAFORM_PATH="$IDBRIDGE_TOOLS_DIR/bin/terraform-$version" \
      cargo test -p idbridge-acceptance --no-fail-fast "${files[@]}" -- --exact --test-threads="$threads" "${names[@]}" \
      >"$engine_log" 2>&1 || status=1
    ran=$(grep -cE '^test .* \.\.\. ok$' "$engine_log" || true)
    grep -E '^test .* \.\.\. (ok|FAILED)$' "$engine_log" | sed "s/^/  [$version] /" | tee -a "$engines_log"
    if [[ "$ran" != "${#names[@]}" ]]; then
      echo "  Terraform $version: $ran of ${#names[@]} tests passed (log: ${engine_log#"$repo"/})" | tee -a "$engines_log"
      status=1
    fi
    echo "  Terraform $version: $(($(date +%s) - start))s" | tee -a "$engines_log"
  done
  return $status
}

# The README's "run it" command, end to end against the local clouds (apply, empty second plan, destroy).
demo_smoke() {
  local demo_log="$log_dir/demo.log"
  if scripts/demo.sh >"$demo_log" 2>&1; then
    grep -E 'Apply complete|No changes: the configuration is idempotent|Destroy complete' "$demo_log"
  else
    tail -n 60 "$demo_log"
    return 1
  fi
}

summarize_tests() {
  [[ -f "$test_log" ]] || return 0
  local passed failed ignored skipped
  read -r passed failed ignored < <(
    awk '/^test result:/ { for (i = 1; i <= NF; i++) {
           if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) g += $i } }
         END { print p + 0, f + 0, g + 0 }' "$test_log"
  )
  # libtest counts an acceptance test that returned early without TF_ACC as passed; the harness marks each one.
  skipped=$(grep -c '^SKIPPED (set TF_ACC=1 to run):' "$test_log" || true)
  echo "tests: $((passed - skipped)) passed, $failed failed, $((ignored + skipped)) skipped"
  [[ "$skipped" == 0 ]] || grep '^SKIPPED (set TF_ACC=1 to run):' "$test_log" | sed 's/^/  /'
  echo "(cargo test log: ${test_log#"$repo"/})"
  local failing
  failing=$(grep -E '^test .* \.\.\. FAILED$' "$test_log" | sed -E 's/^test (.*) \.\.\. FAILED$/  failed: \1/')
  [[ -z "$failing" ]] || echo "$failing"
  [[ ! -s "$engines_log" ]] || { echo "engines:"; grep -E '^(---|  Terraform)' "$engines_log"; }
}

rm -f "$test_log" "$engines_log"
if run_stage setup scripts/setup.sh && run_stage build cargo build --workspace --bins; then
  run_stage fmt cargo fmt --all --check
  run_stage clippy cargo clippy --workspace --all-targets -- -D warnings
  run_stage test cargo_tests
  run_stage engines engine_tests
  run_stage demo demo_smoke
else
  for name in build fmt clippy test engines demo; do
    [[ " ${stages[*]} " == *" $name "* ]] || skip_stage "$name"
  done
fi

echo
echo "==> summary ($(($(date +%s) - started_at))s total)"
status=0
for i in "${!stages[@]}"; do
  printf '  %-7s %-4s %5ss\n' "${stages[$i]}" "${results[$i]}" "${seconds[$i]}"
  [[ "${results[$i]}" == PASS ]] || status=1
done
summarize_tests
if [[ $status == 0 ]]; then
  echo "ALL CHECKS PASSED"
else
  echo "SOME CHECKS FAILED"
fi
exit $status
