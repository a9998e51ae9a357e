"""The scale benchmark: `baseline plan` (release build) over A accounts ×
17 regions against the replay stand-in (standin.py) at a fixed latency.

1. Record: the local AWS (moto plus the additions) behind standin.py's
   recording proxy; one account reached by AssumeRole, in its home region
   and one other, is applied (converged) and planned, so the recording
   holds a converged account's answers.
2. Replay: for each accounts × concurrency, plan a baseline of that many
   accounts (ids 100000000000 + i, each by AssumeRole) × the 17 regions
   enabled by default, measuring wall time, peak RSS and CPU of the
   baseline process (its rusage), and the calls the stand-in served
   (none may be missing, no fact asked twice).

The replay speaks HTTPS (a test certificate authority the run trusts
through SSL_CERT_FILE) and throttles as AWS's request-rate quotas do
(standin.py's QUOTAS); `--plain-http` and `--no-quotas` turn either off.
Throttled requests are retried by the SDK and counted.

The floor of a run is max(longest chain of dependent calls × latency,
the time AWS's quotas need for the calls answered (the busiest bucket's
calls beyond its capacity at its refill rate), client CPU ÷ cores): what
no client could beat on this machine, whatever its own concurrency. The
chain is measured once as the wall time of a one-account, one-region plan
÷ latency.

Run through tests/bench/scale.sh, which installs what it needs.
"""

import argparse
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench import free_port, hwm_kb  # noqa: E402  (helpers for both benchmarks)
ROOT = os.path.dirname(os.path.dirname(HERE))
HOME = "ap-northeast-1"
OTHER = "us-east-1"
REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1",
           "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1",
           "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1", "sa-east-1"]
SETTINGS = """iam: {root_mfa: required, console_user_mfa: required}
config: {enabled: true, recording: daily}
access_analyzer: {enabled: true}
cloudtrail: {enabled: true, kms: create}
guardduty: {enabled: true}
ebs_encryption: {enabled: true, kms_key: aws-managed}
securityhub: {enabled: true, standards: [aws-foundational-security-best-practices]}
s3_public_access_block: {block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true}
"""


def wait(port):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing answers on port {port}")


def baseline_text(accounts, regions):
    lines = ["version: 1", "accounts:"]
    for a in accounts:
        lines.append(f'  - {{id: "{a}", role_arn: "arn:aws:iam::{a}:role/BaselineAdmin"}}')
    lines.append(f"regions: [{', '.join(regions)}]")
    lines.append(f"home_region: {HOME}")
    return "\n".join(lines) + "\n" + SETTINGS


def env(port, tls_dir=None):
    e = dict(os.environ)
    scheme = "http"
    if tls_dir:
        # The stand-in's certificate authority is the only one trusted.
        scheme, e["SSL_CERT_FILE"] = "https", os.path.join(tls_dir, "ca.pem")
    e.update({"AWS_ENDPOINT_URL": f"{scheme}://localhost:{port}", "AWS_ACCESS_KEY_ID": "bench",
              "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": HOME, "AWS_EC2_METADATA_DISABLED": "true",
              "NO_COLOR": "1"})
    e.pop("AWS_PROFILE", None)
    return e


def stats(port, tls_dir=None):
    if tls_dir:
        ctx = ssl.create_default_context(cafile=os.path.join(tls_dir, "ca.pem"))
        url = f"https://localhost:{port}/_baseline/stats"
    else:
        ctx, url = None, f"http://127.0.0.1:{port}/_baseline/stats"
    with urllib.request.urlopen(url, context=ctx) as r:
        return json.load(r)


def wait_peak(pid):
    """Waits for the child: its exit status, its resource usage and its
    peak RSS in MB, its own high-water mark read every 20 ms while it runs
    (`hwm_kb`; wait4's ru_maxrss also counts this script's memory at the
    fork, which after a large run's statistics is more than a plan's).
    Under --wrap it is the wrapper's."""
    peak_kb = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage, round(peak_kb / 1024, 1)
        peak_kb = max(peak_kb, hwm_kb(pid))
        time.sleep(0.02)


