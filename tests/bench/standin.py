"""A stand-in for AWS at organization scale, for the scale benchmark only
(the behaviour tests stay on the full local AWS): it answers with answers
recorded from the local AWS (moto plus the additions), so its own cost per
request is small next to the injected latency, and thousands of requests
wait at once in one asyncio loop (aiohttp, pinned in tests/bench/scale.sh).

    standin.py record --upstream URL --port P --out FILE --account ID --home REGION --other REGION
        a recording proxy in front of the local AWS: every request of one
        account (reached by AssumeRole) in its home region and one other
        region, with its answer; the account id and regions are written as
        {account}, {home} and {region}.
    standin.py replay --recording FILE --port P --home REGION [--latency-ms N]
        answers any account × region from the recording: the request is
        matched with the same placeholders (home region, or any other
        region as the recorded other one), and the answer gets the asking
        account and region back. AssumeRole into any account answers with
        an access key that names that account. `GET /_baseline/stats`
        counts requests by operation and by fact (key, region, service,
        operation, path), like the local AWS.

Replay speaks HTTPS with `--tls-dir DIR`: it makes a certificate
authority and a certificate for 127.0.0.1 and localhost signed by it, and
writes the authority to DIR/ca.pem, which the run trusts through
SSL_CERT_FILE (the AWS SDK for Rust reads its trusted roots from there).

With `--quotas`, replay throttles as AWS does: a token bucket per account,
region and operation (QUOTAS below: AWS's published rates where AWS
publishes them, stated as guessed elsewhere), and a request that finds its
bucket empty gets the service's own throttling error instead of an answer.
`--tight-quotas` makes every bucket hold one token (the refill rates
stay), so that even a small run is throttled and must retry. Throttled
requests are counted (`throttled` in the stats) and do not count as facts
asked: the retry that gets the answer does.

At load, every recorded successful answer is parsed with botocore against
the AWS service model of its operation (REST operations found from their
URI templates, as the local AWS's IAM evaluator finds them); an answer
that does not parse, or parses as an error, stops the stand-in.
"""

import argparse
import asyncio
import base64
import collections
import json
import os
import re
import sys
import time
import urllib.parse

from aiohttp import ClientSession, web

CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")
ROLE_ACCOUNT = re.compile(r"arn%3Aaws%3Aiam%3A%3A(\d{12})%3A|arn:aws:iam::(\d{12}):")
HOP = {"content-length", "transfer-encoding", "connection", "date", "server", "keep-alive"}


# AWS's request-rate quotas as token buckets: (capacity, refill per second),
# per account, region and operation; a service's entry covers its
# operations without their own.
QUOTAS = {
    # Amazon EC2 Developer Guide, "Request throttling for the Amazon EC2
    # API": non-mutating actions, bucket 100, refill 20 per second, per
    # account and Region (RequestLimitExceeded).
    "ec2": (100, 20),
    # Security Hub API Reference (its service model's documentation):
    # BatchEnableStandards 1 per second, burst 1; every other operation 10
    # per second, burst 30.
    ("securityhub", "BatchEnableStandards"): (1, 1),
    "securityhub": (30, 10),
}
# Guessed, for the services whose per-operation rates AWS does not publish
# (IAM and STS say only "rate exceeded"; Config, CloudTrail, GuardDuty,
# Access Analyzer, KMS, S3, Account, Support, Organizations): stricter than
# the published ones above.
GUESSED = (20, 10)

# Each service's throttling error: status, content type, body. JSON and
# REST-JSON services use the error shape their model declares (Security
# Hub and Access Analyzer: ThrottlingException 429; Account:
# TooManyRequestsException 429; Organizations: TooManyRequestsException)
# or, without one, AWS's common error ThrottlingException (400).
JSON_THROTTLE = {
    "securityhub": (429, "ThrottlingException"),
    "access-analyzer": (429, "ThrottlingException"),
    "account": (429, "TooManyRequestsException"),
    "organizations": (400, "TooManyRequestsException"),
}


