"""The tests' local AWS: moto's own WSGI application, served threaded like
`python -m moto.server`, with the operations baseline calls that moto
lacks (one module each beside this file: `accessanalyzer`, `securityhub`,
`securityhub_central`, `ebs`, `cloudtrail`, `config`, `endless`, `guardduty`, `iam`, `organization`, `s3`, `settle`,
`support`), and what tests need of a server:

* ``--latency-ms N``: every request waits N ms before it is served, so the
  benchmark sees the round trips of a real network (there is no netem here);
* ``--deny-role ARN``: AssumeRole into that role is refused with AccessDenied,
  as AWS does for a role that does not exist or does not trust the caller
  (moto lets every AssumeRole through);
* ``--deny SERVICE:REGION``: every request of that JSON-protocol service in
  that region is refused with AccessDeniedException, as an SCP or a
  missing permission does;
* ``--s3-conflict-ms N``: how long a change to a bucket's configuration
  holds the bucket (a second one meanwhile is answered 409
  OperationAborted, as S3 does; ``s3.py``); 50 unless told, 0 turns it off;
* ``--settle-ms N``: a bucket or key policy written less than N ms ago is
  not yet what CloudTrail and Config check (``settle.py``); 0 unless told;
* CloudTrail and Config refuse a bucket or key whose policy does not let
  them deliver (``cloudtrail.py``, ``config.py``), as AWS does;
* ``--enforce-iam``: a request signed with an IAM user's access key is
  served only when the user's policies allow it (``authz.py``); denials
  are listed in the stats under ``denied``;
* ``GET /_baseline/writes?since=N``: every request that asks for a change,
  from the N-th on, with its operation, resource and payload
  (``writes.py``; the e2e suite's plan-contract checker reads it);
* ``GET /_baseline/pid``: the server's process id, so that a test knows
  the server on its port is its own (another test's may have taken the
  port first);
* ``GET /_baseline/stats``: how many requests were served, by service and
  operation, and by access key (one per assumed-role session); the
  SourceIdentity of each AssumeRole; how many are being answered
  (``in_flight``);
* ``POST /_baseline/root-mfa`` ``{"account", "enabled"}``,
  ``POST /_baseline/support-plan`` ``{"account", "plan"}`` and
  ``POST /_baseline/enable-region`` ``{"account", "region"}``: facts of an
  account that no AWS API sets (or, for regions, not at once);
  ``POST /_baseline/declarative-policy`` ``{"setting":
  "snapshot-block-public-access", "account", "region", "state"}`` (or
  ``"instance-metadata-defaults"`` with ``"values"``): a setting an
  organization's declarative policy holds (``snapshot_access.py``,
  ``imds_defaults.py``);
  ``POST /_baseline/unoffered`` ``{"service", "region", "names"}``: the
  GuardDuty protection plans or Security Hub standards a region does not
  offer (``guardduty.py``, ``securityhub.py``);
  ``POST /_baseline/s3-busy`` ``{"account", "bucket", "ms"}``: another
  client's change of that bucket under way for that long (``s3.py``);
  ``POST /_baseline/settle-now`` ``{}``: everything written so far is in
  effect at once, as if made long ago (``settle.py``);
  ``POST /_baseline/endless-pages`` ``{"operations": [...]}``: those
  listings never end (``endless.py``, a fault for the client's bound);
* opt-in regions (``regions.py``): a request signed for a region the
  account has not enabled is refused, as AWS refuses it.

Run it with `tests/local-aws.sh PORT [--latency-ms N]` (which installs
what it needs), or as `python -m localaws.server` with `tests/` on the path.
"""

import argparse
import collections
import io
import json
import os
import re
import threading
import time
import urllib.parse
import uuid

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

from . import (account, accessanalyzer, authz, cloudtrail, config, ebs, endless, guardduty, iam, organization, regions, s3,
               securityhub, securityhub_central, settle, snapshot_access, support, writes, imds_defaults)
from .common import Answer, REASONS, Request, ServiceError, json_answer

CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")
# Marks the answers of the additions (test_model.py checks those).
ADDITION_HEADER = "x-baseline-local-aws"

# Each addition answers the requests it serves and returns None for the
# rest, which moto serves.
ADDITIONS = [endless.handle, regions.handle, account.handle, accessanalyzer.handle, securityhub_central.handle, organization.handle, securityhub.handle,
             ebs.handle, snapshot_access.handle, imds_defaults.handle, guardduty.handle, support.handle, cloudtrail.handle, config.handle]
# And what they add to moto's answers: called with the request and the status.
AFTER = [s3.after]
config.install()
settle.install()
securityhub.install()
guardduty.install()
iam.install()
organization.install()
securityhub_central.install()


