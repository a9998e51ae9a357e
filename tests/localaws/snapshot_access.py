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

from .common import AccountSetting, ServiceError, ec2_answer

OPERATIONS = ("GetSnapshotBlockPublicAccessState", "EnableSnapshotBlockPublicAccess",
              "DisableSnapshotBlockPublicAccess")
MODES = ("block-all-sharing", "block-new-sharing")

# (account, region) -> state; absent: unblocked.
SETTING = AccountSetting()
reset = SETTING.reset
set_by_policy = SETTING.set_by_policy


def handle(req):
    if req.service != "ec2" or req.action not in OPERATIONS:
        return None
    key = (req.account, req.region)
    with SETTING.lock:
        if req.action == "GetSnapshotBlockPublicAccessState":
            return ec2_answer(req.action, {"state": SETTING.values.get(key, "unblocked"),
                                           "managedBy": SETTING.managed_by(key)})
        SETTING.refuse_if_held(key, "block public access for snapshots")
        if req.action == "DisableSnapshotBlockPublicAccess":
            SETTING.values.pop(key, None)
            return ec2_answer(req.action, {"state": "unblocked"})
        mode = req.param("State")
        if mode is None:
            raise ServiceError("MissingParameter", "The request must contain the parameter State")
        if mode not in MODES:
            raise ServiceError("InvalidParameterValue",
                               f"Value ({mode}) for parameter State is invalid. Valid values: {', '.join(MODES)}")
        SETTING.values[key] = mode
        return ec2_answer(req.action, {"state": mode})
