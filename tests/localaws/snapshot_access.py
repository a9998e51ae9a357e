"""EC2's block public access for snapshots, which moto lacks: the account's
setting per region (GetSnapshotBlockPublicAccessState,
EnableSnapshotBlockPublicAccess, DisableSnapshotBlockPublicAccess).

AWS behaviour followed (EC2 API Reference and the Amazon EBS User Guide,
"Block public access for snapshots"):
* the setting is per account and Region, `unblocked` until someone
  enables it, and managed by the account (`managedBy: account`) unless a
  declarative policy of AWS Organizations sets it;
* EnableSnapshotBlockPublicAccess takes `State` (required), one of
  `block-all-sharing` or `block-new-sharing` (`unblocked` is
  DisableSnapshotBlockPublicAccess's), and answers the new state;
* DisableSnapshotBlockPublicAccess answers `unblocked`;
* while a declarative policy manages the setting, the account cannot
  change it (stricter than unknown: refused with
  `UnauthorizedOperation`).

Sources (AWS's documentation):
* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetSnapshotBlockPublicAccessState.html
* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableSnapshotBlockPublicAccess.html
* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisableSnapshotBlockPublicAccess.html
* https://docs.aws.amazon.com/ebs/latest/userguide/block-public-access-snapshots.html
"""

import threading

from .common import ServiceError, ec2_answer

OPERATIONS = ("GetSnapshotBlockPublicAccessState", "EnableSnapshotBlockPublicAccess",
              "DisableSnapshotBlockPublicAccess")
MODES = ("block-all-sharing", "block-new-sharing")

_lock = threading.Lock()
# (account, region) -> state; absent: unblocked.
_state = {}
# (account, region) set by a declarative policy (tests set it).
_by_policy = set()


def reset():
    with _lock:
        _state.clear()
        _by_policy.clear()


def set_by_policy(account, region, state):
    """What a declarative policy of the organization sets (for tests)."""
    with _lock:
        _state[(account, region)] = state
        _by_policy.add((account, region))


def handle(req):
    if req.service != "ec2" or req.action not in OPERATIONS:
        return None
    key = (req.account, req.region)
    with _lock:
        if req.action == "GetSnapshotBlockPublicAccessState":
            managed = "declarative-policy" if key in _by_policy else "account"
            return ec2_answer(req.action, {"state": _state.get(key, "unblocked"), "managedBy": managed})
        if key in _by_policy:
            raise ServiceError("UnauthorizedOperation",
                               "block public access for snapshots is managed by a declarative policy")
        if req.action == "DisableSnapshotBlockPublicAccess":
            _state.pop(key, None)
            return ec2_answer(req.action, {"state": "unblocked"})
        mode = req.param("State")
        if mode is None:
            raise ServiceError("MissingParameter", "The request must contain the parameter State")
        if mode not in MODES:
            raise ServiceError("InvalidParameterValue",
                               f"Value ({mode}) for parameter State is invalid. Valid values: {', '.join(MODES)}")
        _state[key] = mode
        return ec2_answer(req.action, {"state": mode})