def error_answer(service, e):
    """An error in the wire form of the service's protocol."""
    if service == "ec2":
        xml = (f"<Response><Errors><Error><Code>{e.code}</Code><Message>{e.message}</Message>"
               f"</Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>")
        return Answer(e.status, [("Content-Type", "text/xml")], xml.encode())
    body = {"__type": e.code, "message": e.message, **e.fields}
    if service == "securityhub":
        body = {"Code": e.code, "Message": e.message, **e.fields}
    content_type = "application/x-amz-json-1.1" if service == "support" else "application/json"
    return Answer(e.status, [("Content-Type", content_type), ("x-amzn-ErrorType", e.code)],
                  json.dumps(body).encode())


def serve_additions(req):
    try:
        for handle in ADDITIONS:
            answer = handle(req)
            if answer is not None:
                return answer
    except ServiceError as e:
        return error_answer(req.service, e)
    return None


def control(path, body):
    """The test-only endpoints under /_baseline/."""
    data = json.loads(body or b"{}")
    if path == "/_baseline/root-mfa":
        iam.set_root_mfa(data["account"], bool(data["enabled"]))
    elif path == "/_baseline/support-plan":
        support.plans[data["account"]] = data["plan"]
    elif path == "/_baseline/enable-region":
        regions.enable(data["account"], data["region"])
    elif path == "/_baseline/unoffered" and data["service"] in ("guardduty", "securityhub"):
        unoffered = guardduty.UNOFFERED if data["service"] == "guardduty" else securityhub.UNOFFERED
        unoffered[data["region"]] = set(data["names"])
    elif path == "/_baseline/declarative-policy" and data["setting"] == "snapshot-block-public-access":
        snapshot_access.set_by_policy(data["account"], data["region"], data["state"])
    elif path == "/_baseline/declarative-policy" and data["setting"] == "instance-metadata-defaults":
        imds_defaults.set_by_policy(data["account"], data["region"], data["values"])
    elif path == "/_baseline/s3-busy":
        s3.busy(data["account"], data["bucket"], float(data["ms"]) / 1000.0)
    elif path == "/_baseline/settle-now":
        settle.settle_now()
    elif path == "/_baseline/endless-pages":
        endless.ENDLESS.clear()
        endless.ENDLESS.update(data["operations"])
    else:
        return None
    return json_answer({"ok": True})


