#!/usr/bin/env bash
# Runs every check of the project, in order, and prints a summary; exits non-zero if any stage fails.
#   setup   scripts/setup.sh (pinned Terraform + moto in .tools/)
#   build   cargo build --workspace --bins (the provider and emulator binaries the acceptance tests launch)
#   fmt     cargo fmt --all --check
#   clippy  cargo clippy --workspace --all-targets -- -D warnings
#   test    cargo test --workspace with TF_ACC=1: unit tests and acceptance tests against real Terraform
#   demo    scripts/demo.sh: examples/complete applied, re-planned (must be empty) and destroyed on the local clouds
# Setup and build failures stop the run (nothing after them can work); fmt, clippy and test always all run.
#
# Knobs: IDBRIDGE_TOOLS_DIR (tools location, default .tools), IDBRIDGE_TEST_THREADS (parallel tests per test
# binary, default 2: each acceptance test runs Terraform plus the provider, and the reference machine has 2 cores).
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
export IDBRIDGE_TOOLS_DIR="${IDBRIDGE_TOOLS_DIR:-$repo/.tools}"
threads="${IDBRIDGE_TEST_THREADS:-2}"
log_dir="$repo/.work/test-logs"
mkdir -p "$log_dir"
test_log="$log_dir/cargo-test.log"

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
  # TF_ACC=1 turns the acceptance tests on; without it they only print "skipped: set TF_ACC=1".
  TF_ACC=1 cargo test --workspace --no-fail-fast -- --test-threads="$threads" 2>&1 | tee "$test_log"
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
  local passed failed ignored
  read -r passed failed ignored < <(
    awk '/^test result:/ { for (i = 1; i <= NF; i++) {
           if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) g += $i } }
         END { print p + 0, f + 0, g + 0 }' "$test_log"
  )
  echo "tests: $passed passed, $failed failed, $ignored skipped"
  echo "(cargo test log: ${test_log#"$repo"/})"
  local failing
  failing=$(grep -E '^test .* \.\.\. FAILED$' "$test_log" | sed -E 's/^test (.*) \.\.\. FAILED$/  failed: \1/')
  [[ -z "$failing" ]] || echo "$failing"
  local skipped
  skipped=$(grep -c '^skipped: set TF_ACC=1' "$test_log" || true)
  [[ "$skipped" == 0 ]] || echo "warning: $skipped acceptance tests reported 'skipped: set TF_ACC=1'"
}

rm -f "$test_log"
if run_stage setup scripts/setup.sh && run_stage build cargo build --workspace --bins; then
  run_stage fmt cargo fmt --all --check
  run_stage clippy cargo clippy --workspace --all-targets -- -D warnings
  run_stage test cargo_tests
  run_stage demo demo_smoke
else
  for name in build fmt clippy test demo; do
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
