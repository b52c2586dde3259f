#!/usr/bin/env bash
# Runs examples/complete end to end: builds the provider, starts the local clouds (Microsoft Graph emulator,
# moto behind the AWS-faithful proxy, the AWS SCIM stand-in), applies, prints the outputs, proves a second plan
# has no changes, prints what one member of each group can open (idbridge_sign_in_preview), destroys and stops
# everything.
#
#   scripts/demo.sh            local emulators (default; no cloud account needed)
#   scripts/demo.sh --real     real Entra ID + AWS from your environment (ARM_* and the AWS chain), with
#                              examples/complete/terraform.tfvars and TF_VAR_scim_token set by you; nothing is
#                              destroyed unless you add --destroy.
#   scripts/demo.sh --adopt    local emulators: builds the integration by hand through the emulators' APIs (as in
#                              the consoles: application, SAML, provisioning, an assigned group, permission sets,
#                              an account assignment), then adopts it with one `terraform query`
#                              (list resources), a plan showing only imports, one apply and an empty plan.
#   --keep                     leave the local resources and emulators running until Enter is pressed
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

mode=local keep=false destroy_real=false
for arg in "$@"; do
  case "$arg" in
    --real) mode=real ;;
    --adopt) mode=adopt ;;
    --keep) keep=true ;;
    --destroy) destroy_real=true ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Installing pinned tools and building the provider"
scripts/setup.sh
export IDBRIDGE_TOOLS_DIR="${IDBRIDGE_TOOLS_DIR:-$repo/.tools}"
terraform="${TF_ACC_TERRAFORM_PATH:-$IDBRIDGE_TOOLS_DIR/bin/terraform}"
cargo build --quiet --bins -p terraform-provider-idbridge -p idbridge-emulators
target="${CARGO_TARGET_DIR:-$repo/target}/debug"

work="$repo/.work/demo"
source scripts/local-clouds.sh
example_workdir "$work" "$target"
tf() { "$terraform" -chdir="$work/config" "$@"; }

if [[ $mode != real ]]; then
  step "Starting the local clouds"
  start_local_clouds "$work" "$target"
  echo "Microsoft Graph: $IDBRIDGE_GRAPH_ENDPOINT   AWS: $AWS_ENDPOINT_URL"
fi
if [[ $mode == adopt ]]; then
  step "Building the integration by hand (the consoles' way, through the emulators' APIs)"
  rm -rf "$work/config" && mkdir -p "$work/config"
  printf 'terraform {\n  required_providers {\n    idbridge = { source = "idbridge/idbridge" }\n  }\n}\n\nprovider "idbridge" {}\n' \
    >"$work/config/main.tf"
  "$IDBRIDGE_TOOLS_DIR/venv/bin/python" scripts/demo_adopt.py "$work/endpoints.json" >"$work/config/adopt.tfquery.hcl"
  step "terraform query: what exists, written out as configuration with import blocks"
  tf query -no-color -generate-config-out=adopted.tf
  cat "$work/config/adopted.tf"
  rm "$work/config/adopt.tfquery.hcl"
  step "terraform plan: only imports"
  tf plan -input=false -no-color
  step "terraform apply: Terraform owns the integration now"
  tf apply -auto-approve -input=false -no-color
  step "Second plan: must show no changes"
  tf plan -detailed-exitcode -input=false -no-color || { echo "FAILED: the plan after adoption is not empty" >&2; exit 1; }
  step "terraform destroy"
  tf destroy -auto-approve -input=false -no-color
  step "Done"
  exit 0
fi
if [[ $mode == local ]]; then
  step "Creating the directory the example expects (Entra groups, the AWS metadata file)"
  python3 scripts/demo_fixtures.py "$work/endpoints.json" "$work/aws-sso-metadata.xml" \
    "$work/preview.tfvars.json" >"$work/config/terraform.tfvars.json"
else
  [[ -f "$work/../../examples/complete/terraform.tfvars" ]] || {
    echo "--real needs examples/complete/terraform.tfvars (start from terraform.tfvars.example)" >&2; exit 2; }
  [[ -n "${TF_VAR_scim_token:-}" ]] || { echo "--real needs TF_VAR_scim_token" >&2; exit 2; }
fi

step "terraform init"
tf init -input=false -no-color >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }   # installs the local module; dev_overrides skip the provider
step "terraform apply"
tf apply -auto-approve -input=false
step "Outputs: what to paste into the IAM Identity Center console"
tf output
step "Second plan: must show no changes"
set +e
tf plan -detailed-exitcode -input=false -no-color
plan_status=$?
set -e
if [[ $plan_status -ne 0 ]]; then
  echo "FAILED: the second plan is not empty (exit $plan_status)" >&2
  exit 1
fi
echo "No changes: the configuration is idempotent."

step "Sign-in preview: what one member of each group can open in the AWS access portal"
preview_vars=()
[[ -f "$work/preview.tfvars.json" ]] && preview_vars=(-var-file="$work/preview.tfvars.json")
tf apply -auto-approve -input=false -no-color "${preview_vars[@]}" >"$work/preview.log" 2>&1 \
  || { cat "$work/preview.log" >&2; exit 1; }   # reads the previews; changes no resource
tf output -json sign_in_preview | python3 -c '
import json, sys
previews = json.load(sys.stdin)
for user, preview in sorted(previews.items()):
    for line in preview["can_open"]:
        print(f"{user} can open {line}")
    group = preview["group"]
    for problem in preview["problems"]:
        print(f"{user} ({group}) cannot sign in: {problem}")
if not previews:
    print("No users to preview: set preview_users (examples/complete/sign_in_preview.tf).")
'

if [[ $keep == true ]]; then
  read -r -p "Resources left in place; press Enter to destroy and stop. " _
fi
if [[ $mode == local || $destroy_real == true ]]; then
  step "terraform destroy"
  tf destroy -auto-approve -input=false
fi
step "Done"
