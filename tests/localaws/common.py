"""What every addition to moto shares: the request as the additions see it,
and answers in the wire forms AWS uses (JSON for the JSON and REST-JSON
protocols, XML for EC2's query protocol)."""

import json
import re
import threading
import urllib.parse
import uuid

from moto.iam.models import get_account_id_from
from moto.utilities.utils import get_partition


def partition(region):
    """The ARN partition of a region (`aws-cn` for `cn-*`, `aws-us-gov` for
    `us-gov-*`), as AWS writes it in every ARN ("Amazon Resource Names")."""
    return get_partition(region) if region and region != "-" else "aws"

CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")


class Request:
    """One request: who sent it (access key → account, as moto decides),
    where (region and signing name from the SigV4 scope), and what."""

    def __init__(self, environ, body):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        m = CREDENTIAL.search(auth)
        self.access_key, self.region, self.service = (
            (m.group(1), m.group(2), m.group(3)) if m else ("-", "-", "-")
        )
        self.account = get_account_id_from(self.access_key) if m else "123456789012"
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.path = urllib.parse.unquote(environ.get("PATH_INFO", ""))
        # As sent, still percent-encoded (werkzeug's server sets it).
        self.raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        self.query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self.target = environ.get("HTTP_X_AMZ_TARGET")
        self.body = body
        self.form = {}
        if not self.target and body and b"Action=" in body:
            self.form = urllib.parse.parse_qs(body.decode(errors="replace"))
        self.action = (
            self.target.split(".")[-1]
            if self.target
            else (self.form.get("Action") or self.query.get("Action") or [None])[0]
        )

    def json(self):
        return json.loads(self.body or b"{}")

    def param(self, name, default=None):
        """A query-protocol parameter (form body or query string)."""
        return (self.form.get(name) or self.query.get(name) or [default])[0]


class Answer:
    """A response: status, headers, body."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required",
           403: "Forbidden", 404: "Not Found", 409: "Conflict", 500: "Internal Server Error"}


def json_answer(data, status=200, content_type="application/json"):
    return Answer(status, [("Content-Type", content_type)], json.dumps(data).encode())


def json_error(code, message, status=400, content_type="application/json", message_key="message"):
    """An error as the JSON protocols carry it: the code in `__type` and in
    the `x-amzn-ErrorType` header, which is where the SDKs read it."""
    body = {"__type": code, message_key: message}
    return Answer(status, [("Content-Type", content_type), ("x-amzn-ErrorType", code)],
                  json.dumps(body).encode())


def ec2_answer(action, fields):
    """An EC2 query-protocol answer with flat string fields."""
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    xml = (f'<{action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
           f"<requestId>{uuid.uuid4()}</requestId>{inner}</{action}Response>")
    return Answer(200, [("Content-Type", "text/xml")], xml.encode())


class ServiceError(Exception):
    """An AWS error an addition raises; the dispatcher turns it into the
    answer of the service's protocol."""

    def __init__(self, code, message, status=400, fields=None):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        # Members the error's shape has besides its message (a reason).
        self.fields = fields or {}


class AccountSetting:
    """An EC2 account setting per account and region that an
    organization's declarative policy may hold instead ("Declarative
    policies", AWS Organizations User Guide: the account then cannot change
    it, and EC2 reports `managedBy: declarative-policy`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}
        self.by_policy = set()

    def reset(self):
        with self.lock:
            self.values.clear()
            self.by_policy.clear()

    def set_by_policy(self, account, region, value):
        """What a declarative policy of the organization sets (for tests)."""
        with self.lock:
            self.values[(account, region)] = value
            self.by_policy.add((account, region))

    def managed_by(self, key):
        return "declarative-policy" if key in self.by_policy else "account"

    def refuse_if_held(self, key, what):
        if key in self.by_policy:
            raise ServiceError("UnauthorizedOperation", f"{what} is managed by a declarative policy")