def throttled(service):
    if service == "ec2":
        return 503, "text/xml", ("<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                                 "<Message>Request limit exceeded.</Message></Error></Errors>"
                                 "<RequestID>standin</RequestID></Response>")
    if service in ("iam", "sts"):
        return 400, "text/xml", ("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                                 "<Message>Rate exceeded</Message></Error><RequestId>standin</RequestId>"
                                 "</ErrorResponse>")
    if service == "s3":
        return 503, "application/xml", ("<Error><Code>SlowDown</Code><Message>Please reduce your request "
                                        "rate.</Message></Error>")
    status, code = JSON_THROTTLE.get(service, (400, "ThrottlingException"))
    return status, "application/x-amz-json-1.1", json.dumps({"__type": code, "message": "Rate exceeded"})


class Buckets:
    """A token bucket per account, region, service and operation."""

    def __init__(self, tight):
        self.tight, self.state, self.answered = tight, {}, collections.Counter()

    def rate(self, service, op):
        capacity, refill = QUOTAS.get((service, op)) or QUOTAS.get(service) or GUESSED
        return (1 if self.tight else capacity), refill

    def floor(self):
        """The least time the answered requests need under the quotas: the
        busiest bucket's requests beyond its capacity, at its refill rate."""
        return max([0.0] + [max(0, n - self.rate(k[2], k[3])[0]) / self.rate(k[2], k[3])[1]
                            for k, n in self.answered.items()])

    def take(self, account, region, service, op, now):
        capacity, refill = self.rate(service, op)
        key = (account, region, service, op)
        tokens, last = self.state.get(key, (capacity, now))
        tokens = min(capacity, tokens + (now - last) * refill)
        if tokens < 1:
            self.state[key] = (tokens, now)
            return False
        self.state[key] = (tokens - 1, now)
        self.answered[key] += 1
        return True


