#!/usr/bin/env bash
# Benchmark: GROUPS group assignments targeting one OU tree of 100 accounts (bench/org_fixtures.py) through real
# Terraform against the emulators; by default a plan only (PHASES="plan apply refresh" to assign all of them too).
# Prints the AWS calls of each phase, the Organizations reads among them. Asserts nothing.
# Usage: bench/org_targets.sh [groups=10]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TF_SRC=$ROOT/bench/org_targets EXTRA_FIXTURES=$ROOT/bench/org_fixtures.py PHASES=${PHASES:-plan} \
  exec "$ROOT/bench/assignments.sh" "${1:-10}" 0