def record(binary, python, tmp):
    upstream, proxy = free_port(), free_port()
    out = os.path.join(tmp, "recording.jsonl")
    local = subprocess.Popen(["bash", os.path.join(ROOT, "tests/local-aws.sh"), str(upstream)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(upstream)
    rec = subprocess.Popen([python, os.path.join(HERE, "standin.py"), "record", "--upstream",
                            f"http://127.0.0.1:{upstream}", "--port", str(proxy), "--out", out,
                            "--account", "111111111111", "--home", HOME, "--other", OTHER])
    wait(proxy)
    try:
        path = os.path.join(tmp, "record.yaml")
        with open(path, "w") as f:
            f.write(baseline_text(["111111111111"], [HOME, OTHER]))
        for args in (["apply", "--auto-approve"], ["plan"]):
            r = subprocess.run([binary, *args, "-f", path], env=env(proxy), capture_output=True, text=True)
            if r.returncode not in (0, 2, 3):
                sys.exit(f"recording: baseline {args[0]} failed:\n{r.stdout}\n{r.stderr}")
    finally:
        rec.terminate()
        local.terminate()
        rec.wait()
        local.wait()
    return out


def run(binary, python, recording, accounts, concurrency, latency_ms, tmp, regions=REGIONS, https=True,
        quotas="on", wrap=(), shard=None, keep=None):
    port = free_port()
    tls_dir = os.path.join(tmp, f"tls-{port}") if https else None
    extra = (["--tls-dir", tls_dir] if tls_dir else []) + {"on": ["--quotas"], "tight": ["--tight-quotas"],
                                                          "off": []}[quotas]
    standin = subprocess.Popen([python, os.path.join(HERE, "standin.py"), "replay", "--recording", recording,
                                "--port", str(port), "--home", HOME, "--other", OTHER,
                                "--latency-ms", str(latency_ms), *extra])
    wait(port)
    try:
        ids = [str(100000000000 + i) for i in range(accounts)]
        path = os.path.join(tmp, f"scale-{accounts}.yaml")
        with open(path, "w") as f:
            f.write(baseline_text(ids, regions))
        started = time.monotonic()
        out_path, err_path = os.path.join(tmp, "plan.json"), os.path.join(tmp, "plan.err")
        with open(out_path, "w") as out, open(err_path, "w") as err:
            child = subprocess.Popen([*wrap, binary, "plan", "-f", path, *(["--concurrency", str(concurrency)]
                                                                     if concurrency else []),
                                      *(["--shard", shard] if shard else []),
                                      *(["--out", keep] if keep else []),
                                      "--output", "json"], env=env(port, tls_dir), stdout=out, stderr=err)
            # The plan process's own CPU and peak memory.
            status, usage, peak_mb = wait_peak(child.pid)
        wall = time.monotonic() - started
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 2, 3):
            try:
                with open(out_path) as f:
                    errors = json.load(f).get("errors", [])
            except ValueError:
                errors = []
            sys.exit(f"plan failed ({code}):\n{open(err_path).read()[-3000:]}\n"
                     + "\n".join(json.dumps(e) for e in errors[:5]) + f"\n({len(errors)} errors)")
        with open(out_path) as f:
            plan = json.load(f)
        s = stats(port, tls_dir)
        standin_cpu = None
        try:
            with open(f"/proc/{standin.pid}/stat") as f:
                fields = f.read().split(")")[1].split()
                standin_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    finally:
        standin.terminate()
        standin.wait()
    repeated = [k for k, v in s["by_fact"].items() if v > 1]
    return {
        "accounts": accounts, "regions": len(regions), "concurrency": concurrency,
        "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "rss_mb": peak_mb, "calls": s["total"],
        "missing": sum(s["missing"].values()), "facts_asked_twice": repeated,
        "errors": len(plan.get("errors", [])),
        "changes": sum(1 for c in plan["changes"] if c["action"] not in ("no_op", "manual")),
        "standin_cpu_s": standin_cpu,
        "throttled": sum(s["throttled"].values()), "quota_floor_s": s["quota_floor_s"],
        "account_regions": len(plan["targets"]),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--accounts", default="20,200,1000")
    p.add_argument("--concurrency", default="default",
                   help="comma-separated; `default` runs without --concurrency (baseline's own default)")
    p.add_argument("--curve-accounts", type=int, default=0,
                   help="also run this many accounts at each --curve concurrency")
    p.add_argument("--curve", default="64,128,256,512,1024")
    p.add_argument("--latency-ms", type=float, default=50.0)
    p.add_argument("--out", help="append the results (JSON lines) here")
    p.add_argument("--plain-http", action="store_true", help="the stand-in speaks HTTP, not HTTPS")
    p.add_argument("--wrap", default="", help="a command the measured plans run under, e.g. "
                   "'perf record -g -o FILE --' (its own cost is then in the CPU figures)")
    p.add_argument("--no-quotas", action="store_true", help="no request-rate quotas")
    p.add_argument("--shard", help="plan only shard K/N of the accounts (one job of a sharded run)")
    p.add_argument("--shards", type=int, default=0,
                   help="plan every shard K/N of the accounts, one process after the other (as N jobs "
                        "would), keep each plan, then merge them with `baseline show`")
    p.add_argument("--tight-quotas", action="store_true",
                   help="one token per quota bucket: even a small run is throttled and must retry")
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="baseline-scale-")
    try:
        measure(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure(args, tmp):
    quotas = "off" if args.no_quotas else ("tight" if args.tight_quotas else "on")
    https = not args.plain_http
    cores = os.cpu_count() or 1
    recording = record(args.binary, args.python, tmp)
    lat = args.latency_ms / 1000.0
    # The chain: one account, one region, nothing else waiting.
    one = run(args.binary, args.python, recording, 1, 0, args.latency_ms, tmp, regions=[HOME], https=https,
              quotas="off")
    chain = round(one["wall_s"] / lat) if lat else 0
    print(f"longest chain ≈ {chain} calls ({one['wall_s']} s for one account-region at {args.latency_ms} ms)")
    print(f"stand-in: {'HTTPS' if https else 'HTTP'}, quotas {quotas}; {cores} cores")
    header = ("| accounts × regions | concurrency | calls | calls/account-region | throttled (retried) | wall s "
              "| floor s (chain / quotas / CPU) | wall/floor | client CPU s | CPU ms/call | peak RSS MB "
              "| stand-in CPU s | missing | facts asked twice |")
    print(header)
    print("|---" * 14 + "|")
    plan = [(int(a), 0 if c == "default" else int(c)) for a in args.accounts.split(",")
            for c in args.concurrency.split(",")]
    if args.curve_accounts:
        plan += [(args.curve_accounts, int(c)) for c in args.curve.split(",")]
    jobs = [(a, c, args.shard, None) for a, c in plan]
    if args.shards:
        jobs = [(a, c, f"{k}/{args.shards}", os.path.join(tmp, f"shard-{a}-{k}.json"))
                for a, c in plan for k in range(1, args.shards + 1)]
    for accounts, concurrency, shard, keep in jobs:
        r = run(args.binary, args.python, recording, accounts, concurrency, args.latency_ms, tmp, https=https,
                quotas=quotas, wrap=args.wrap.split(), shard=shard, keep=keep)
        parts = (chain * lat, r["quota_floor_s"], r["cpu_s"] / cores)
        floor = max(parts)
        r["floor_s"] = round(floor, 2)
        r["chain"] = chain
        # The calls answered (a throttled request is not a call answered).
        per_call = r["cpu_s"] * 1000 / max(r["calls"] - r["throttled"], 1)
        label = f"{accounts} × {r['regions']}"
        if shard:
            label += f" (shard {shard}: {r['account_regions'] // r['regions']} accounts)"
        print(f"| {label} | {concurrency or 'default'} | {r['calls'] - r['throttled']} "
              f"| {(r['calls'] - r['throttled']) / max(r['account_regions'], 1):.1f} | {r['throttled']} "
              f"| {r['wall_s']} | {floor:.2f} ({parts[0]:.2f} / {parts[1]:.2f} / {parts[2]:.2f}) "
              f"| {r['wall_s'] / floor:.2f} | {r['cpu_s']} | {per_call:.3f} "
              f"| {r['rss_mb']} | {r['standin_cpu_s']} | {r['missing']} | {len(r['facts_asked_twice'])} |", flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(r) + "\n")
        if r["missing"] or r["facts_asked_twice"] or r["errors"] or r["changes"]:
            sys.exit(f"run failed its checks: {r}")
        if quotas == "tight" and not r["throttled"]:
            sys.exit(f"tight quotas throttled nothing: the run proves nothing about retries: {r}")
    if args.shards:
        for accounts, _ in plan:
            merge(args.binary, [j[3] for j in jobs if j[0] == accounts], accounts, tmp)


def merge(binary, files, accounts, tmp):
    """`baseline show` of every shard's plan as one: its wall time, CPU and
    memory, and that the merged plan has every account-region."""
    out_path = os.path.join(tmp, "merged.json")
    started = time.monotonic()
    with open(out_path, "w") as out:
        child = subprocess.Popen([binary, "show", "--output", "json", *files], stdout=out,
                                 stderr=subprocess.PIPE)
        status, usage, peak_mb = wait_peak(child.pid)
    wall = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"show failed: {child.stderr.read().decode()[-2000:]}")
    with open(out_path) as f:
        merged = json.load(f)
    targets = len(merged["targets"])
    expected = accounts * len(REGIONS)
    print(f"`baseline show` of {len(files)} shard plans ({sum(os.path.getsize(f) for f in files) / 1e6:.1f} MB): "
          f"{targets} account-regions, {merged['summary']['in_line']} resources in line, "
          f"wall {wall:.2f} s, CPU {usage.ru_utime + usage.ru_stime:.2f} s, "
          f"peak RSS {peak_mb} MB", flush=True)
    if targets != expected:
        sys.exit(f"the merged plan has {targets} account-regions, not {expected}")


if __name__ == "__main__":
    main()
