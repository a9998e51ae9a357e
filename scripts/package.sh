#!/usr/bin/env bash
# One release artifact set for one target: what .github/workflows/release.yml
# does per target, here so that it runs (and is tested) on any machine.
#
#   scripts/package.sh --version v1.2.3 --out dist [--target TRIPLE] [--profile release|dev] [--features F]
#
# Builds the `baseline` binary (for TRIPLE, or this machine's own target
# when not given: then the build shares the ordinary target directory),
# and writes into OUT:
#   baseline-VERSION-TRIPLE.tar.gz          the binary
#   baseline-VERSION-TRIPLE.tar.gz.sha256   its checksum
#   baseline-VERSION-TRIPLE.cdx.json        CycloneDX 1.5 SBOM of the crates linked in
#   SHA256SUMS                              every .sha256 of OUT, for `sha256sum -c`
# cargo-cyclonedx (pinned below) is installed into $CYCLONEDX_ROOT when
# missing. Only the cross toolchain, the static-linking flags and the
# upload are the workflow's own.
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLONEDX_VERSION=0.5.9
CYCLONEDX_ROOT=${CYCLONEDX_ROOT:-/var/tmp/baseline-cyclonedx}
version= out= target= profile=release features=
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --features) features=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[ -n "$version" ] && [ -n "$out" ] || { echo "usage: $0 --version V --out DIR [--target T] [--profile P] [--features F]" >&2; exit 2; }
# A name that goes into file names: the tag's characters only.
[[ "$version" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "not a version: $version" >&2; exit 2; }

host=$(rustc -vV | sed -n 's/^host: //p')
triple=${target:-$host}
build=(cargo build --locked --quiet --profile "$profile" --bin baseline)
[ -n "$target" ] && build+=(--target "$target")
[ -n "$features" ] && build+=(--features "$features")
"${build[@]}"
dir=$profile; [ "$profile" = dev ] && dir=debug
bin=${CARGO_TARGET_DIR:-target}${target:+/$target}/$dir/baseline
"$bin" --version >/dev/null

mkdir -p "$out"
name=baseline-$version-$triple
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$bin" "$stage/baseline"
tar -C "$stage" -czf "$out/$name.tar.gz" baseline
(cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")

if ! "$CYCLONEDX_ROOT/bin/cargo-cyclonedx" cyclonedx --version 2>/dev/null | grep -q "$CYCLONEDX_VERSION"; then
  echo "Installing cargo-cyclonedx $CYCLONEDX_VERSION into $CYCLONEDX_ROOT ..." >&2
  # A tool for this machine: the release's RUSTFLAGS (crt-static) would
  # break its proc-macro crates.
  env -u RUSTFLAGS CARGO_TARGET_DIR="$CYCLONEDX_ROOT/build" cargo install --locked --quiet \
    cargo-cyclonedx --version "=$CYCLONEDX_VERSION" --root "$CYCLONEDX_ROOT"
fi
# The binary's crate (crates/cli) and what it links, for the target; the
# SBOM files are written beside each manifest and taken from there.
sbom=(cyclonedx --format json --spec-version 1.5 --override-filename baseline-sbom
      --manifest-path crates/cli/Cargo.toml)
[ -n "$target" ] && sbom+=(--target "$target")
[ -n "$features" ] && sbom+=(--features "$features")
"$CYCLONEDX_ROOT/bin/cargo-cyclonedx" "${sbom[@]}"
mv crates/cli/baseline-sbom.json "$out/$name.cdx.json"
# cargo-cyclonedx writes one beside every member of the workspace.
rm -f crates/*/baseline-sbom.json

(cd "$out" && cat ./*.sha256 > SHA256SUMS)
echo "$out: $name.tar.gz, .sha256, .cdx.json, SHA256SUMS"
