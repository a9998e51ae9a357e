"""EC2's account-level instance metadata defaults, which moto lacks
(GetInstanceMetadataDefaults, ModifyInstanceMetadataDefaults), per account
and region.

AWS behaviour followed (EC2 API Reference; Amazon EC2 User Guide,
"Configure instance metadata options for new instances"):
* nothing is set until someone sets it: GetInstanceMetadataDefaults
  answers an `accountLevel` without the fields no one set (and
  `managedBy: account`);
* ModifyInstanceMetadataDefaults changes only the parameters it is given;
  `no-preference` (and `-1` for the hop limit) clears a field;
  HttpTokens is `optional`, `required` or `no-preference`; HttpEndpoint
  and InstanceMetadataTags `enabled`, `disabled` or `no-preference`; the
  hop limit 1 to 64 (or -1); anything else is refused
  (InvalidParameterValue);
* while a declarative policy manages the defaults, the account cannot
  change them (refused with UnauthorizedOperation: stricter than unknown).

Sources (AWS's documentation):
* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetInstanceMetadataDefaults.html
* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceMetadataDefaults.html
* https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html
"""

from .common import AccountSetting, ServiceError, ec2_answer

OPERATIONS = ("GetInstanceMetadataDefaults", "ModifyInstanceMetadataDefaults")
# Parameter -> (answer element, allowed values).
FIELDS = {
    "HttpTokens": ("httpTokens", ("optional", "required")),
    "HttpEndpoint": ("httpEndpoint", ("enabled", "disabled")),
    "InstanceMetadataTags": ("instanceMetadataTags", ("enabled", "disabled")),
}

# (account, region) -> {answer element: value}; a declarative policy's
# values by answer element (`httpTokens`).
SETTING = AccountSetting()
reset = SETTING.reset
set_by_policy = SETTING.set_by_policy


def handle(req):
    if req.service != "ec2" or req.action not in OPERATIONS:
        return None
    key = (req.account, req.region)
    with SETTING.lock:
        if req.action == "GetInstanceMetadataDefaults":
            fields = dict(SETTING.values.get(key, {}))
            fields["managedBy"] = SETTING.managed_by(key)
            inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
            return ec2_answer(req.action, {"accountLevel": inner})
        SETTING.refuse_if_held(key, "the instance metadata defaults")
        changes = {}
        for param, (element, allowed) in FIELDS.items():
            value = req.param(param)
            if value is None:
                continue
            if value != "no-preference" and value not in allowed:
                raise ServiceError("InvalidParameterValue", f"Value ({value}) for parameter {param} is invalid")
            changes[element] = None if value == "no-preference" else value
        hops = req.param("HttpPutResponseHopLimit")
        if hops is not None:
            try:
                n = int(hops)
            except ValueError:
                n = 0
            if n != -1 and not 1 <= n <= 64:
                raise ServiceError("InvalidParameterValue",
                                   f"Value ({hops}) for parameter HttpPutResponseHopLimit is invalid")
            changes["httpPutResponseHopLimit"] = None if n == -1 else str(n)
        current = SETTING.values.setdefault(key, {})
        for element, value in changes.items():
            if value is None:
                current.pop(element, None)
            else:
                current[element] = value
        return ec2_answer(req.action, {"return": "true"})
