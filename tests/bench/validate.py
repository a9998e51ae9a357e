"""How `baseline validate` scales with the number of overrides (issue 38:
it was quadratic, 70.6 s for 10,000 overrides of 1,000 accounts in a
debug build). Writes a baseline of N accounts and M overrides for each M
given, times `validate` on it (the best of two runs), and prints a table
row each. With --check-linear it fails when four times the overrides
take more than ten times as long (a linear cost gives about four, a
quadratic one sixteen): a ratio, so that the machine's speed does not
matter.

    python tests/bench/validate.py --binary target/release/baseline \
        --accounts 1000 --overrides 2500 10000
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time


def baseline(accounts, overrides):
    lines = ["version: 1", "accounts:"]
    lines += [f'  - id: "{100000000000 + i:012d}"' for i in range(accounts)]
    lines += ["regions: [ap-northeast-1, us-east-1]", "home_region: ap-northeast-1",
              "config: {enabled: true}", "securityhub: {enabled: true}", "overrides:"]
    for j in range(overrides):
        lines.append(f'  - accounts: ["{100000000000 + j % accounts:012d}"]')
        lines.append("    config: {enabled: true, recording: continuous}")
    return "\n".join(lines) + "\n"


def timed(binary, path):
    best = None
    for _ in range(2):
        start = time.monotonic()
        run = subprocess.run([binary, "validate", "-f", path], capture_output=True, text=True)
        took = time.monotonic() - start
        if run.returncode != 0:
            sys.exit(f"validate failed on {path}: {run.stderr}")
        best = took if best is None else min(best, took)
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--accounts", type=int, default=1000)
    p.add_argument("--overrides", type=int, nargs="+", default=[2500, 10000])
    p.add_argument("--check-linear", action="store_true")
    args = p.parse_args()
    print("| accounts | overrides | validate s (best of 2) |")
    print("|---|---|---|")
    times = {}
    with tempfile.TemporaryDirectory() as d:
        for n in args.overrides:
            path = os.path.join(d, f"overrides-{n}.yaml")
            with open(path, "w") as f:
                f.write(baseline(args.accounts, n))
            times[n] = timed(args.binary, path)
            print(f"| {args.accounts} | {n} | {times[n]:.2f} |")
    if args.check_linear:
        ns = sorted(times)
        for small, large in zip(ns, ns[1:]):
            ratio = (times[large] / max(times[small], 0.05)) / (large / small)
            if ratio > 2.5:
                sys.exit(f"validate grows faster than the overrides: {small} → {large} took "
                         f"{times[small]:.2f} s → {times[large]:.2f} s")


if __name__ == "__main__":
    main()
