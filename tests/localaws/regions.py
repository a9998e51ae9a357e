"""Opt-in regions, as AWS has them: the regions AWS introduced after
March 20, 2019 are disabled in an account until someone enables them.

AWS behaviour followed:
* EC2 DescribeRegions lists the regions enabled for the account; with
  `AllRegions=true`, every region of the partition, each with its
  `optInStatus`: `opt-in-not-required` (enabled by default),
  `opted-in`, or `not-opted-in`. (moto marks af-south-1, ap-southeast-3
  and eu-south-1 as enabled by default; AWS lists them as opt-in.)
* A request signed for a region the account has not enabled is refused
  as if the credentials were unknown there (403, "The security token
  included in the request is invalid"): `InvalidClientTokenId`, the code
  AWS's common errors give for it in every protocol (some services spell
  it `UnrecognizedClientException`), EC2 `AuthFailure` (401), S3
  `InvalidAccessKeyId`.
* A test enables a region for an account with
  `POST /_baseline/enable-region {"account", "region"}` (as
  `aws account enable-region` would, without the minutes it takes).

Sources (AWS's documentation):
* https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html
* https://docs.aws.amazon.com/STS/latest/UserGuide/id_credentials_temp_enable-regions.html
* https://docs.aws.amazon.com/guardduty/latest/APIReference/CommonErrors.html
* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (AuthFailure)
"""

import collections
import threading
import uuid

import botocore.session

from .common import Answer, json_error

# The regions enabled by default in every account (those introduced before
# March 20, 2019); any other region of the `aws` partition is opt-in.
ENABLED_BY_DEFAULT = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ca-central-1",
    "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
    "sa-east-1",
})

_lock = threading.Lock()
_enabled = collections.defaultdict(set)
_all_regions = botocore.session.get_session().get_available_regions("ec2")


def enable(account, region):
    with _lock:
        _enabled[account].add(region)


def status(account, region):
    if region in ENABLED_BY_DEFAULT or region not in _all_regions:
        # Other partitions' regions, and names botocore does not know,
        # are not this rule's business.
        return "opt-in-not-required"
    with _lock:
        return "opted-in" if region in _enabled[account] else "not-opted-in"


def refused(req):
    """The answer to a request signed for a region the account has not
    enabled; None for any other request."""
    if req.region in ("-", None) or status(req.account, req.region) != "not-opted-in":
        return None
    message = "The security token included in the request is invalid."
    if req.service == "ec2":
        xml = ("<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to "
               "validate the provided access credentials</Message></Error></Errors>"
               f"<RequestID>{uuid.uuid4()}</RequestID></Response>")
        return Answer(401, [("Content-Type", "text/xml")], xml.encode())
    if req.service == "s3" and not req.path.startswith("/v20180820/"):
        xml = ("<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided "
               f"does not exist in our records.</Message><RequestId>{uuid.uuid4()}</RequestId></Error>")
        return Answer(403, [("Content-Type", "application/xml")], xml.encode())
    if req.target or req.service in ("guardduty", "securityhub", "access-analyzer", "account"):
        return json_error("InvalidClientTokenId", message, status=403,
                          content_type="application/x-amz-json-1.1")
    xml = ("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
           f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return Answer(403, [("Content-Type", "text/xml")], xml.encode())


def handle(req):
    """EC2 DescribeRegions with AWS's opt-in statuses."""
    if req.service != "ec2" or req.action != "DescribeRegions":
        return None
    every = (req.param("AllRegions") or "").lower() == "true"
    items = []
    for region in sorted(_all_regions):
        st = status(req.account, region)
        if not every and st == "not-opted-in":
            continue
        items.append(f"<item><regionName>{region}</regionName>"
                     f"<regionEndpoint>ec2.{region}.amazonaws.com</regionEndpoint>"
                     f"<optInStatus>{st}</optInStatus></item>")
    xml = ('<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
           f"<requestId>{uuid.uuid4()}</requestId><regionInfo>{''.join(items)}</regionInfo>"
           "</DescribeRegionsResponse>")
    return Answer(200, [("Content-Type", "text/xml")], xml.encode())


def reset():
    """Every region back to its default (moto's `/moto-api/reset`)."""
    with _lock:
        _enabled.clear()