class Wrapper:
    def __init__(self, app, latency, deny_roles, deny=(), enforce_iam=False):
        self.enforce_iam = enforce_iam
        self.denied = []
        # The SourceIdentity of each AssumeRole (moto ignores it).
        self.source_identities = []
        self.deny = set(deny)
        self.app = app
        self.latency = latency
        self.deny_roles = set(deny_roles)
        self.lock = threading.Lock()
        self.by_operation = collections.Counter()
        self.by_key = collections.Counter()
        self.by_fact = collections.Counter()
        self.total = 0
        # Seconds spent serving (not sleeping): moto is one Python process,
        # so this is a floor under any run's wall time too.
        self.busy = 0.0
        self.active = 0
        self.active_since = 0.0
        # Requests received and not yet answered (from when the server hands
        # the request to this wrapper, the latency's sleep too): a test waits for none before it counts
        # the writes of the next run, when a killed run may have left some.
        self.in_flight = 0
        self.op_time = collections.Counter()
        self.timeline = collections.deque(maxlen=5000)

    def stats(self):
        with self.lock:
            return {
                "total": self.total,
                "in_flight": self.in_flight,
                "busy_s": round(self.busy, 3),
                "op_seconds": {k: round(v, 3) for k, v in self.op_time.most_common(15)},
                "timeline": list(self.timeline),
                "by_operation": dict(self.by_operation),
                "by_access_key": dict(self.by_key),
                # access key, region, service, operation, path: the same
                # read twice in one run is the same fact asked twice.
                "by_fact": dict(self.by_fact),
                "denied": list(self.denied),
                "source_identities": list(self.source_identities),
            }

    @staticmethod
    def send(answer, start_response):
        start_response(f"{answer.status} {REASONS.get(answer.status, '')}",
                       answer.headers + [(ADDITION_HEADER, "addition")])
        return [answer.body]

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in ("/_baseline/stats", "/_baseline/writes", "/_baseline/pid"):
            if environ["PATH_INFO"] == "/_baseline/stats":
                body = json.dumps(self.stats()).encode()
            elif environ["PATH_INFO"] == "/_baseline/pid":
                body = json.dumps({"pid": os.getpid()}).encode()
            else:
                query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
                body = json.dumps(writes.since(int((query.get("since") or ["0"])[0]))).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]

        with self.lock:
            self.in_flight += 1
        try:
            return self.serve(environ, start_response)
        finally:
            with self.lock:
                self.in_flight -= 1

    def serve(self, environ, start_response):
        # Read the body once and hand moto a fresh copy.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)

        if environ.get("PATH_INFO", "").startswith("/_baseline/"):
            answer = control(environ["PATH_INFO"], body)
            if answer is not None:
                return self.send(answer, start_response)

        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = CREDENTIAL.search(auth)
        key, region, service = (m.group(1), m.group(2), m.group(3)) if m else ("-", "-", "-")
        target = environ.get("HTTP_X_AMZ_TARGET")
        form = {}
        if not target and body and b"Action=" in body:
            form = urllib.parse.parse_qs(body.decode(errors="replace"))
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        action = (
            target.split(".")[-1]
            if target
            else (form.get("Action") or query.get("Action") or [None])[0]
        ) or " ".join(
            [environ.get("REQUEST_METHOD", ""), re.sub(r"/[0-9a-f-]{20,}", "/ID", environ.get("PATH_INFO", ""))]
            + sorted(k for k in query if k != "x-id")[:1]
        )

        with self.lock:
            self.total += 1
            self.by_operation[f"{service} {action}"] += 1
            self.by_key[key] += 1
            self.by_fact[f"{key} {region} {service} {action}"] += 1

        if self.latency:
            time.sleep(self.latency)

        if action == "AssumeRole":
            with self.lock:
                self.source_identities.append((form.get("SourceIdentity") or [None])[0])
        if action == "AssumeRole" and form.get("RoleArn", [None])[0] in self.deny_roles:
            arn = form["RoleArn"][0]
            xml = (
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
                "<Type>Sender</Type><Code>AccessDenied</Code>"
                f"<Message>User is not authorized to perform: sts:AssumeRole on resource: {arn}</Message>"
                "</Error><RequestId>denied-by-test</RequestId></ErrorResponse>"
            ).encode()
            start_response("403 Forbidden", [("Content-Type", "text/xml")])
            return [xml]
        if f"{service}:{region}" in self.deny:
            body = json.dumps({
                "__type": "AccessDeniedException",
                "message": f"not authorized to perform {service}:{action} in {region} (denied by test)",
            }).encode()
            start_response("400 Bad Request", [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("x-amzn-ErrorType", "AccessDeniedException"),
            ])
            return [body]
        if environ.get("PATH_INFO") == "/moto-api/reset":
            regions.reset()
            snapshot_access.reset()
            imds_defaults.reset()
            guardduty.UNOFFERED.clear()
            securityhub.UNOFFERED.clear()
        answer = regions.refused(Request(environ, body))
        if answer is not None:
            writes.record(Request(environ, body), answer.status)
            return self.send(answer, start_response)
        if self.enforce_iam:
            answer = authz.denied(Request(environ, body), self.denied)
            if answer is not None:
                writes.record(Request(environ, body), answer.status)
                return self.send(answer, start_response)
        start = time.monotonic()
        with self.lock:
            if self.active == 0:
                self.active_since = start
            self.active += 1
        held = None
        try:
            req = Request(environ, body)
            held, conflict = s3.hold(req)
            if conflict is not None:
                writes.record(req, conflict.status)
                return self.send(conflict, start_response)
            answer = serve_additions(req)
            if answer is not None:
                writes.record(req, answer.status)
                return self.send(answer, start_response)
            status = []

            def recording_start_response(code, headers, *exc):
                status.append(int(code.split()[0]))
                return start_response(code, headers, *exc)

            out = list(self.app(environ, recording_start_response))
            for hook in AFTER:
                hook(req, status[0] if status else 0)
            writes.record(req, status[0] if status else 0)
            return out
        finally:
            s3.release(held)
            end = time.monotonic()
            with self.lock:
                self.active -= 1
                # Time with at least one request being served.
                if self.active == 0:
                    self.busy += end - self.active_since
                self.op_time[f"{service} {action}"] += end - start
                self.timeline.append((round(start - self.latency, 4), round(end, 4), key[-6:], service, action))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--deny-role", action="append", default=[])
    p.add_argument("--deny", action="append", default=[], metavar="SERVICE:REGION")
    p.add_argument("--enforce-iam", action="store_true")
    p.add_argument("--s3-conflict-ms", type=float, default=s3.CONFLICT_HOLD * 1000)
    p.add_argument("--settle-ms", type=float, default=settle.SETTLE * 1000)
    args = p.parse_args()
    settle.SETTLE = args.settle_ms / 1000.0
    s3.CONFLICT_HOLD = args.s3_conflict_ms / 1000.0
    app = DomainDispatcherApplication(create_backend_app)
    wrapped = Wrapper(app, args.latency_ms / 1000.0, args.deny_role, args.deny, args.enforce_iam)
    run_simple(args.host, args.port, wrapped, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
