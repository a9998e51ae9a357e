"""AWS Account: PutAlternateContact holds each value to the limits of the
Account API's model (which moto does not check): Name 1-64 characters,
Title 1-50, PhoneNumber 1-25 matching `[\\s0-9()+-]+`, EmailAddress 1-254
matching `[\\s]*[\\w+=.#|!&-]+@[\\w.-]+\\.[\\w]+[\\s]*`; a value outside them
is ValidationException, nothing stored. The limits are read from
botocore's model, not written here.

Sources:
* https://docs.aws.amazon.com/accounts/latest/reference/API_PutAlternateContact.html
* botocore's `account` service model (its shapes' min, max and pattern)
"""

import functools
import json
import re

import botocore.session

from .common import ServiceError


@functools.lru_cache(maxsize=None)
def _limits():
    """{member: (min, max, pattern)} of PutAlternateContact's input."""
    shape = botocore.session.get_session().get_service_model("account") \
        .operation_model("PutAlternateContact").input_shape
    return {name: (m.metadata.get("min"), m.metadata.get("max"), m.metadata.get("pattern"))
            for name, m in shape.members.items() if m.type_name == "string"}


def refusal(body):
    """Why the request's values break the model's limits, or None."""
    for name, (low, high, pattern) in _limits().items():
        value = body.get(name)
        if not isinstance(value, str):
            continue
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            return f"{name} must be {low} to {high} characters long"
        # `\w` as ASCII: the stricter reading of the model's pattern.
        if pattern and not re.fullmatch(pattern, value, re.ASCII):
            return f"{name} does not match the pattern {pattern}"
    return None


def handle(req):
    if req.service != "account" or req.method != "POST" or req.path.rstrip("/") != "/putAlternateContact":
        return None
    try:
        body = json.loads(req.body or b"{}")
    except ValueError:
        return None
    why = refusal(body)
    if why is not None:
        raise ServiceError("ValidationException", f"Invalid request: {why}")
    return None
