#!/usr/bin/env bash
# Starts every local emulator (moto + AWS proxy + SCIM endpoint + Microsoft Graph) and prints their endpoints.
# Arguments are passed to `idbridge-emulators start` (e.g. --json, --latency-ms 50, --no-quotas); see emulators/README.md.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$repo/scripts/setup.sh"
cd "$repo"
exec cargo run --quiet -p idbridge-emulators -- start "$@"
