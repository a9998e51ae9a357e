"""EC2 GetEbsDefaultKmsKeyId and ResetEbsDefaultKmsKeyId, which moto lacks
(it serves ModifyEbsDefaultKmsKeyId and keeps the key in its EC2 backend,
per account and region; these read and reset that same value).

AWS behaviour followed (EC2 API reference):
* GetEbsDefaultKmsKeyId: the default key of the region; before anyone set
  one, the AWS-managed key `alias/aws/ebs`.
* ResetEbsDefaultKmsKeyId: back to the AWS-managed key; the answer names
  it by its alias ARN.

Sources (AWS's documentation):
* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetEbsDefaultKmsKeyId.html
* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ResetEbsDefaultKmsKeyId.html
"""

from moto.ec2.models import ec2_backends

from .common import ec2_answer, partition


def handle(req):
    if req.service != "ec2" or req.action not in ("GetEbsDefaultKmsKeyId", "ResetEbsDefaultKmsKeyId"):
        return None
    backend = ec2_backends[req.account][req.region]
    if req.action == "ResetEbsDefaultKmsKeyId":
        backend.default_kms_key_id = ""
        return ec2_answer(req.action, {"kmsKeyId": f"arn:{partition(req.region)}:kms:{req.region}:{req.account}:alias/aws/ebs"})
    return ec2_answer(req.action, {"kmsKeyId": backend.default_kms_key_id or "alias/aws/ebs"})
