#!/usr/bin/env bash
# The release path, run here (issue 39): scripts/package.sh for this
# machine's own target with the debug profile, into a temporary folder,
# then what a user checks of a release: the archive holds a binary that
# prints its version, `sha256sum -c SHA256SUMS` passes, and the SBOM is
# valid CycloneDX 1.5 (the schema shipped by cyclonedx-python-lib, pinned,
# read offline) that lists baseline's crates and the AWS SDK crates it
# links. tests/run.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
CDX_LIB=11.12.0
VENV=${BASELINE_LINT_VENV:-/var/tmp/baseline-lint-venv}
[ -x "$VENV/bin/check-jsonschema" ] || bash tests/lint-ci.sh >/dev/null   # installs it
schemas=$VENV/cdx-schemas/cyclonedx/schema/_res
if [ ! -f "$schemas/bom-1.5.SNAPSHOT.schema.json" ]; then
  echo "Fetching the CycloneDX schemas (cyclonedx-python-lib==$CDX_LIB) ..." >&2
  wheels=$(mktemp -d)
  "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$wheels" "cyclonedx-python-lib==$CDX_LIB"
  mkdir -p "$VENV/cdx-schemas"
  "$VENV/bin/python" -m zipfile -e "$wheels"/*.whl "$VENV/cdx-schemas"
  rm -rf "$wheels"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash scripts/package.sh --version v0.0.0-test --out "$out" --profile dev \
  --features baseline-providers/test-util
host=$(rustc -vV | sed -n 's/^host: //p')
name=baseline-v0.0.0-test-$host

# The archive: one binary that runs.
[ "$(tar -tzf "$out/$name.tar.gz")" = baseline ] || { echo "the archive holds more than the binary" >&2; exit 1; }
unpacked=$(mktemp -d)
tar -C "$unpacked" -xzf "$out/$name.tar.gz"
"$unpacked/baseline" --version | grep -q "^baseline " || { echo "the archived binary does not print its version" >&2; exit 1; }
rm -rf "$unpacked"

# The checksums.
(cd "$out" && sha256sum --quiet -c SHA256SUMS)
# ... which must be able to fail: a changed archive is caught.
printf x >> "$out/$name.tar.gz"
if (cd "$out" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1); then
  echo "SHA256SUMS accepted a changed archive" >&2; exit 1
fi

# The SBOM: valid CycloneDX 1.5, offline (its \$refs resolved beside it).
"$VENV/bin/check-jsonschema" --base-uri "file://$schemas/" \
  --schemafile "$schemas/bom-1.5.SNAPSHOT.schema.json" "$out/$name.cdx.json"
# ... which must be able to fail: a document that is not CycloneDX.
sed 's/"bomFormat": *"CycloneDX"/"bomFormat": "SPDX"/' "$out/$name.cdx.json" > "$out/not-cdx.json"
if "$VENV/bin/check-jsonschema" --base-uri "file://$schemas/" \
  --schemafile "$schemas/bom-1.5.SNAPSHOT.schema.json" "$out/not-cdx.json" >/dev/null 2>&1; then
  echo "the CycloneDX schema accepted a document that is not CycloneDX" >&2; exit 1
fi
"$VENV/bin/python" - "$out/$name.cdx.json" <<'PY'
import json, sys
bom = json.load(open(sys.argv[1]))
names = {c["name"] for c in bom.get("components", [])}
names.add(bom["metadata"]["component"]["name"])
want = {"baseline-cli", "baseline-engine", "baseline-providers", "baseline-spec",
        "aws-sdk-s3", "aws-sdk-kms", "aws-sdk-guardduty", "aws-sdk-securityhub", "aws-config"}
missing = sorted(want - names)
if missing:
    sys.exit(f"the SBOM does not list {missing}")
print(f"SBOM: {len(names)} components, baseline's crates and the AWS SDK's among them")
PY
echo "release path: archive, checksums and SBOM checked"
