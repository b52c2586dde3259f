#!/usr/bin/env bash
# Builds the release artifacts in the layout the Terraform Registry expects ("Publishing providers"), into dist/:
#   terraform-provider-idbridge_<version>_<os>_<arch>.zip   holds terraform-provider-idbridge_v<version>[.exe]
#   terraform-provider-idbridge_<version>_manifest.json     copy of terraform-registry-manifest.json (protocol 6)
#   terraform-provider-idbridge_<version>_SHA256SUMS        sha256 of every zip of that version and the manifest
#   terraform-provider-idbridge_<version>_SHA256SUMS.sig    detached binary GPG signature of SHA256SUMS
#
#   scripts/release.sh [options]              package one platform, then write the sums and sign them
#   scripts/release.sh --sums-only [options]  only the manifest, sums and signature over the zips already in dist/
#                                             (the release workflow's last job, after the per-platform builds)
# Options:
#   --version V        default: the version in Cargo.toml (read with Python's tomllib: no cargo needed)
#   --binary FILE      an already built provider binary; default: cargo build --release for --target
#   --target TRIPLE    Rust target to build (default x86_64-unknown-linux-gnu)
#   --platform OS_ARCH Registry platform of the binary (default: derived from --target, e.g. linux_amd64)
#   --no-sums          package only (a per-platform job of the release workflow)
#   --dist DIR         output directory (default dist/)
# Signing: GPG_PRIVATE_KEY (armored secret key, imported into a throwaway keyring; PASSPHRASE if it has one) or
# GPG_FINGERPRINT (a key already in the keyring). Without either the signature is skipped, saying so: the Registry
# refuses a release without it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
name="terraform-provider-idbridge"

version="" binary="" rust_target="x86_64-unknown-linux-gnu" platform="" sums=1 package=1 dist="$repo/dist"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --target) rust_target="$2"; shift 2 ;;
    --platform) platform="$2"; shift 2 ;;
    --no-sums) sums=0; shift ;;
    --sums-only) package=0; shift ;;
    --dist) dist="$2"; shift 2 ;;
    *) echo "scripts/release.sh: unknown argument $1 (see the header of this script)" >&2; exit 2 ;;
  esac
done

if [[ -z "$version" ]]; then
  # Cargo.toml's [package] version, or [workspace.package]'s when it says `version.workspace = true`.
  version="$(python3 -c 'import sys, tomllib
manifest = tomllib.load(open("Cargo.toml", "rb"))
version = manifest["package"]["version"]
print(manifest["workspace"]["package"]["version"] if isinstance(version, dict) else version)')"
fi
version="${version#v}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "scripts/release.sh: '$version' is not a semantic version (the Registry needs one)" >&2
  exit 2
fi

# Rust target triple -> the Registry's <os>_<arch>.
platform_of() {
  local os arch
  case "$1" in
    *-linux-*) os=linux ;; *-apple-darwin) os=darwin ;; *-windows-*) os=windows ;; *-freebsd) os=freebsd ;;
    *) return 1 ;;
  esac
  case "$1" in
    x86_64-*) arch=amd64 ;; aarch64-*) arch=arm64 ;; i686-*) arch=386 ;; armv7-*) arch=arm ;;
    *) return 1 ;;
  esac
  echo "${os}_${arch}"
}

mkdir -p "$dist"
if [[ $package == 1 ]]; then
  if [[ -z "$platform" ]]; then
    platform="$(platform_of "$rust_target")" || {
      echo "scripts/release.sh: no Registry platform known for $rust_target; pass --platform" >&2
      exit 2
    }
  fi
  if [[ -z "$binary" ]]; then
    cargo build --release --locked --bin "$name" --target "$rust_target"
    binary="$repo/target/$rust_target/release/$name"
    [[ "$platform" == windows_* ]] && binary="$binary.exe"
  fi
  [[ -f "$binary" ]] || { echo "scripts/release.sh: no provider binary at $binary" >&2; exit 1; }
  member="${name}_v${version}"
  [[ "$platform" == windows_* ]] && member="$member.exe"
  "${PYTHON:-python3}" - "$binary" "$dist/${name}_${version}_${platform}.zip" "$member" <<'PY'
import sys, zipfile
binary, archive, member = sys.argv[1:]
info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))  # fixed time: reproducible archives
info.external_attr = 0o755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(archive, "w") as out, open(binary, "rb") as data:
    out.writestr(info, data.read())
PY
  echo "packaged $binary as ${name}_${version}_${platform}.zip"
fi

if [[ $sums == 1 ]]; then
  cd "$dist"
  shopt -s nullglob
  zips=("${name}_${version}_"*.zip)
  [[ ${#zips[@]} -gt 0 ]] || { echo "scripts/release.sh: no ${name}_${version}_*.zip in $dist" >&2; exit 1; }
  cp "$repo/terraform-registry-manifest.json" "${name}_${version}_manifest.json"
  sums_file="${name}_${version}_SHA256SUMS"
  sha256sum "${zips[@]}" "${name}_${version}_manifest.json" >"$sums_file"
  rm -f "$sums_file.sig"
  if [[ -n "${GPG_PRIVATE_KEY:-}" || -n "${GPG_FINGERPRINT:-}" ]]; then
    gpg_args=(--batch --yes --pinentry-mode loopback)
    [[ -n "${PASSPHRASE:-}" ]] && gpg_args+=(--passphrase-fd 3)
    if [[ -n "${GPG_PRIVATE_KEY:-}" ]]; then
      GNUPGHOME="$(mktemp -d)"
      export GNUPGHOME
      trap 'gpgconf --kill gpg-agent 2>/dev/null; rm -rf "$GNUPGHOME"' EXIT
      gpg --batch --import <<<"$GPG_PRIVATE_KEY"
    fi
    [[ -n "${GPG_FINGERPRINT:-}" ]] && gpg_args+=(--local-user "$GPG_FINGERPRINT")
    gpg "${gpg_args[@]}" --detach-sign --output "$sums_file.sig" "$sums_file" 3<<<"${PASSPHRASE:-}"
    gpg --batch --verify "$sums_file.sig" "$sums_file"
  else
    echo "NOT SIGNED: set GPG_PRIVATE_KEY (and PASSPHRASE) or GPG_FINGERPRINT to write $sums_file.sig;" \
      "the Terraform Registry refuses a release without it"
  fi
fi
echo "release artifacts in $dist:"
(cd "$dist" && ls -l "${name}_${version}_"* && { [[ $sums == 0 ]] || cat "${name}_${version}_SHA256SUMS"; })
