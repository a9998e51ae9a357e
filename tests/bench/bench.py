"""Benchmark: `baseline plan` and `apply` against moto behind a fixed
per-request latency, for A accounts (reached by AssumeRole) × R regions.

Reports per run: wall time, API calls, peak memory (of the baseline
process alone), and the ratio of wall time to the lower bound: the longest
chain of dependent calls × the injected latency. See docs/performance.md.

Run through tests/bench/run.sh (which builds the release binary and
installs moto). Asserts no timing: it measures.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The longest chain of dependent AWS calls in a plan, read off the code
# (every read of one service in one region goes out in one round trip
# where the calls are independent):
#   AssumeRole (accounts with role_arn)
#   → GetCallerIdentity ∥ DescribeRegions
#   → the longest read: S3 Block Public Access when a flag turns on
#     (GetPublicAccessBlock → ListBuckets → GetBucketPolicyStatus ∥ GetBucketAcl),
#     else IAM (GenerateCredentialReport → GetCredentialReport),
#     CloudTrail (DescribeTrails ∥ DescribeKey → GetTrailStatus ∥ …),
#     GuardDuty (ListDetectors → GetDetector): 2.
PLAN_CHAIN_FRESH = 1 + 1 + 3
PLAN_CHAIN_CONVERGED = 1 + 1 + 2


def hwm_kb(pid):
    """The process's peak RSS so far in KiB (VmHWM), or 0 once it is gone.
    wait4's ru_maxrss is not used: Linux keeps in it the memory of the
    process that forked the child, at the fork, when that is larger."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stats(url):
    with urllib.request.urlopen(url + "/_baseline/stats") as r:
        return json.load(r)


def baseline_yaml(accounts, regions):
    lines = ["version: 1", "accounts:"]
    for i in range(accounts):
        if i == 0:
            lines.append('  - {id: "123456789012", name: management}')
        else:
            acct = f"{100000000000 + i:012d}"
            lines.append(f'  - {{id: "{acct}", role_arn: "arn:aws:iam::{acct}:role/BaselineAdmin"}}')
    lines.append(f"regions: {regions}")
    lines += [
        "home_region: us-east-1",
        "iam: {root_mfa: required, console_user_mfa: required}",
        "config: {enabled: true}",
        "cloudtrail: {enabled: true}",
        "guardduty: {enabled: true, features: all}",
        "ebs_encryption: {enabled: true}",
        "alternate_contacts:",
        "  security: {name: Security, email: security@example.com, phone: '+1-555-0100', title: Security}",
        "securityhub: {enabled: true}",
        "s3_public_access_block: {block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true}",
    ]
    return "\n".join(lines) + "\n"