def tls_context(directory):
    """A certificate authority (written to DIR/ca.pem) and a server
    certificate for 127.0.0.1 and localhost signed by it."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "baseline stand-in test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(valid[0]).not_valid_after(valid[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(valid[0]).not_valid_after(valid[1])
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    os.makedirs(directory, exist_ok=True)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)  # noqa: E731
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(pem(ca))
    chain, private = os.path.join(directory, "server.pem"), os.path.join(directory, "server.key")
    with open(chain, "wb") as f:
        f.write(pem(cert))
    with open(private, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(chain, private)
    return ctx


def operation(service, method, path, query, target, body):
    if target:
        return target.split(".")[-1]
    if body.startswith(b"Action=") or b"&Action=" in body:
        return urllib.parse.parse_qs(body.decode())["Action"][0]
    keys = sorted(k for k in query if k != "x-id")
    return f"{method} {re.sub(r'/[0-9a-f-]{20,}', '/ID', path)}{' ?' + keys[0] if keys else ''}"


def generic(text, account, region, home):
    text = text.replace(account, "{account}")
    if region != home:
        text = text.replace(region, "{region}")
    return text.replace(home, "{home}")


def specific(text, account, region, home):
    return text.replace("{account}", account).replace("{region}", region).replace("{home}", home)


def key_of(req_method, path, query_string, target, body, account, region, home):
    """What identifies a request, with the account and regions as placeholders."""
    where = "home" if region == home else "other"
    # Query-protocol bodies carry the SDK's own ordering; JSON bodies are
    # compared as text (the SDK writes them deterministically).
    parts = [where, req_method, path, query_string, target or "", body.decode(errors="replace")]
    return generic("\n".join(parts), account, region, home)


# ---------------------------------------------------------------- record --

def record(args):
    keys_to_account = {}
    out = open(args.out, "w")
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def start(app):
        app["session"] = ClientSession(auto_decompress=False)

    async def stop(app):
        await app["session"].close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)

    async def handle(request):
        session = request.app["session"]
        body = await request.read()
        auth = request.headers.get("Authorization", "")
        m = CREDENTIAL.search(auth)
        access_key, region, service = (m.group(1), m.group(2), m.group(3)) if m else ("-", "-", "-")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP and k.lower() != "host"}
        async with session.request(request.method, args.upstream + request.path_qs, headers=headers,
                                   data=body) as r:
            answer = await r.read()
            status = r.status
            rheaders = [(k, v) for k, v in r.headers.items() if k.lower() not in HOP]
        target = request.headers.get("X-Amz-Target")
        op = operation(service, request.method, request.path, request.query, target, body)
        if op == "AssumeRole" and status == 200:
            m2 = ROLE_ACCOUNT.search(body.decode())
            ak = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", answer.decode())
            if m2 and ak:
                keys_to_account[ak.group(1)] = m2.group(1) or m2.group(2)
        # The caller's own key (not an assumed role's) is the base account.
        acct = keys_to_account.get(access_key, args.base_account)
        if region in (args.home, args.other) and acct in (args.account, args.base_account):
            out.write(json.dumps({
                "service": service, "operation": op,
                "key": key_of(request.method, request.raw_path.split("?")[0], request.query_string, target, body,
                              acct, region, args.home),
                "status": status,
                "headers": [(k, generic(v, acct, region, args.home)) for k, v in rheaders],
                "body": base64.b64encode(generic(answer.decode(errors="surrogateescape"), acct, region,
                                                 args.home).encode(errors="surrogateescape")).decode(),
            }) + "\n")
            out.flush()
        return web.Response(status=status, body=answer, headers=rheaders)

    app.router.add_route("*", "/{tail:.*}", handle)
    return app


# ---------------------------------------------------------------- replay --

def load(path):
    """The recording, each answer checked against the service model."""
    import botocore.session
    from botocore import parsers

    session = botocore.session.get_session()
    answers, problems, checked = {}, [], 0
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from localaws import authz  # the REST operation from the URI templates

    for line in open(path):
        r = json.loads(line)
        answers[r["key"]] = r
        if r["status"] >= 300:
            continue
        name = {"access-analyzer": "accessanalyzer"}.get(r["service"], r["service"])
        operation_name = r["operation"]
        if operation_name.startswith(("GET ", "PUT ", "POST ", "DELETE ", "HEAD ")):
            _, method, path, query, _, _ = r["key"].split("\n", 5)
            name, operation_name, _ = authz.operation(
                r["service"], method, path, urllib.parse.parse_qs(query, keep_blank_values=True), None, {})
            if operation_name is None:
                problems.append(f"{r['service']} {r['operation']}: no operation of the model has this URI")
                continue
        try:
            model = session.get_service_model(name)
            op = model.operation_model(operation_name)
            parser = parsers.create_parser(model.metadata["protocol"])
            body = specific(base64.b64decode(r["body"]).decode(errors="replace"), "111111111111",
                            "us-east-1", "ap-northeast-1").encode()
            parsed = parser.parse({"status_code": r["status"], "headers": dict(r["headers"]), "body": body},
                                  op.output_shape)
            if "Error" in parsed and parsed["Error"].get("Code"):
                problems.append(f"{r['service']} {operation_name}: parses as an error {parsed['Error']}")
            checked += 1
        except Exception as e:  # a recorded answer the model rejects
            problems.append(f"{r['service']} {r['operation']}: {e}")
    return answers, problems, checked


def replay(args):
    answers, problems, checked = load(args.recording)
    if problems:
        sys.exit("recorded answers that do not parse against the AWS models:\n" + "\n".join(problems))
    assume = next((a for a in answers.values() if a["operation"] == "AssumeRole"), None)
    stats = {"total": 0, "by_operation": collections.Counter(), "by_fact": collections.Counter(),
             "missing": collections.Counter(), "throttled": collections.Counter()}
    latency = args.latency_ms / 1000.0
    buckets = Buckets(args.tight_quotas) if args.quotas or args.tight_quotas else None

    async def handle(request):
        if request.path == "/_baseline/stats":
            out = {k: (dict(v) if isinstance(v, collections.Counter) else v) for k, v in stats.items()}
            out["quota_floor_s"] = buckets.floor() if buckets is not None else 0.0
            return web.json_response(out)
        body = await request.read()
        m = CREDENTIAL.search(request.headers.get("Authorization", ""))
        access_key, region, service = (m.group(1), m.group(2), m.group(3)) if m else ("-", "-", "-")
        target = request.headers.get("X-Amz-Target")
        op = operation(service, request.method, request.path, request.query, target, body)
        stats["total"] += 1
        if latency:
            await asyncio.sleep(latency)
        caller = (access_key[4:16] if access_key.startswith("ASIA") and access_key[4:16].isdigit()
                  else args.base_account)
        if buckets is not None and not buckets.take(caller, region, service, op, time.monotonic()):
            stats["throttled"][f"{service} {op}"] += 1
            status, content_type, text = throttled(service)
            headers = {"Content-Type": content_type}
            if content_type == "application/x-amz-json-1.1":
                headers["x-amzn-ErrorType"] = json.loads(text)["__type"]
            return web.Response(status=status, text=text, headers=headers)
        stats["by_operation"][f"{service} {op}"] += 1
        role = ROLE_ACCOUNT.search(body.decode(errors="replace")) if op == "AssumeRole" else None
        stats["by_fact"][f"{access_key} {region} {service} {op} {request.path} "
                         f"{(role.group(1) or role.group(2)) if role else ''}"] += 1
        if op == "AssumeRole" and assume is not None:
            m2 = ROLE_ACCOUNT.search(body.decode())
            account = m2.group(1) or m2.group(2)
            text = base64.b64decode(assume["body"]).decode()
            text = re.sub(r"<AccessKeyId>[^<]+</AccessKeyId>",
                          f"<AccessKeyId>ASIA{account}SDIN</AccessKeyId>", text)
            text = re.sub(r"arn:aws:sts::\d{12}:", f"arn:aws:sts::{account}:", text)
            return web.Response(status=200, body=specific(text, account, region, args.home).encode(),
                                headers=[(k, v) for k, v in assume["headers"]])
        account = caller
        key = key_of(request.method, request.raw_path.split("?")[0], request.query_string, target, body, account, region, args.home)
        answer = answers.get(key)
        if answer is None:
            stats["missing"][f"{service} {op}"] += 1
            return web.Response(status=500, text=f"stand-in: no recorded answer for {service} {op}")
        text = base64.b64decode(answer["body"]).decode(errors="surrogateescape")
        return web.Response(
            status=answer["status"],
            body=specific(text, account, region, args.home).encode(errors="surrogateescape"),
            headers=[(k, specific(v, account, region, args.home)) for k, v in answer["headers"]],
        )

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    print(f"stand-in: {len(answers)} distinct requests recorded; each of the {checked} successful "
          "answers parses against its operation's AWS model", file=sys.stderr)
    return app


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("record")
    r.add_argument("--upstream", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--account", required=True)
    r.add_argument("--home", required=True)
    r.add_argument("--other", required=True)
    r.add_argument("--base-account", default="123456789012")
    q = sub.add_parser("replay")
    q.add_argument("--recording", required=True)
    q.add_argument("--port", type=int, required=True)
    q.add_argument("--home", required=True)
    q.add_argument("--other", default="us-east-1")
    q.add_argument("--base-account", default="123456789012")
    q.add_argument("--latency-ms", type=float, default=0.0)
    q.add_argument("--tls-dir", help="serve HTTPS; the certificate authority goes to DIR/ca.pem")
    q.add_argument("--quotas", action="store_true", help="throttle as AWS's request-rate quotas do")
    q.add_argument("--tight-quotas", action="store_true", help="quotas with one token per bucket")
    args = p.parse_args()
    ssl_context = None
    if args.mode == "record":
        app = record(args)
    else:
        app = replay(args)
        if args.tls_dir:
            ssl_context = tls_context(args.tls_dir)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=4096,
                ssl_context=ssl_context)


if __name__ == "__main__":
    main()
