#!/usr/bin/env bash
# Builds the release artifacts in the layout the Terraform Registry expects, into dist/:
#   terraform-provider-idbridge_<version>_<os>_<arch>.zip   (holds terraform-provider-idbridge_v<version>)
#   terraform-provider-idbridge_<version>_manifest.json     (copy of terraform-registry-manifest.json)
#   terraform-provider-idbridge_<version>_SHA256SUMS        (sha256 of every file above)
# Signing SHA256SUMS (gpg --detach-sign) is the publisher's step and not done here.
#
#   scripts/release.sh                       linux_amd64 on this machine
#   scripts/release.sh <rust-target> <os_arch>  e.g. aarch64-unknown-linux-gnu linux_arm64, after
#                                            `rustup target add` and with a linker for that target
#                                            (e.g. Debian's gcc-aarch64-linux-gnu); darwin and windows builds need
#                                            their SDKs and are made on those systems.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

rust_target="${1:-x86_64-unknown-linux-gnu}"
os_arch="${2:-linux_amd64}"
version="$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "terraform-provider-idbridge"))')"
name="terraform-provider-idbridge"
dist="$repo/dist"
mkdir -p "$dist"

cargo build --release --locked --bin "$name" --target "$rust_target"
binary="$repo/target/$rust_target/release/$name"
[[ "$os_arch" == windows_* ]] && binary="$binary.exe"

python3 - "$binary" "$dist/${name}_${version}_${os_arch}.zip" "${name}_v${version}" <<'PY'
import sys, zipfile
binary, archive, member = sys.argv[1:]
if binary.endswith(".exe"):
    member += ".exe"
info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))  # fixed time: reproducible archives
info.external_attr = 0o755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(archive, "w") as out, open(binary, "rb") as data:
    out.writestr(info, data.read())
PY
cp terraform-registry-manifest.json "$dist/${name}_${version}_manifest.json"
(cd "$dist" && sha256sum "${name}_${version}_"*.zip "${name}_${version}_manifest.json" >"${name}_${version}_SHA256SUMS")
echo "release artifacts in dist/:"
(cd "$dist" && ls -l "${name}_${version}_"* && cat "${name}_${version}_SHA256SUMS")
