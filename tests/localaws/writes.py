"""The write log: every request that asks AWS to change something, with
the account, region, operation (as the botocore model names it), the
resource it acts on (as IAM does: ``authz.needs``) and its payload.

The e2e suite's plan-contract checker (``tests/e2e/contract.rs``,
``writes``) matches each of these, after every ``baseline apply``, to a
change of the plan that apply carried out, and the payload to that
change's planned values: a write no change accounts for fails the test.

Served at ``GET /_baseline/writes?since=N`` (the writes from the N-th on);
reads are not logged. An operation is a read when its name says so, as
AWS's own naming does (Service Authorization Reference, access level
"Read"/"List": Get*, List*, Describe*, Head*, Lookup*), plus the few
reads that are not named so.
"""

import json
import threading
import urllib.parse

from . import authz

READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "Search", "Select")
# Reads (or nothing at all) under other names.
NOT_WRITES = {("sts", "AssumeRole"), ("sts", "GetCallerIdentity"), ("iam", "GenerateCredentialReport")}
MAX_BODY = 200_000

_lock = threading.Lock()
_log = []


def _is_write(name, op):
    if op is None:
        return False
    return not op.startswith(READ_PREFIXES) and (name, op) not in NOT_WRITES


def _payload(req):
    """The request's parameters: JSON for the JSON protocols, the form for
    the query protocol, the body's text for REST (an S3 policy, XML)."""
    if req.target:
        try:
            return json.loads(req.body or b"{}")
        except ValueError:
            return (req.body or b"").decode(errors="replace")[:MAX_BODY]
    if req.form:
        return {k: v[0] if len(v) == 1 else v for k, v in req.form.items()}
    text = (req.body or b"").decode(errors="replace")[:MAX_BODY]
    try:
        return json.loads(text) if text.lstrip().startswith(("{", "[")) else text
    except ValueError:
        return text


def record(req, status):
    """Logs `req` if it is a write (answered `status`)."""
    if req.path.startswith("/_baseline/") or req.path.startswith("/moto-api/"):
        return
    raw = urllib.parse.urlsplit(req.raw_uri).path if req.raw_uri else req.path
    try:
        name, op, labels = authz.operation(req.service, req.method, raw, req.query, req.target, req.form)
    except Exception:  # a service botocore does not model: not ours to judge
        return
    if not _is_write(name, op):
        return
    labels = {k: urllib.parse.unquote(v) for k, v in labels.items()}
    try:
        resources = sorted({r for _, r, _ in authz.needs(req, name, op, labels)})
    except Exception:
        resources = []
    entry = {
        "account": req.account,
        "region": req.region,
        "service": name,
        "operation": op,
        "resources": resources,
        "labels": labels,
        "query": {k: v[0] if len(v) == 1 else v for k, v in req.query.items()},
        "payload": _payload(req),
        "status": status,
    }
    with _lock:
        _log.append(entry)


def since(n):
    with _lock:
        return list(_log[n:])


