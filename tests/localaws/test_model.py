"""Every answer the additions to moto give, checked against the AWS service
models that ship with botocore: output members and types (no member AWS
does not define, every required one present, enum values known) and error
codes (one the operation declares, or one of AWS's common errors). So the
local AWS cannot drift from the real API.

Run: `PYTHONPATH=tests $MOTO_PYTHON -m unittest localaws.test_model` (tests/run.sh does).
"""

import json
import threading
import time
import unittest
import urllib.request
import xml.etree.ElementTree as ET

import boto3
import botocore.config
import botocore.exceptions
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from .server import ADDITION_HEADER, Wrapper

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"

# AWS's common errors (any operation may answer them), and the Support
# API's answer to an account without Business support ("About the AWS
# Support API": SubscriptionRequiredException), which its model leaves out.
COMMON_ERRORS = {"AccessDeniedException", "IncompleteSignature", "InternalFailure", "InvalidAction",
                 "InvalidClientTokenId", "NotAuthorized", "OptInRequired", "RequestExpired",
                 "ServiceUnavailable", "ThrottlingException", "ValidationError"}
# And S3's OperationAborted (409), which S3's error list ("Error
# responses", S3 API Reference) gives for conflicting operations on one
# bucket and its model declares for no operation.
# EC2's common client errors (EC2 API Reference, "Error codes for the
# Amazon EC2 API": AuthFailure, InvalidParameterValue, MissingParameter,
# UnauthorizedOperation), which EC2's model declares for no operation.
EXTRA_ERRORS = {"support": {"SubscriptionRequiredException"}, "s3": {"OperationAborted"},
                "ec2": {"AuthFailure", "InvalidParameterValue", "MissingParameter", "UnauthorizedOperation"}}
# moto's answers that the additions change (config.py, iam.py).
PATCHED = {"DescribeConfigurationRecorders", "GetAccountSummary", "GetCredentialReport",
           "PutConfigurationRecorder", "ListTagsForResource", "TagResource", "CreateServiceLinkedRole",
           "UpdateAccountPasswordPolicy", "GetAccountPasswordPolicy"}


def json_problems(value, shape, path="$"):
    """What in a JSON answer the shape does not allow."""
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        names = {m.serialization.get("name", n): m for n, m in shape.members.items()
                 if m.serialization.get("location") is None}
        out = [f"{path}.{k}: not a member of {shape.name}" for k in value if k not in names]
        out += [f"{path}.{r}: required, missing" for r in shape.required_members
                if shape.members[r].serialization.get("name", r) not in value]
        for k, v in value.items():
            if k in names:
                out += json_problems(v, names[k], f"{path}.{k}")
        return out
    if t == "list":
        if not isinstance(value, list):
            return [f"{path}: not a list"]
        return [p for i, v in enumerate(value) for p in json_problems(v, shape.member, f"{path}[{i}]")]
    if t == "map":
        if not isinstance(value, dict):
            return [f"{path}: not a map"]
        return [p for k, v in value.items() for p in json_problems(v, shape.value, f"{path}[{k}]")]
    if t == "string":
        if not isinstance(value, str):
            return [f"{path}: not a string"]
        return [f"{path}: {value!r} not in {shape.enum}"] if shape.enum and value not in shape.enum else []
    if t in ("integer", "long"):
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: not an integer"]
    if t == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: not a boolean"]
    if t == "timestamp":
        iso = shape.serialization.get("timestampFormat") == "iso8601"
        ok = isinstance(value, str) if iso else isinstance(value, (int, float))
        return [] if ok else [f"{path}: timestamp in the wrong form"]
    if t in ("double", "float"):
        return [] if isinstance(value, (int, float)) else [f"{path}: not a number"]
    return []


def local(tag):
    return tag.rsplit("}", 1)[-1]


def xml_problems(elem, shape, path):
    """What in an XML answer (EC2 and query protocols) the shape does not allow."""
    t = shape.type_name
    if t == "structure":
        names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
        out = []
        for child in elem:
            name = local(child.tag)
            if name not in names:
                out.append(f"{path}/{name}: not a member of {shape.name}")
            else:
                out += xml_problems(child, names[name], f"{path}/{name}")
        present = {local(c.tag) for c in elem}
        out += [f"{path}/{r}: required, missing" for r in shape.required_members
                if shape.members[r].serialization.get("name", r) not in present]
        return out
    if t == "list":
        return [p for i, c in enumerate(elem) for p in xml_problems(c, shape.member, f"{path}[{i}]")]
    if t == "map":
        out = []
        for entry in elem:
            parts = {local(c.tag): c for c in entry}
            if "key" not in parts or "value" not in parts:
                out.append(f"{path}: a map entry without key or value")
            else:
                out += xml_problems(parts["value"], shape.value, f"{path}[{parts['key'].text}]")
        return out
    text = elem.text or ""
    if t == "string" and shape.enum and text not in shape.enum:
        return [f"{path}: {text!r} not in {shape.enum}"]
    if t in ("integer", "long") and not text.lstrip("-").isdigit():
        return [f"{path}: {text!r} not an integer"]
    if t == "boolean" and text not in ("true", "false"):
        return [f"{path}: {text!r} not a boolean"]
    return []


class ModelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        app = Wrapper(DomainDispatcherApplication(create_backend_app), 0.0, [])
        cls.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
        cls.url = f"http://127.0.0.1:{cls.server.server_port}"
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def setUp(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/moto-api/reset", method="POST"))
        self.checked = set()

    def tearDown(self):
        if self._testMethodName != "test_the_model_check_catches_a_wrong_answer":
            self.assertTrue(self.checked, "no answer was checked against the model")

    def client(self, service, region=REGION, **config):
        """A client of the local AWS; `config` for botocore's Config (e.g.
        parameter_validation=False, to send what AWS itself must refuse)."""
        c = boto3.client(service, region_name=region, endpoint_url=self.url,
                         aws_access_key_id="testing", aws_secret_access_key="testing",
                         config=botocore.config.Config(**config))
        c.meta.events.register("after-call", self.check_answer)
        return c

    def control(self, path, data):
        urllib.request.urlopen(urllib.request.Request(
            self.url + path, data=json.dumps(data).encode(), method="POST"))

    def check_answer(self, http_response, parsed, model, **_):
        """Every answer the additions give or change: its body against the
        output shape, or its error code against the operation's errors.
        (moto's own answers are moto's business: a few have members AWS
        does not define, e.g. DescribeHub's Tags.)"""
        ours = http_response.headers.get(ADDITION_HEADER) or model.name in PATCHED
        if not ours:
            return
        protocol = model.metadata["protocol"]
        raw = http_response.content
        if http_response.status_code >= 300:
            code = parsed["Error"]["Code"]
            # The query protocols spell some codes apart from the shape's
            # name (IAM's InvalidInputException is `InvalidInput`).
            allowed = {e.name for e in model.error_shapes} | \
                {e.metadata.get("error", {}).get("code", e.name) for e in model.error_shapes} | COMMON_ERRORS | \
                EXTRA_ERRORS.get(model.service_model.endpoint_prefix, set())
            self.assertIn(code, allowed, f"{model.name} answered an error AWS does not declare")
        elif model.output_shape is not None:
            if protocol in ("json", "rest-json"):
                problems = json_problems(json.loads(raw or b"{}"), model.output_shape)
            else:
                root = ET.fromstring(raw)
                if protocol == "query":  # <XResponse><XResult>...</XResult><ResponseMetadata>
                    root = next(c for c in root if local(c.tag).endswith("Result"))
                else:  # ec2: <XResponse><requestId/>...</XResponse>
                    root.remove(next(c for c in root if local(c.tag) == "requestId"))
                problems = xml_problems(root, model.output_shape, model.name)
            self.assertEqual(problems, [], f"{model.name}: the answer does not fit the AWS model")
        self.checked.add(model.name)

    def expect_error(self, code, call, *args, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            call(*args, **kwargs)
        self.assertEqual(e.exception.response["Error"]["Code"], code)

    def test_access_analyzer(self):
        aa = self.client("accessanalyzer")
        arn = aa.create_analyzer(analyzerName="baseline", type="ACCOUNT", tags={"managed-by": "baseline"})["arn"]
        self.expect_error("ServiceQuotaExceededException", aa.create_analyzer, analyzerName="second", type="ACCOUNT")
        self.expect_error("ConflictException", aa.create_analyzer, analyzerName="baseline", type="ACCOUNT_UNUSED_ACCESS")
        aa.create_analyzer(analyzerName="unused", type="ACCOUNT_UNUSED_ACCESS",
                           configuration={"unusedAccess": {"unusedAccessAge": 90}})
        self.assertEqual([a["name"] for a in aa.list_analyzers(type="ACCOUNT")["analyzers"]], ["baseline"])
        self.assertEqual(len(aa.list_analyzers()["analyzers"]), 2)
        self.assertEqual(aa.get_analyzer(analyzerName="unused")["analyzer"]["configuration"],
                         {"unusedAccess": {"unusedAccessAge": 90}})
        aa.tag_resource(resourceArn=arn, tags={"team": "security"})
        aa.untag_resource(resourceArn=arn, tagKeys=["team"])
        self.assertEqual(aa.list_tags_for_resource(resourceArn=arn)["tags"], {"managed-by": "baseline"})
        # State per region and per account.
        self.assertEqual(self.client("accessanalyzer", "us-east-1").list_analyzers()["analyzers"], [])
        aa.delete_analyzer(analyzerName="baseline")
        self.expect_error("ResourceNotFoundException", aa.get_analyzer, analyzerName="baseline")
        self.expect_error("ResourceNotFoundException", aa.delete_analyzer, analyzerName="baseline")
        self.expect_error("ResourceNotFoundException", aa.list_tags_for_resource, resourceArn=arn)

    def test_alternate_contacts_are_held_to_the_models_limits(self):
        # Without the client's own checks, as another SDK might send it.
        account = self.client("account", parameter_validation=False)
        good = {"AlternateContactType": "SECURITY", "Name": "Security Team", "Title": "CISO",
                "EmailAddress": "security@example.com", "PhoneNumber": "+1 555 0100"}
        account.put_alternate_contact(**good)
        for field, value in [("PhoneNumber", "+1 555 0100 ext 12"), ("Title", "x" * 51), ("Name", "x" * 65),
                             ("EmailAddress", "security@example")]:
            self.expect_error("ValidationException", account.put_alternate_contact, **{**good, field: value})
        self.assertEqual(account.get_alternate_contact(AlternateContactType="SECURITY")["AlternateContact"]["PhoneNumber"],
                         "+1 555 0100")

    def test_security_hub_standards(self):
        sh = self.client("securityhub")
        fsbp = f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices/v/1.0.0"
        self.expect_error("InvalidAccessException", sh.get_enabled_standards)
        self.expect_error("InvalidAccessException", sh.describe_standards)
        self.expect_error("InvalidAccessException", sh.batch_enable_standards,
                          StandardsSubscriptionRequests=[{"StandardsArn": fsbp}])
        # The default standards come with the hub unless refused.
        sh.enable_security_hub(Tags={"managed-by": "baseline"})
        self.expect_error("ResourceConflictException", sh.enable_security_hub)
        self.assertEqual(len(sh.get_enabled_standards()["StandardsSubscriptions"]), 2)
        sh.disable_security_hub()
        sh.enable_security_hub(EnableDefaultStandards=False, Tags={"managed-by": "baseline"})
        self.assertEqual(sh.get_enabled_standards()["StandardsSubscriptions"], [])
        self.assertEqual(len(sh.describe_standards()["Standards"]), 6)
        subs = sh.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": fsbp}])
        self.assertEqual(subs["StandardsSubscriptions"][0]["StandardsStatus"], "PENDING")
        statuses = [[s["StandardsStatus"] for s in sh.get_enabled_standards()["StandardsSubscriptions"]]
                    for _ in range(2)]
        self.assertEqual(statuses, [["PENDING"], ["READY"]])
        self.expect_error("InvalidInputException", sh.batch_enable_standards,
                          StandardsSubscriptionRequests=[{"StandardsArn": fsbp + "-no-such"}])
        sub_arn = subs["StandardsSubscriptions"][0]["StandardsSubscriptionArn"]
        gone = sh.batch_disable_standards(StandardsSubscriptionArns=[sub_arn])
        self.assertEqual(gone["StandardsSubscriptions"][0]["StandardsStatus"], "DELETING")
        self.assertEqual(len(sh.get_enabled_standards()["StandardsSubscriptions"]), 1)
        self.assertEqual(sh.get_enabled_standards()["StandardsSubscriptions"], [])
        hub = sh.describe_hub()["HubArn"]
        sh.tag_resource(ResourceArn=hub, Tags={"team": "security"})
        self.assertEqual(sh.list_tags_for_resource(ResourceArn=hub)["Tags"],
                         {"managed-by": "baseline", "team": "security"})
        sh.disable_security_hub()
        self.expect_error("ResourceNotFoundException", sh.list_tags_for_resource, ResourceArn=hub)

    def test_security_hub_standards_by_region(self):
        self.control("/_baseline/unoffered",
                     {"service": "securityhub", "region": "ca-central-1", "names": ["nist-800-53/v/5.0.0"]})
        nist = "standards/nist-800-53/v/5.0.0"
        for region, offered in ((REGION, True), ("ca-central-1", False)):
            sh = self.client("securityhub", region=region)
            sh.enable_security_hub(EnableDefaultStandards=False)
            arns = [s["StandardsArn"] for s in sh.describe_standards()["Standards"]]
            self.assertEqual(any(a.endswith(nist) for a in arns), offered, region)
            arn = f"arn:aws:securityhub:{region}::{nist}"
            if offered:
                sh.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": arn}])
            else:
                self.expect_error("InvalidInputException", sh.batch_enable_standards,
                                  StandardsSubscriptionRequests=[{"StandardsArn": arn}])

    def test_opt_in_regions(self):
        ec2 = self.client("ec2")
        every = {r["RegionName"]: r["OptInStatus"] for r in ec2.describe_regions(AllRegions=True)["Regions"]}
        self.assertEqual(every["ap-northeast-1"], "opt-in-not-required")
        self.assertEqual(every["af-south-1"], "not-opted-in")
        self.assertEqual(every["ap-east-1"], "not-opted-in")
        enabled = {r["RegionName"] for r in ec2.describe_regions()["Regions"]}
        self.assertEqual(len(enabled), 17)
        self.assertNotIn("af-south-1", enabled)
        self.expect_error("InvalidClientTokenId", self.client("guardduty", "af-south-1").list_detectors)
        self.expect_error("AuthFailure", self.client("ec2", "af-south-1").describe_regions)
        self.control("/_baseline/enable-region", {"account": ACCOUNT, "region": "af-south-1"})
        self.assertIn("af-south-1", {r["RegionName"] for r in ec2.describe_regions()["Regions"]})
        self.client("guardduty", "af-south-1").list_detectors()

    def test_ebs_default_key(self):
        ec2 = self.client("ec2")
        kms = self.client("kms")
        self.assertEqual(ec2.get_ebs_default_kms_key_id()["KmsKeyId"], "alias/aws/ebs")
        key = kms.create_key()["KeyMetadata"]["Arn"]
        ec2.modify_ebs_default_kms_key_id(KmsKeyId=key)
        self.assertEqual(ec2.get_ebs_default_kms_key_id()["KmsKeyId"], key)
        self.assertEqual(self.client("ec2", "us-east-1").get_ebs_default_kms_key_id()["KmsKeyId"], "alias/aws/ebs")
        reset = ec2.reset_ebs_default_kms_key_id()["KmsKeyId"]
        self.assertEqual(reset, f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/ebs")
        self.assertEqual(ec2.get_ebs_default_kms_key_id()["KmsKeyId"], "alias/aws/ebs")

    def test_snapshot_block_public_access(self):
        ec2 = self.client("ec2")
        state = ec2.get_snapshot_block_public_access_state()
        self.assertEqual((state["State"], state["ManagedBy"]), ("unblocked", "account"))
        self.assertEqual(ec2.enable_snapshot_block_public_access(State="block-all-sharing")["State"],
                         "block-all-sharing")
        self.assertEqual(ec2.get_snapshot_block_public_access_state()["State"], "block-all-sharing")
        self.assertEqual(self.client("ec2", "us-east-1").get_snapshot_block_public_access_state()["State"],
                         "unblocked")
        self.expect_error("InvalidParameterValue", ec2.enable_snapshot_block_public_access, State="unblocked")
        self.assertEqual(ec2.disable_snapshot_block_public_access()["State"], "unblocked")
        self.control("/_baseline/declarative-policy", {"setting": "snapshot-block-public-access",
                                                       "account": ACCOUNT, "region": REGION,
                                                       "state": "block-new-sharing"})
        state = ec2.get_snapshot_block_public_access_state()
        self.assertEqual((state["State"], state["ManagedBy"]), ("block-new-sharing", "declarative-policy"))
        self.expect_error("UnauthorizedOperation", ec2.disable_snapshot_block_public_access)

    def test_instance_metadata_defaults(self):
        ec2 = self.client("ec2")
        self.assertEqual(ec2.get_instance_metadata_defaults()["AccountLevel"], {"ManagedBy": "account"})
        self.assertTrue(ec2.modify_instance_metadata_defaults(HttpTokens="required", HttpPutResponseHopLimit=2)["Return"])
        level = ec2.get_instance_metadata_defaults()["AccountLevel"]
        self.assertEqual((level["HttpTokens"], level["HttpPutResponseHopLimit"]), ("required", 2))
        ec2.modify_instance_metadata_defaults(HttpEndpoint="enabled")
        level = ec2.get_instance_metadata_defaults()["AccountLevel"]
        self.assertEqual((level["HttpTokens"], level["HttpEndpoint"]), ("required", "enabled"))
        ec2.modify_instance_metadata_defaults(HttpTokens="no-preference", HttpPutResponseHopLimit=-1)
        self.assertNotIn("HttpTokens", ec2.get_instance_metadata_defaults()["AccountLevel"])
        self.expect_error("InvalidParameterValue", ec2.modify_instance_metadata_defaults, HttpPutResponseHopLimit=65)
        self.assertEqual(self.client("ec2", "us-east-1").get_instance_metadata_defaults()["AccountLevel"],
                         {"ManagedBy": "account"})
        self.control("/_baseline/declarative-policy", {"setting": "instance-metadata-defaults", "account": ACCOUNT,
                                                       "region": REGION, "values": {"httpTokens": "required"}})
        self.assertEqual(ec2.get_instance_metadata_defaults()["AccountLevel"]["ManagedBy"], "declarative-policy")
        self.expect_error("UnauthorizedOperation", ec2.modify_instance_metadata_defaults, HttpTokens="optional")

    def test_config_recording_mode(self):
        cfg = self.client("config")
        role = f"arn:aws:iam::{ACCOUNT}:role/config"
        cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role})
        rec = cfg.describe_configuration_recorders()["ConfigurationRecorders"][0]
        self.assertEqual(rec["recordingMode"]["recordingFrequency"], "CONTINUOUS")
        cfg.put_configuration_recorder(ConfigurationRecorder={
            "name": "default", "roleARN": role, "recordingMode": {"recordingFrequency": "DAILY"}})
        rec2 = cfg.describe_configuration_recorders()["ConfigurationRecorders"][0]
        self.assertEqual(rec2["recordingMode"]["recordingFrequency"], "DAILY")
        self.assertEqual(rec2["arn"], rec["arn"], "the recorder keeps its ARN across puts")

    def test_config_recorder_tags(self):
        cfg = self.client("config")
        role = f"arn:aws:iam::{ACCOUNT}:role/config"
        cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role},
                                       Tags=[{"Key": "managed-by", "Value": "baseline"}])
        arn = cfg.describe_configuration_recorders()["ConfigurationRecorders"][0]["arn"]
        cfg.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "security"}])
        # A later put keeps the tags, as AWS does.
        cfg.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role})
        tags = cfg.list_tags_for_resource(ResourceArn=arn)["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags),
                         [("managed-by", "baseline"), ("team", "security")])
        self.expect_error("ResourceNotFoundException", cfg.list_tags_for_resource, ResourceArn=arn + "x")

    def test_guardduty_detector_tags(self):
        gd = self.client("guardduty")
        detector = gd.create_detector(Enable=True, Tags={"managed-by": "baseline"})["DetectorId"]
        arn = f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/{detector}"
        gd.tag_resource(ResourceArn=arn, Tags={"team": "security"})
        gd.untag_resource(ResourceArn=arn, TagKeys=["team"])
        self.assertEqual(gd.list_tags_for_resource(ResourceArn=arn)["Tags"], {"managed-by": "baseline"})
        # UpdateDetector changes the plans it names, and only those.
        gd.update_detector(DetectorId=detector, Features=[
            {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}, {"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"}])
        gd.update_detector(DetectorId=detector, Features=[{"Name": "EKS_AUDIT_LOGS", "Status": "DISABLED"}])
        features = {f["Name"]: f["Status"] for f in gd.get_detector(DetectorId=detector)["Features"]}
        self.assertEqual((features["S3_DATA_EVENTS"], features["EKS_AUDIT_LOGS"]), ("ENABLED", "DISABLED"))
        self.expect_error("BadRequestException", gd.list_tags_for_resource, ResourceArn=arn + "0")

    def test_a_create_retried_with_its_token_makes_one_resource(self):
        """A client whose attempt timed out after AWS acted sends the same
        idempotency token again: AWS answers with what it made. Without
        one, the second create is refused, and a service-linked role is
        never made twice."""
        gd = self.client("guardduty")
        first = gd.create_detector(Enable=True, ClientToken="token-1")["DetectorId"]
        self.assertEqual(gd.create_detector(Enable=True, ClientToken="token-1")["DetectorId"], first)
        self.expect_error("BadRequestException", gd.create_detector, Enable=True, ClientToken="token-2")
        self.assertEqual(gd.list_detectors()["DetectorIds"], [first])
        aa = self.client("accessanalyzer")
        arn = aa.create_analyzer(analyzerName="baseline", type="ACCOUNT", clientToken="token-1")["arn"]
        self.assertEqual(aa.create_analyzer(analyzerName="baseline", type="ACCOUNT", clientToken="token-1")["arn"], arn)
        self.expect_error("ConflictException", aa.create_analyzer, analyzerName="baseline", type="ACCOUNT",
                          clientToken="token-2")
        iam = self.client("iam")
        iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidInput")
        self.assertIn("AWSServiceRoleForConfig has been taken in this account", e.exception.response["Error"]["Message"])
        self.assertEqual(len(iam.list_roles(PathPrefix="/aws-service-role/config.amazonaws.com/")["Roles"]), 1)

    def test_password_policy_is_replaced_whole_within_its_ranges(self):
        iam = self.client("iam", parameter_validation=False)
        self.expect_error("NoSuchEntity", iam.get_account_password_policy)
        iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True, MaxPasswordAge=90)
        iam.update_account_password_policy(MinimumPasswordLength=16)
        p = iam.get_account_password_policy()["PasswordPolicy"]
        self.assertEqual((p["MinimumPasswordLength"], p["RequireSymbols"], p["ExpirePasswords"]), (16, False, False),
                         "a field not sent takes its default")
        self.expect_error("ValidationError", iam.update_account_password_policy, MinimumPasswordLength=5)
        self.expect_error("ValidationError", iam.update_account_password_policy, PasswordReusePrevention=25)

    def test_guardduty_publishing_destinations(self):
        gd = self.client("guardduty")
        detector = gd.create_detector(Enable=True)["DetectorId"]
        props = {"DestinationArn": "arn:aws:s3:::findings/prefix",
                 "KmsKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
        made = gd.create_publishing_destination(DetectorId=detector, DestinationType="S3",
                                                DestinationProperties=props)["DestinationId"]
        listed = gd.list_publishing_destinations(DetectorId=detector)["Destinations"]
        self.assertEqual([d["DestinationId"] for d in listed], [made])
        described = gd.describe_publishing_destination(DetectorId=detector, DestinationId=made)
        self.assertEqual(described["DestinationProperties"], props)
        gd.delete_publishing_destination(DetectorId=detector, DestinationId=made)
        self.assertEqual(gd.list_publishing_destinations(DetectorId=detector)["Destinations"], [])
        self.expect_error("BadRequestException", gd.list_publishing_destinations, DetectorId="0" * 32)
        self.expect_error("BadRequestException", gd.describe_publishing_destination,
                          DetectorId=detector, DestinationId=made)

    def test_s3_refuses_overlapping_configuration_of_one_bucket(self):
        from . import s3 as s3_rule
        s3 = self.client("s3")
        s3.create_bucket(Bucket="conflicts", CreateBucketConfiguration={"LocationConstraint": REGION})
        hold, s3_rule.CONFLICT_HOLD = s3_rule.CONFLICT_HOLD, 0.5
        try:
            outcomes, statuses = [], []

            def put(call):
                try:
                    call()
                    outcomes.append("ok")
                except botocore.exceptions.ClientError as e:
                    outcomes.append(e.response["Error"]["Code"])
                    statuses.append(e.response["ResponseMetadata"]["HTTPStatusCode"])

            calls = [
                lambda: s3.put_bucket_encryption(Bucket="conflicts", ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
                lambda: s3.put_public_access_block(Bucket="conflicts", PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True}),
            ]
            threads = [threading.Thread(target=put, args=(c,)) for c in calls]
            for t in threads:
                t.start()
                time.sleep(0.05)
            for t in threads:
                t.join()
            self.assertEqual(sorted(outcomes), ["OperationAborted", "ok"])
            self.assertEqual(statuses, [409])
            # One after the other: both go through.
            for c in calls:
                c()
        finally:
            s3_rule.CONFLICT_HOLD = hold

    def test_root_mfa_and_credential_report(self):
        iam = self.client("iam")
        self.assertEqual(iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"], 0)
        self.control("/_baseline/root-mfa", {"account": ACCOUNT, "enabled": True})
        self.assertEqual(iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"], 1)
        iam.create_user(UserName="alice")
        iam.generate_credential_report()
        rows = iam.get_credential_report()["Content"].decode().splitlines()
        header = rows[0].split(",")
        root = dict(zip(header, rows[1].split(",")))
        self.assertEqual((root["user"], root["mfa_active"]), ("<root_account>", "true"))
        self.assertEqual(rows[2].split(",")[0], "alice")

    def test_trusted_advisor(self):
        support = self.client("support", "us-east-1")
        self.expect_error("SubscriptionRequiredException", support.describe_trusted_advisor_checks, language="en")
        self.control("/_baseline/support-plan", {"account": ACCOUNT, "plan": "business"})
        checks = support.describe_trusted_advisor_checks(language="en")["checks"]
        root = next(c["id"] for c in checks if c["name"] == "MFA on Root Account")
        other = next(c["id"] for c in checks if c["id"] != root)
        summaries = support.describe_trusted_advisor_check_summaries(checkIds=[root, other])["summaries"]
        self.assertEqual([s["status"] for s in summaries], ["error", "ok"])
        self.control("/_baseline/root-mfa", {"account": ACCOUNT, "enabled": True})
        summaries = support.describe_trusted_advisor_check_summaries(checkIds=[root])["summaries"]
        self.assertEqual(summaries[0]["status"], "ok")

    def test_s3_bucket_created_with_tags(self):
        s3 = self.client("s3")
        s3.create_bucket(Bucket="tagged-at-birth", CreateBucketConfiguration={
            "LocationConstraint": REGION, "Tags": [{"Key": "managed-by", "Value": "baseline"}]})
        self.assertEqual(s3.get_bucket_tagging(Bucket="tagged-at-birth")["TagSet"],
                         [{"Key": "managed-by", "Value": "baseline"}])
        self.checked.add("CreateBucket")

    def delivery_bucket(self, name, statements):
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        if statements:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))

    @staticmethod
    def delivery_statements(service, bucket, path, condition=None):
        """What AWS's pages give a service principal to deliver to a bucket."""
        arn = f"arn:aws:s3:::{bucket}"
        acl = {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **(condition or {})}}
        return [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "s3:GetBucketAcl", "Resource": arn},
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "s3:PutObject",
             "Resource": f"{arn}/{path}", "Condition": acl},
        ]

    def test_cloudtrail_refuses_a_bucket_or_key_it_may_not_use(self):
        ct = self.client("cloudtrail")
        trail = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trail-one"
        self.delivery_bucket("no-policy", [])
        self.expect_error("InsufficientS3BucketPolicyException", ct.create_trail, Name="trail-one",
                          S3BucketName="no-policy")
        # Written for another trail (aws:SourceArn): still refused.
        other = self.delivery_statements("cloudtrail.amazonaws.com", "other-trail", f"AWSLogs/{ACCOUNT}/*",
                                         {"aws:SourceArn": trail.replace("/trail-one", "/trail-two")})
        self.delivery_bucket("other-trail", other)
        self.expect_error("InsufficientS3BucketPolicyException", ct.create_trail, Name="trail-one",
                          S3BucketName="other-trail")
        self.delivery_bucket("ct-logs", self.delivery_statements(
            "cloudtrail.amazonaws.com", "ct-logs", f"AWSLogs/{ACCOUNT}/*", {"aws:SourceArn": trail}))
        kms = self.client("kms")
        root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
                "Resource": "*"}
        bare = kms.create_key(Policy=json.dumps({"Statement": [root]}))["KeyMetadata"]["Arn"]
        self.expect_error("InsufficientEncryptionPolicyException", ct.create_trail, Name="trail-one",
                          S3BucketName="ct-logs", KmsKeyId=bare)
        self.expect_error("KmsKeyNotFoundException", ct.create_trail, Name="trail-one",
                          S3BucketName="ct-logs", KmsKeyId="alias/nothing-here")
        encrypt = {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                   "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
                   "Condition": {"StringLike": {
                       "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"}}}
        good = kms.create_key(Policy=json.dumps({"Statement": [root, encrypt]}))["KeyMetadata"]["Arn"]
        ct.create_trail(Name="trail-one", S3BucketName="ct-logs", KmsKeyId=good)
        # UpdateTrail checks what it is given.
        self.expect_error("InsufficientS3BucketPolicyException", ct.update_trail, Name="trail-one",
                          S3BucketName="no-policy")
        self.expect_error("InsufficientEncryptionPolicyException", ct.update_trail, Name="trail-one", KmsKeyId=bare)
        ct.update_trail(Name="trail-one", EnableLogFileValidation=True)

    def test_config_refuses_a_bucket_it_may_not_write(self):
        config = self.client("config")
        config.put_configuration_recorder(ConfigurationRecorder={
            "name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True}})
        self.delivery_bucket("cfg-none", [])
        channel = {"name": "default", "s3BucketName": "cfg-none"}
        self.expect_error("InsufficientDeliveryPolicyException", config.put_delivery_channel,
                          DeliveryChannel=channel)
        # The prefix is part of where Config writes.
        self.delivery_bucket("cfg-logs", self.delivery_statements(
            "config.amazonaws.com", "cfg-logs", f"AWSLogs/{ACCOUNT}/Config/*", {"AWS:SourceAccount": ACCOUNT}))
        self.expect_error("InsufficientDeliveryPolicyException", config.put_delivery_channel,
                          DeliveryChannel={**channel, "s3BucketName": "cfg-logs", "s3KeyPrefix": "org"})
        config.put_delivery_channel(DeliveryChannel={**channel, "s3BucketName": "cfg-logs"})
        config.start_configuration_recorder(ConfigurationRecorderName="default")
        self.expect_error("LastDeliveryChannelDeleteFailedException", config.delete_delivery_channel,
                          DeliveryChannelName="default")
        config.stop_configuration_recorder(ConfigurationRecorderName="default")
        config.delete_delivery_channel(DeliveryChannelName="default")

    def test_a_new_policy_takes_effect_after_the_settle_delay(self):
        from . import settle
        ct = self.client("cloudtrail")
        trail = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trail-one"
        was, settle.SETTLE = settle.SETTLE, 1.5
        try:
            self.delivery_bucket("settling", self.delivery_statements(
                "cloudtrail.amazonaws.com", "settling", f"AWSLogs/{ACCOUNT}/*", {"aws:SourceArn": trail}))
            self.expect_error("InsufficientS3BucketPolicyException", ct.create_trail, Name="trail-one",
                              S3BucketName="settling")
            # Reads answer the new policy at once, as AWS's do.
            self.assertIn("cloudtrail.amazonaws.com",
                          self.client("s3").get_bucket_policy(Bucket="settling")["Policy"])
            time.sleep(1.6)
            ct.create_trail(Name="trail-one", S3BucketName="settling")
            # Taking it away takes as long.
            self.client("s3").delete_bucket_policy(Bucket="settling")
            ct.update_trail(Name="trail-one", S3BucketName="settling")
            time.sleep(1.6)
            self.expect_error("InsufficientS3BucketPolicyException", ct.update_trail, Name="trail-one",
                              S3BucketName="settling")
        finally:
            settle.SETTLE = was

    def test_a_new_alias_and_role_are_usable_after_the_settle_delay(self):
        from . import settle
        kms, iam, config = self.client("kms"), self.client("iam"), self.client("config")
        was, settle.SETTLE = settle.SETTLE, 1.5
        try:
            key = kms.create_key()["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName="alias/settling", TargetKeyId=key)
            role = iam.create_service_linked_role(AWSServiceName="config.amazonaws.com")["Role"]["Arn"]
            # Found by its key id at once, listed at once, but not yet
            # usable by its name ("KMS eventual consistency").
            self.assertEqual(kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"], key)
            self.assertIn("alias/settling", [a["AliasName"] for a in kms.list_aliases()["Aliases"]])
            self.expect_error("NotFoundException", kms.describe_key, KeyId="alias/settling")
            recorder = {"name": "settling", "roleARN": role}
            self.expect_error("InvalidRoleException", config.put_configuration_recorder,
                              ConfigurationRecorder=recorder)
            # A role this IAM does not hold is taken, as before.
            config.put_configuration_recorder(
                ConfigurationRecorder={"name": "settling", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/theirs"})
            time.sleep(1.6)
            self.assertEqual(kms.describe_key(KeyId="alias/settling")["KeyMetadata"]["KeyId"], key)
            config.put_configuration_recorder(ConfigurationRecorder=recorder)
        finally:
            settle.SETTLE = was

    def test_standards_change_only_when_none_is_pending(self):
        from . import settle
        region = "eu-west-2"
        sh = self.client("securityhub", region=region)
        pci = f"arn:aws:securityhub:{region}::standards/pci-dss/v/3.2.1"
        fsbp = f"arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0"
        was, settle.SETTLE = settle.SETTLE, 1.5
        try:
            sh.enable_security_hub(EnableDefaultStandards=False)
            sh.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": pci}])
            self.expect_error("InvalidInputException", sh.batch_enable_standards,
                              StandardsSubscriptionRequests=[{"StandardsArn": fsbp}])
            subs = sh.get_enabled_standards()["StandardsSubscriptions"]
            self.assertEqual([s["StandardsStatus"] for s in subs], ["PENDING"])
            self.expect_error("InvalidInputException", sh.batch_disable_standards,
                              StandardsSubscriptionArns=[subs[0]["StandardsSubscriptionArn"]])
            time.sleep(1.6)
            self.assertEqual([s["StandardsStatus"] for s in sh.get_enabled_standards()["StandardsSubscriptions"]],
                             ["PENDING"])
            self.assertEqual([s["StandardsStatus"] for s in sh.get_enabled_standards()["StandardsSubscriptions"]],
                             ["READY"])
            sh.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": fsbp}])
        finally:
            settle.SETTLE = was
            sh.disable_security_hub()

    def test_guardduty_plans_by_region(self):
        gd = self.client("guardduty")
        # A plan CreateDetector does not name is on, but Runtime Monitoring.
        did = gd.create_detector(Enable=True, Features=[{"Name": "S3_DATA_EVENTS", "Status": "DISABLED"}])["DetectorId"]
        plans = {f["Name"]: f["Status"] for f in gd.get_detector(DetectorId=did)["Features"]}
        self.assertEqual(plans["S3_DATA_EVENTS"], "DISABLED")
        self.assertEqual(plans["RUNTIME_MONITORING"], "DISABLED")
        self.assertEqual(plans["EBS_MALWARE_PROTECTION"], "ENABLED")
        # A region without Runtime Monitoring: not listed, and naming it is refused.
        self.control("/_baseline/unoffered",
                     {"service": "guardduty", "region": "ca-central-1", "names": ["RUNTIME_MONITORING"]})
        there = self.client("guardduty", region="ca-central-1")
        self.expect_error("BadRequestException", there.create_detector, Enable=True,
                          Features=[{"Name": "RUNTIME_MONITORING", "Status": "ENABLED"}])
        did = there.create_detector(Enable=True)["DetectorId"]
        names = [f["Name"] for f in there.get_detector(DetectorId=did)["Features"]]
        self.assertNotIn("RUNTIME_MONITORING", names)
        self.assertIn("S3_DATA_EVENTS", names)
        self.expect_error("BadRequestException", there.update_detector, DetectorId=did,
                          Features=[{"Name": "RUNTIME_MONITORING", "Status": "ENABLED"}])
        self.checked.add("CreateDetector")

    def as_account(self, service, account, region=REGION):
        """A client with credentials of `account` (a role assumed in it)."""
        creds = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                                               RoleSessionName="test")["Credentials"]
        c = boto3.client(service, region_name=region, endpoint_url=self.url,
                         aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"])
        c.meta.events.register("after-call", self.check_answer)
        return c

    def organization(self, *names):
        orgs = self.client("organizations", "us-east-1")
        orgs.create_organization(FeatureSet="ALL")
        return orgs, [orgs.create_account(AccountName=n, Email=f"{n}@example.com")["CreateAccountStatus"]["AccountId"]
                      for n in names]

    def test_guardduty_through_a_delegated_administrator(self):
        orgs, (admin, member, other) = self.organization("security", "dev", "prod")
        gd = self.client("guardduty")
        # Trusted access first; the management account only; one administrator.
        self.expect_error("BadRequestException", gd.enable_organization_admin_account, AdminAccountId=admin)
        orgs.enable_aws_service_access(ServicePrincipal="guardduty.amazonaws.com")
        self.expect_error("BadRequestException", self.as_account("guardduty", member).enable_organization_admin_account,
                          AdminAccountId=member)
        gd.enable_organization_admin_account(AdminAccountId=admin)
        gd.enable_organization_admin_account(AdminAccountId=admin)
        self.expect_error("BadRequestException", gd.enable_organization_admin_account, AdminAccountId=other)
        self.assertEqual(gd.list_organization_admin_accounts()["AdminAccounts"],
                         [{"AdminAccountId": admin, "AdminStatus": "ENABLED"}])
        self.assertEqual(self.client("guardduty", "us-east-1").list_organization_admin_accounts()["AdminAccounts"], [])
        self.assertEqual([a["Id"] for a in orgs.list_delegated_administrators(
            ServicePrincipal="guardduty.amazonaws.com")["DelegatedAdministrators"]], [admin])
        # The administrator's organization configuration and members.
        ad = self.as_account("guardduty", admin)
        # Designation enabled GuardDuty in the administrator, in that region
        # only ("Managing GuardDuty accounts with AWS Organizations").
        detector, = ad.list_detectors()["DetectorIds"]
        self.assertEqual(self.as_account("guardduty", admin, "us-east-1").list_detectors()["DetectorIds"], [])
        ad.update_organization_configuration(DetectorId=detector, AutoEnableOrganizationMembers="ALL",
                                             Features=[{"Name": "S3_DATA_EVENTS", "AutoEnable": "ALL"}])
        conf = ad.describe_organization_configuration(DetectorId=detector)
        self.assertEqual((conf["AutoEnableOrganizationMembers"], conf["Features"]),
                         ("ALL", [{"Name": "S3_DATA_EVENTS", "AutoEnable": "ALL"}]))
        m = self.as_account("guardduty", member)
        self.assertEqual(m.list_detectors()["DetectorIds"], [])
        self.assertEqual(ad.create_members(DetectorId=detector, AccountDetails=[
            {"AccountId": member, "Email": "dev@example.com"}, {"AccountId": "999999999999", "Email": "x@example.com"}
        ])["UnprocessedAccounts"][0]["AccountId"], "999999999999")
        # The management account only once it has GuardDuty (its
        # service-linked role) itself.
        self.assertEqual([u["AccountId"] for u in ad.create_members(DetectorId=detector, AccountDetails=[
            {"AccountId": ACCOUNT, "Email": "m@example.com"}])["UnprocessedAccounts"]], [ACCOUNT])
        self.client("guardduty").create_detector(Enable=True)
        self.assertEqual(ad.create_members(DetectorId=detector, AccountDetails=[
            {"AccountId": ACCOUNT, "Email": "m@example.com"}])["UnprocessedAccounts"], [])
        # At most 50 accounts a call.
        self.expect_error("BadRequestException",
                          self.as_account("guardduty", admin).create_members, DetectorId=detector,
                          AccountDetails=[{"AccountId": f"{i:012d}", "Email": "x@example.com"} for i in range(51)])
        member_detector = m.list_detectors()["DetectorIds"][0]
        self.assertEqual(m.get_administrator_account(DetectorId=member_detector)["Administrator"]["AccountId"], admin)
        # The member got the organization's plans, not all of them; the
        # administrator reads and sets them.
        plans = {f["Name"]: f["Status"] for f in m.get_detector(DetectorId=member_detector)["Features"]}
        self.assertEqual((plans["S3_DATA_EVENTS"], plans["EKS_AUDIT_LOGS"]), ("ENABLED", "DISABLED"))
        got = ad.get_member_detectors(DetectorId=detector, AccountIds=[member, other])
        self.assertEqual([u["AccountId"] for u in got["UnprocessedAccounts"]], [other])
        ad.update_member_detectors(DetectorId=detector, AccountIds=[member],
                                   Features=[{"Name": "EKS_AUDIT_LOGS", "Status": "ENABLED"}])
        plans = {f["Name"]: f["Status"] for f in ad.get_member_detectors(
            DetectorId=detector, AccountIds=[member])["MemberDataSourceConfigurations"][0]["Features"]}
        self.assertEqual((plans["S3_DATA_EVENTS"], plans["EKS_AUDIT_LOGS"]), ("ENABLED", "ENABLED"))
        self.expect_error("BadRequestException", m.describe_organization_configuration, DetectorId=member_detector)
        self.assertEqual(sorted(x["AccountId"] for x in ad.list_members(DetectorId=detector)["Members"]),
                         sorted([member, ACCOUNT]))
        # An account that joins later is covered by AWS itself.
        joined = orgs.create_account(AccountName="new", Email="new@example.com")["CreateAccountStatus"]["AccountId"]
        j = self.as_account("guardduty", joined)
        self.assertEqual(len(j.list_detectors()["DetectorIds"]), 1)
        self.assertEqual(sorted(x["AccountId"] for x in ad.list_members(DetectorId=detector)["Members"]),
                         sorted([member, ACCOUNT, joined]))
        # Not in a region whose configuration does not auto-enable.
        self.assertEqual(self.as_account("guardduty", joined, "us-east-1").list_detectors()["DetectorIds"], [])

    def test_a_delegation_takes_effect_after_the_settle_delay(self):
        """An administrator designated moments ago is refused its
        organization calls, as one that is not the administrator is
        (organization.py; SRA issue 141, terraform-provider-aws 23079)."""
        from . import settle
        orgs, (admin, member) = self.organization("security", "dev")
        for principal in ("guardduty", "securityhub", "config", "access-analyzer"):
            orgs.enable_aws_service_access(ServicePrincipal=f"{principal}.amazonaws.com")
        was, settle.SETTLE = settle.SETTLE, 1.5
        try:
            self.client("guardduty").enable_organization_admin_account(AdminAccountId=admin)
            self.client("securityhub").enable_organization_admin_account(AdminAccountId=admin)
            orgs.register_delegated_administrator(AccountId=admin, ServicePrincipal="config.amazonaws.com")
            orgs.register_delegated_administrator(AccountId=admin, ServicePrincipal="access-analyzer.amazonaws.com")
            gd, sh = self.as_account("guardduty", admin), self.as_account("securityhub", admin)
            detector, = gd.list_detectors()["DetectorIds"]
            refused = [
                ("BadRequestException", gd.describe_organization_configuration, {"DetectorId": detector}),
                ("BadRequestException", gd.create_members,
                 {"DetectorId": detector, "AccountDetails": [{"AccountId": member, "Email": "dev@example.com"}]}),
                ("InvalidAccessException", sh.describe_organization_configuration, {}),
                ("InvalidAccessException", sh.update_organization_configuration, {"AutoEnable": True}),
                ("InvalidAccessException", sh.create_members, {"AccountDetails": [{"AccountId": member}]}),
                ("InvalidAccessException", sh.list_members, {}),
            ]
            for code, call, args in refused:
                self.expect_error(code, call, **args)
            source = {"RoleArn": f"arn:aws:iam::{admin}:role/aggregator", "AllAwsRegions": True}
            self.expect_error("OrganizationAccessDeniedException",
                              self.as_account("config", admin).put_configuration_aggregator,
                              ConfigurationAggregatorName="org", OrganizationAggregationSource=source)
            self.expect_error("AccessDeniedException", self.as_account("accessanalyzer", admin).create_analyzer,
                              analyzerName="org", type="ORGANIZATION")
            # The management account's side holds at once.
            self.assertEqual([a["AdminAccountId"] for a in self.client("guardduty")
                              .list_organization_admin_accounts()["AdminAccounts"]], [admin])
            time.sleep(1.6)
            gd.describe_organization_configuration(DetectorId=detector)
            gd.create_members(DetectorId=detector, AccountDetails=[{"AccountId": member, "Email": "dev@example.com"}])
            sh.update_organization_configuration(AutoEnable=True)
            sh.create_members(AccountDetails=[{"AccountId": member}])
            self.assertEqual([m["AccountId"] for m in sh.list_members()["Members"]], [member])
            self.as_account("accessanalyzer", admin).create_analyzer(analyzerName="org", type="ORGANIZATION")
            self.expect_error("InvalidRoleException", self.as_account("config", admin).put_configuration_aggregator,
                              ConfigurationAggregatorName="org", OrganizationAggregationSource=source)
        finally:
            settle.SETTLE = was

    def test_an_organization_analyzer_needs_the_management_account_or_its_administrator(self):
        orgs, (admin, member) = self.organization("security", "dev")
        # Trusted access first, even for the management account; the error
        # has the members its shape requires.
        with self.assertRaises(botocore.exceptions.ClientError) as refused:
            self.client("accessanalyzer").create_analyzer(analyzerName="early", type="ORGANIZATION")
        self.assertEqual((refused.exception.response["Error"]["Code"], refused.exception.response.get("reason")),
                         ("ValidationException", "fieldValidationFailed"))
        self.expect_error("ConstraintViolationException", orgs.register_delegated_administrator,
                          AccountId=admin, ServicePrincipal="access-analyzer.amazonaws.com")
        orgs.enable_aws_service_access(ServicePrincipal="access-analyzer.amazonaws.com")
        self.expect_error("AccessDeniedException", self.as_account("accessanalyzer", admin).create_analyzer,
                          analyzerName="org", type="ORGANIZATION")
        orgs.register_delegated_administrator(AccountId=admin, ServicePrincipal="access-analyzer.amazonaws.com")
        self.as_account("accessanalyzer", admin).create_analyzer(analyzerName="org", type="ORGANIZATION")
        self.expect_error("AccessDeniedException", self.as_account("accessanalyzer", member).create_analyzer,
                          analyzerName="org", type="ORGANIZATION")
        self.as_account("accessanalyzer", member).create_analyzer(analyzerName="own", type="ACCOUNT")
        self.client("accessanalyzer").create_analyzer(analyzerName="mgmt", type="ORGANIZATION")

    def test_an_organization_aggregator_needs_the_administrator_and_a_role_config_may_use(self):
        orgs, (admin, member) = self.organization("security", "dev")
        source = {"RoleArn": f"arn:aws:iam::{admin}:role/aggregator", "AllAwsRegions": True}
        self.expect_error("OrganizationAccessDeniedException",
                          self.as_account("config", admin).put_configuration_aggregator,
                          ConfigurationAggregatorName="org", OrganizationAggregationSource=source)
        orgs.enable_aws_service_access(ServicePrincipal="config.amazonaws.com")
        orgs.register_delegated_administrator(AccountId=admin, ServicePrincipal="config.amazonaws.com")
        config = self.as_account("config", admin)
        self.expect_error("InvalidRoleException", config.put_configuration_aggregator,
                          ConfigurationAggregatorName="org", OrganizationAggregationSource=source)
        iam = self.as_account("iam", admin)
        iam.create_role(RoleName="aggregator", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}))
        self.expect_error("InvalidRoleException", config.put_configuration_aggregator,
                          ConfigurationAggregatorName="org", OrganizationAggregationSource=source)
        iam.attach_role_policy(RoleName="aggregator",
                               PolicyArn="arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations")
        config.put_configuration_aggregator(ConfigurationAggregatorName="org", OrganizationAggregationSource=source)
        self.expect_error("OrganizationAccessDeniedException",
                          self.as_account("config", member).put_configuration_aggregator,
                          ConfigurationAggregatorName="org", OrganizationAggregationSource=source)

    def test_security_hub_through_a_delegated_administrator(self):
        orgs, (admin, member, other) = self.organization("security", "dev", "prod")
        sh = self.client("securityhub")
        self.expect_error("InvalidInputException", sh.enable_organization_admin_account, AdminAccountId=admin)
        orgs.enable_aws_service_access(ServicePrincipal="securityhub.amazonaws.com")
        sh.enable_organization_admin_account(AdminAccountId=admin)
        self.expect_error("InvalidInputException", sh.enable_organization_admin_account, AdminAccountId=other)
        self.assertEqual([a["AccountId"] for a in sh.list_organization_admin_accounts()["AdminAccounts"]], [admin])
        ad = self.as_account("securityhub", admin)
        # Designation enabled Security Hub in the administrator, with the
        # default standards ("Integrating Security Hub CSPM with AWS
        # Organizations"): a second enable is a conflict.
        self.expect_error("ResourceConflictException", ad.enable_security_hub)
        self.assertEqual(len(ad.get_enabled_standards()["StandardsSubscriptions"]), 2)
        ad.update_organization_configuration(AutoEnable=True, AutoEnableStandards="DEFAULT")
        self.assertTrue(ad.describe_organization_configuration()["AutoEnable"])
        # Per region.
        self.expect_error("AccessDeniedException",
                          self.as_account("securityhub", admin, "us-east-1").describe_organization_configuration)
        m = self.as_account("securityhub", member)
        self.assertEqual(m.get_administrator_account().get("Administrator"), None)
        self.expect_error("AccessDeniedException", m.create_members, AccountDetails=[{"AccountId": other}])
        ad.create_members(AccountDetails=[{"AccountId": member}])
        self.assertEqual(m.get_administrator_account()["Administrator"]["AccountId"], admin)
        # The management account only once it has enabled Security Hub.
        self.assertEqual([u["AccountId"] for u in ad.create_members(AccountDetails=[{"AccountId": ACCOUNT}])[
            "UnprocessedAccounts"]], [ACCOUNT])
        self.client("securityhub").enable_security_hub(EnableDefaultStandards=False)
        self.assertEqual(ad.create_members(AccountDetails=[{"AccountId": ACCOUNT}])["UnprocessedAccounts"], [])
        self.assertEqual(len(m.get_enabled_standards()["StandardsSubscriptions"]), 2)
        joined = orgs.create_account(AccountName="new", Email="new@example.com")["CreateAccountStatus"]["AccountId"]
        self.assertEqual(self.as_account("securityhub", joined).get_administrator_account()["Administrator"]["AccountId"],
                         admin)

    def test_security_hub_central_configuration(self):
        orgs, (admin, member, excluded) = self.organization("security", "dev", "audit")
        orgs.enable_aws_service_access(ServicePrincipal="securityhub.amazonaws.com")
        self.client("securityhub").enable_organization_admin_account(AdminAccountId=admin)
        ad = self.as_account("securityhub", admin)
        central = {"ConfigurationType": "CENTRAL"}
        # The home Region first: an aggregator, which needs the hub (the
        # designation enabled it in this region only).
        self.expect_error("InvalidAccessException", self.as_account("securityhub", admin, "us-east-1")
                          .create_finding_aggregator, RegionLinkingMode="NO_REGIONS")
        ad.describe_hub()
        self.expect_error("InvalidInputException", ad.update_organization_configuration, AutoEnable=False,
                          AutoEnableStandards="NONE", OrganizationConfiguration=central)
        self.expect_error("InvalidInputException", ad.create_finding_aggregator,
                          RegionLinkingMode="SPECIFIED_REGIONS", Regions=[REGION])
        arn = ad.create_finding_aggregator(RegionLinkingMode="SPECIFIED_REGIONS",
                                           Regions=["us-east-1"])["FindingAggregatorArn"]
        self.expect_error("InvalidInputException", ad.create_finding_aggregator, RegionLinkingMode="NO_REGIONS")
        self.assertEqual(ad.get_finding_aggregator(FindingAggregatorArn=arn)["Regions"], ["us-east-1"])
        self.assertEqual(ad.list_finding_aggregators()["FindingAggregators"], [{"FindingAggregatorArn": arn}])
        # CENTRAL: the administrator, with auto-enable off.
        self.expect_error("AccessDeniedException", self.as_account("securityhub", member).update_organization_configuration,
                          AutoEnable=False, AutoEnableStandards="NONE", OrganizationConfiguration=central)
        self.expect_error("InvalidInputException", ad.update_organization_configuration, AutoEnable=True,
                          AutoEnableStandards="NONE", OrganizationConfiguration=central)
        ad.update_organization_configuration(AutoEnable=False, AutoEnableStandards="NONE",
                                             OrganizationConfiguration=central)
        for region in (REGION, "us-east-1"):
            conf = self.as_account("securityhub", admin, region).describe_organization_configuration()
            self.assertEqual(conf["OrganizationConfiguration"]["ConfigurationType"], "CENTRAL")
        # A policy, from the home Region only, with both lists.
        fsbp = f"arn:aws:securityhub:{REGION}::standards/aws-foundational-security-best-practices/v/1.0.0"
        policy = {"SecurityHub": {"ServiceEnabled": True, "EnabledStandardIdentifiers": [fsbp],
                                  "SecurityControlsConfiguration": {"DisabledSecurityControlIdentifiers": []}}}
        self.expect_error("InvalidInputException", self.as_account("securityhub", admin, "us-east-1")
                          .create_configuration_policy, Name="baseline", ConfigurationPolicy=policy)
        self.expect_error("InvalidInputException", ad.create_configuration_policy, Name="baseline",
                          ConfigurationPolicy={"SecurityHub": {"ServiceEnabled": True,
                                                               "EnabledStandardIdentifiers": [fsbp]}})
        made = ad.create_configuration_policy(Name="baseline", ConfigurationPolicy=policy,
                                              Tags={"managed-by": "baseline"})
        pid = made["Id"]
        self.assertEqual(ad.list_tags_for_resource(ResourceArn=made["Arn"])["Tags"], {"managed-by": "baseline"})
        self.expect_error("ResourceConflictException", ad.create_configuration_policy, Name="baseline",
                          ConfigurationPolicy=policy)
        self.assertEqual([p["Name"] for p in ad.list_configuration_policies()["ConfigurationPolicySummaries"]],
                         ["baseline"])
        self.assertEqual(ad.get_configuration_policy(Identifier=pid)["ConfigurationPolicy"], policy)
        # Associated: the excluded account first, then the root.
        root = orgs.list_roots()["Roots"][0]["Id"]
        self.expect_error("InvalidInputException", ad.start_configuration_policy_association,
                          ConfigurationPolicyIdentifier=pid, Target={"RootId": "r-nope"})
        ad.start_configuration_policy_association(ConfigurationPolicyIdentifier="SELF_MANAGED_SECURITY_HUB",
                                                  Target={"AccountId": excluded})
        started = ad.start_configuration_policy_association(ConfigurationPolicyIdentifier=pid,
                                                            Target={"RootId": root})
        self.assertEqual((started["AssociationType"], started["TargetType"]), ("APPLIED", "ROOT"))
        inherited = ad.get_configuration_policy_association(Target={"AccountId": member})
        self.assertEqual((inherited["ConfigurationPolicyId"], inherited["AssociationType"]), (pid, "INHERITED"))
        # In effect in the home and the linked region, not for the excluded account.
        for region in (REGION, "us-east-1"):
            m = self.as_account("securityhub", member, region)
            self.assertEqual(m.get_administrator_account()["Administrator"]["AccountId"], admin)
            self.assertEqual([s["StandardsArn"].split("standards/")[-1]
                              for s in m.get_enabled_standards()["StandardsSubscriptions"]],
                             ["aws-foundational-security-best-practices/v/1.0.0"])
            self.expect_error("AccessDeniedException", m.batch_enable_standards,
                              StandardsSubscriptionRequests=[{"StandardsArn": fsbp}])
            self.expect_error("InvalidAccessException",
                              self.as_account("securityhub", excluded, region).get_enabled_standards)
        self.expect_error("InvalidAccessException",
                          self.as_account("securityhub", member, "eu-west-1").get_enabled_standards)
        # An account that joins inherits the root's policy.
        joined = orgs.create_account(AccountName="new", Email="new@example.com")["CreateAccountStatus"]["AccountId"]
        self.assertEqual(len(self.as_account("securityhub", joined, "us-east-1")
                             .get_enabled_standards()["StandardsSubscriptions"]), 1)
        # The direct associations, listed; one removed: the account inherits the root's policy.
        applied = ad.list_configuration_policy_associations(Filters={"AssociationType": "APPLIED"})
        self.assertEqual(sorted((a["TargetType"], a["ConfigurationPolicyId"])
                                for a in applied["ConfigurationPolicyAssociationSummaries"]),
                         [("ACCOUNT", "SELF_MANAGED_SECURITY_HUB"), ("ROOT", pid)])
        self.expect_error("InvalidInputException", ad.start_configuration_policy_disassociation,
                          ConfigurationPolicyIdentifier=pid, Target={"AccountId": excluded})
        ad.start_configuration_policy_disassociation(ConfigurationPolicyIdentifier="SELF_MANAGED_SECURITY_HUB",
                                                     Target={"AccountId": excluded})
        self.assertEqual(len(self.as_account("securityhub", excluded, "us-east-1")
                             .get_enabled_standards()["StandardsSubscriptions"]), 1)

    def test_the_model_check_catches_a_wrong_answer(self):
        """The checker itself: a member AWS does not define, a missing
        required one and an unknown enum value are all found."""
        model = boto3.client("accessanalyzer", region_name=REGION).meta.service_model
        shape = model.operation_model("GetAnalyzer").output_shape
        bad = {"analyzer": {"arn": "a", "name": "n", "type": "NOPE", "status": "ACTIVE", "extra": 1}}
        problems = json_problems(bad, shape)
        self.assertTrue(any("extra" in p for p in problems), problems)
        self.assertTrue(any("createdAt" in p for p in problems), problems)
        self.assertTrue(any("NOPE" in p for p in problems), problems)


if __name__ == "__main__":
    unittest.main()