def measure(binary, args, env, url):
    """Runs the binary once, with its peak RSS (VmHWM, read every 20 ms)."""
    before = stats(url)
    start = time.monotonic()
    proc = subprocess.Popen([binary] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]
    running = threading.Event()
    running.set()

    def watch():
        while running.is_set():
            peak[0] = max(peak[0], hwm_kb(proc.pid))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    out = proc.stdout.read()
    err = proc.stderr.read()
    peak[0] = max(peak[0], hwm_kb(proc.pid))
    running.clear()
    watcher.join()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    after = stats(url)
    code = os.waitstatus_to_exitcode(status)
    calls = after["total"] - before["total"]
    busy = after["busy_s"] - before["busy_s"]
    reads = {}
    for k, v in after["by_fact"].items():
        d = v - before["by_fact"].get(k, 0)
        op = " ".join(k.split(" ")[3:])
        if d > 1 and op.startswith(("Get", "Describe", "List", "GET", "HEAD")) and "GetCredentialReport" not in op:
            reads[k] = d
    ops = {k: v - before["by_operation"].get(k, 0) for k, v in after["by_operation"].items()}
    ops = {k: v for k, v in ops.items() if v}
    return {
        "code": code,
        "wall_s": round(wall, 3),
        "busy_s": round(busy, 3),
        "api_calls": calls,
        "peak_rss_mb": round(peak[0] / 1024, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "repeated_reads": reads,
        "ops": ops,
        "stderr": err.decode(errors="replace")[-2000:],
        "stdout": out.decode(errors="replace"),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--accounts", type=int, default=1)
    p.add_argument("--regions", default="all", help="`all` or a number of regions")
    p.add_argument("--latency-ms", type=float, default=50)
    p.add_argument("--binary", required=True)
    p.add_argument("--skip-apply", action="store_true")
    p.add_argument("--json", action="store_true", help="print one JSON line per run")
    p.add_argument("--ops", action="store_true", help="print the calls of each run by operation")
    args = p.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        ["bash", os.path.join(ROOT, "tests", "local-aws.sh"), str(port), "--latency-ms", str(args.latency_ms)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                stats(url)
                break
            except OSError:
                time.sleep(0.1)
        if args.regions == "all":
            regions = "all"
        else:
            names = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1", "eu-central-1", "ap-southeast-1", "sa-east-1", "ca-central-1"]
            regions = "[" + ", ".join(names[: int(args.regions)]) + "]"
        tmp = tempfile.mkdtemp()
        path = os.path.join(tmp, "baseline.yaml")
        with open(path, "w") as f:
            f.write(baseline_yaml(args.accounts, regions))
        env = dict(os.environ)
        env.update(
            AWS_ENDPOINT_URL=url,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_REGION="us-east-1",
            AWS_MAX_ATTEMPTS="2",
            AWS_EC2_METADATA_DISABLED="true",
            NO_COLOR="1",
        )
        role_accounts = args.accounts > 1
        latency = args.latency_ms / 1000
        rows = []
        # moto builds each account's and region's backends on first use
        # (seconds each, EC2 and Security Hub the slowest): a first plan
        # warms them and is reported apart.
        cold = measure(args.binary, ["plan", "-q", "-f", path, "--output", "json"], env, url)
        rows.append(("plan (cold emulator)", cold, None))
        plan = measure(args.binary, ["plan", "-q", "-f", path, "--output", "json"], env, url)
        try:
            targets = len(json.loads(plan["stdout"])["targets"])
        except ValueError:
            sys.exit(f"plan did not print a JSON plan:\n{plan['stderr']}")
        chain = PLAN_CHAIN_FRESH - (0 if role_accounts else 1)
        rows.append(("plan (drifted)", plan, chain))
        if not args.skip_apply:
            apply = measure(args.binary, ["apply", "-q", "-f", path, "--auto-approve"], env, url)
            rows.append(("apply", apply, None))
            again = measure(args.binary, ["plan", "-q", "-f", path, "--output", "json"], env, url)
            rows.append(("plan (converged)", again, PLAN_CHAIN_CONVERGED - (0 if role_accounts else 1)))
        failed = False
        for name, r, chain in rows:
            bound = chain * latency if chain else None
            line = {
                "run": name,
                "accounts": args.accounts,
                "regions": regions,
                "account_regions": targets,
                "latency_ms": args.latency_ms,
                "exit": r["code"],
                "wall_s": r["wall_s"],
                "lower_bound_s": round(bound, 3) if bound else None,
                "ratio": round(r["wall_s"] / bound, 2) if bound else None,
                # moto serves one request at a time (one Python process):
                # the sum of its serving time is a second floor.
                "emulator_busy_s": r["busy_s"],
                "api_calls": r["api_calls"],
                "calls_per_account_region": round(r["api_calls"] / max(targets, 1), 1),
                "repeated_reads": len(r["repeated_reads"]) if name.startswith("plan") else None,
                "peak_rss_mb": r["peak_rss_mb"],
                "cpu_s": r["cpu_s"],
            }
            if args.json:
                print(json.dumps(line))
            else:
                print(" ".join(f"{k}={v}" for k, v in line.items()))
            if args.ops:
                for k, v in sorted(r["ops"].items(), key=lambda kv: -kv[1]):
                    print(f"  {v:5} {k}")
            if r["repeated_reads"] and name.startswith("plan"):
                failed = True
            # Apply reads twice by design (plan, then verify): only a plan's
            # repeats are defects.
            if r["repeated_reads"] and name.startswith("plan"):
                for k, v in sorted(r["repeated_reads"].items())[:10]:
                    print(f"  repeated: {v}× {k}")
            if r["code"] not in (0,):
                print("  stderr:", r["stderr"].strip()[-800:])
                failed = True
    finally:
        server.terminate()
        server.wait()
    # Timings are measured, never asserted; a failed run or a plan that asks
    # for the same fact twice is a defect.
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
