"""The IAM evaluator of ``--enforce-iam`` (authz.py) follows AWS's rules:
an explicit Deny wins, an Allow needs its Action, Resource and Condition
to match, and a request's operation is found from the service model."""

import json
import os
import re
import time
import unittest

# The server installs the additions to moto (settle.py among them).
from . import authz, sar, server, settle  # noqa: F401

ALLOW_BUCKET = {"Statement": [{"Effect": "Allow", "Action": ["s3:GetBucketPolicy"],
                               "Resource": ["arn:aws:s3:::logs-1"]}]}


class Evaluate(unittest.TestCase):
    def test_a_scoped_allow_covers_its_resource_only(self):
        self.assertTrue(authz.allowed([ALLOW_BUCKET], "s3:GetBucketPolicy", "arn:aws:s3:::logs-1", {}))
        self.assertFalse(authz.allowed([ALLOW_BUCKET], "s3:GetBucketPolicy", "arn:aws:s3:::other", {}))
        self.assertFalse(authz.allowed([ALLOW_BUCKET], "s3:GetBucketPolicy", "*", {}))

    def test_an_explicit_deny_wins(self):
        deny = {"Statement": {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}}
        self.assertFalse(authz.allowed([ALLOW_BUCKET, deny], "s3:GetBucketPolicy", "arn:aws:s3:::logs-1", {}))

    def test_actions_match_with_wildcards_and_without_case(self):
        p = {"Statement": [{"Effect": "Allow", "Action": "GuardDuty:Get*", "Resource": "*"}]}
        self.assertTrue(authz.allowed([p], "guardduty:GetDetector", "*", {}))
        self.assertFalse(authz.allowed([p], "guardduty:ListDetectors", "*", {}))

    def test_a_condition_must_hold(self):
        p = {"Statement": [{"Effect": "Allow", "Action": "kms:EnableKey", "Resource": "arn:aws:kms:*:*:key/*",
                            "Condition": {"StringEquals": {"aws:ResourceTag/managed-by": "baseline"}}}]}
        key = "arn:aws:kms:eu-west-1:123456789012:key/k"
        self.assertTrue(authz.allowed([p], "kms:EnableKey", key, {"aws:ResourceTag/managed-by": "baseline"}))
        self.assertFalse(authz.allowed([p], "kms:EnableKey", key, {"aws:ResourceTag/managed-by": "other"}))
        self.assertFalse(authz.allowed([p], "kms:EnableKey", key, {}))


    def test_policy_variables_take_the_requests_values(self):
        p = {"Statement": [{"Effect": "Allow", "Action": "s3:GetBucketPolicy",
                            "Resource": "arn:aws:s3:::logs-${aws:PrincipalAccount}"},
                           {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/R",
                            "Condition": {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}}]}
        me = {"aws:PrincipalAccount": "111111111111", "aws:PrincipalOrgID": "o-1"}
        self.assertTrue(authz.allowed([p], "s3:GetBucketPolicy", "arn:aws:s3:::logs-111111111111", me))
        self.assertFalse(authz.allowed([p], "s3:GetBucketPolicy", "arn:aws:s3:::logs-222222222222", me))
        role = "arn:aws:iam::222222222222:role/R"
        self.assertTrue(authz.allowed([p], "sts:AssumeRole", role, {**me, "aws:ResourceOrgID": "o-1"}))
        self.assertFalse(authz.allowed([p], "sts:AssumeRole", role, {**me, "aws:ResourceOrgID": "o-2"}))
        # A role outside any organization: no aws:ResourceOrgID, no match.
        self.assertFalse(authz.allowed([p], "sts:AssumeRole", role, me))
        # A variable whose key the request lacks matches nothing.
        self.assertFalse(authz.allowed([p], "s3:GetBucketPolicy", "arn:aws:s3:::logs-", {}))


class Operation(unittest.TestCase):
    def test_rest_operations_are_found_from_the_uri_templates(self):
        self.assertEqual(authz.operation("s3", "GET", "/logs-1", {"tagging": [""]}, None, {})[1], "GetBucketTagging")
        self.assertEqual(authz.operation("s3", "GET", "/logs-1", {"policy": [""]}, None, {})[1], "GetBucketPolicy")
        self.assertEqual(authz.operation("s3", "HEAD", "/logs-1", {}, None, {})[1], "HeadBucket")
        self.assertEqual(
            authz.operation("s3", "GET", "/v20180820/configuration/publicAccessBlock", {}, None, {})[:2],
            ("s3control", "GetPublicAccessBlock"))
        self.assertEqual(authz.operation("guardduty", "GET", "/detector", {}, None, {})[1], "ListDetectors")
        self.assertEqual(authz.operation("access-analyzer", "GET", "/analyzer", {"type": ["ACCOUNT"]}, None, {})[1],
                         "ListAnalyzers")

    def test_json_and_query_operations_are_named_by_the_request(self):
        self.assertEqual(authz.operation("config", "POST", "/", {}, "StarlingDoveService.DescribeDeliveryChannels",
                                         {})[1], "DescribeDeliveryChannels")
        self.assertEqual(authz.operation("ec2", "POST", "/", {}, None, {"Action": ["DescribeRegions"]})[1],
                         "DescribeRegions")


class _Req:
    """A request as `needs` sees it."""

    def __init__(self, service, body=b"", target=None):
        self.account, self.region, self.service = "123456789012", "eu-west-1", service
        self.body, self.target = body, target

    def param(self, name, default=None):
        """A query-protocol parameter of a form body (IAM's)."""
        import urllib.parse

        if self.target or not self.body.startswith(b"Action="):
            return default
        return (urllib.parse.parse_qs(self.body.decode()).get(name) or [default])[0]


class DependentActions(unittest.TestCase):
    """Tagging on create needs the tagging action; creating the first
    analyzer needs its service-linked role (the Service Authorization
    Reference's dependent actions, as the service guides state them)."""

    def actions(self, req, name, op, labels=None):
        return [a for a, _, _ in authz.needs(req, name, op, labels or {})]

    def test_tags_on_create_need_the_tagging_action(self):
        key = _Req("kms", b'{"Tags": [{"TagKey": "managed-by", "TagValue": "baseline"}]}', "TrentService.CreateKey")
        self.assertIn("kms:TagResource", self.actions(key, "kms", "CreateKey"))
        bare = _Req("kms", b'{"Description": "x"}', "TrentService.CreateKey")
        self.assertNotIn("kms:TagResource", self.actions(bare, "kms", "CreateKey"))
        trail = _Req("cloudtrail", b'{"Name": "t", "TagsList": [{"Key": "managed-by"}]}', "X.CreateTrail")
        self.assertIn("cloudtrail:AddTags", self.actions(trail, "cloudtrail", "CreateTrail"))
        bucket = _Req("s3", b"<CreateBucketConfiguration><Tags><Tag><Key>managed-by</Key></Tag></Tags>"
                            b"</CreateBucketConfiguration>")
        self.assertIn("s3:TagResource", self.actions(bucket, "s3", "CreateBucket", {"Bucket": "logs"}))

    def test_the_first_analyzer_needs_its_service_linked_role(self):
        req = _Req("access-analyzer", b'{"analyzerName": "a", "type": "ACCOUNT"}')
        self.assertIn("iam:CreateServiceLinkedRole", self.actions(req, "accessanalyzer", "CreateAnalyzer"))


class Conditions(unittest.TestCase):
    """Multivalued keys, Null, and the context the scoped statements of
    `baseline policy` look at (issue 33)."""

    def test_set_operators_and_null(self):
        p = {"Statement": [{"Effect": "Allow", "Action": "kms:TagResource", "Resource": "*",
                            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["managed-by"]},
                                          "StringEquals": {"aws:RequestTag/managed-by": "baseline"}}}]}
        ours = {"aws:TagKeys": ["managed-by"], "aws:RequestTag/managed-by": "baseline"}
        self.assertTrue(authz.allowed([p], "kms:TagResource", "k", ours))
        self.assertFalse(authz.allowed([p], "kms:TagResource", "k", {**ours, "aws:TagKeys": ["managed-by", "team"]}))
        self.assertFalse(authz.allowed([p], "kms:TagResource", "k", {**ours, "aws:RequestTag/managed-by": "x"}))
        any_alias = {"Statement": [{"Effect": "Allow", "Action": "kms:PutKeyPolicy", "Resource": "*",
                                    "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/b"}}}]}
        self.assertTrue(authz.allowed([any_alias], "kms:PutKeyPolicy", "k", {"kms:ResourceAliases": ["alias/a", "alias/b"]}))
        self.assertFalse(authz.allowed([any_alias], "kms:PutKeyPolicy", "k", {"kms:ResourceAliases": ["alias/a"]}))
        self.assertFalse(authz.allowed([any_alias], "kms:PutKeyPolicy", "k", {}))
        null = {"Statement": [{"Effect": "Allow", "Action": "kms:CreateAlias", "Resource": "*",
                               "Condition": {"Null": {"kms:ResourceAliases": "true"}}}]}
        self.assertTrue(authz.allowed([null], "kms:CreateAlias", "k", {}))
        self.assertFalse(authz.allowed([null], "kms:CreateAlias", "k", {"kms:ResourceAliases": ["alias/a"]}))

    def test_a_deny_with_an_operator_not_modelled_holds(self):
        allow = {"Effect": "Allow", "Action": "kms:PutKeyPolicy", "Resource": "*"}
        deny = {"Effect": "Deny", "Action": "kms:PutKeyPolicy", "Resource": "*",
                "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}}
        self.assertTrue(authz.allowed([{"Statement": [allow]}], "kms:PutKeyPolicy", "k", {}))
        self.assertFalse(authz.allowed([{"Statement": [allow, deny]}], "kms:PutKeyPolicy", "k", {}))

    def test_a_role_action_names_the_role_and_the_policy_attached(self):
        req = _Req("iam", b"Action=AttachRolePolicy&RoleName=r&PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess")
        self.assertEqual(authz.needs(req, "iam", "AttachRolePolicy", {}),
                         [("iam:AttachRolePolicy", "arn:aws:iam::123456789012:role/r",
                           {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"})])
        create = _Req("iam", b"Action=CreateRole&RoleName=r&Tags.member.1.Key=managed-by&Tags.member.1.Value=baseline")
        got = authz.needs(create, "iam", "CreateRole", {})
        self.assertIn(("iam:TagRole", "arn:aws:iam::123456789012:role/r",
                       {"aws:RequestTag/managed-by": "baseline", "aws:TagKeys": ["managed-by"]}), got)

    def test_designating_guardduty_needs_the_guides_organizations_actions(self):
        req = _Req("guardduty", b'{"adminAccountId": "222222222222"}')
        got = {a: (r, c) for a, r, c in authz.needs(req, "guardduty", "EnableOrganizationAdminAccount", {})}
        for action in ("organizations:DescribeAccount", "organizations:DescribeOrganizationalUnit",
                       "organizations:ListAWSServiceAccessForOrganization"):
            self.assertIn(action, got)
        self.assertEqual(got["organizations:EnableAWSServiceAccess"][1],
                         {"organizations:ServicePrincipal": "guardduty.amazonaws.com"})

    def test_the_scoped_writes_name_their_resources(self):
        """The resource types of the Service Authorization Reference, for
        the writes `baseline policy` scopes (and `*` where it lists none)."""
        def needs(service, name, op, body=b"", labels=None):
            return authz.needs(_Req(service, body), name, op, labels or {})

        detector = "arn:aws:guardduty:eu-west-1:123456789012:detector/d1"
        self.assertEqual(needs("guardduty", "guardduty", "UpdateDetector", b"{}", {"DetectorId": "d1"}),
                         [("guardduty:UpdateDetector", detector, {})])
        # CreateMembers takes no resource type: `*` as in AWS.
        self.assertEqual(needs("guardduty", "guardduty", "CreateMembers", b"{}", {"DetectorId": "d1"})[0][1], "*")
        self.assertEqual(needs("guardduty", "guardduty", "CreateDetector", b'{"tags": {"managed-by": "baseline"}}')[0],
                         ("guardduty:CreateDetector", "*",
                          {"aws:RequestTag/managed-by": "baseline", "aws:TagKeys": ["managed-by"]}))
        hub = "arn:aws:securityhub:eu-west-1:123456789012:hub/default"
        self.assertEqual(needs("securityhub", "securityhub", "BatchEnableStandards", b"{}")[0][1], hub)
        self.assertEqual(needs("access-analyzer", "accessanalyzer", "DeleteAnalyzer", b"", {"analyzerName": "a"})[0][1],
                         "arn:aws:access-analyzer:eu-west-1:123456789012:analyzer/a")
        put = needs("account", "account", "PutAlternateContact", b'{"AlternateContactType": "SECURITY"}')
        self.assertEqual(put[0][1:], ("arn:aws:account::123456789012:account",
                                      {"account:AlternateContactTypes": ["SECURITY"]}))
        recorder = authz.needs(_Req("config", b'{"ConfigurationRecorderName": "default"}', "X.StartConfigurationRecorder"),
                               "config", "StartConfigurationRecorder", {})
        self.assertEqual(recorder[0][1], "arn:aws:config:eu-west-1:123456789012:configuration-recorder/default/*")

    def test_ebs_malware_protection_needs_its_service_linked_role(self):
        on = _Req("guardduty", b'{"enable": true, "features": [{"name": "EBS_MALWARE_PROTECTION", "status": "ENABLED"}]}')
        off = _Req("guardduty", b'{"enable": true, "features": [{"name": "S3_DATA_EVENTS", "status": "ENABLED"}]}')
        slr = ("iam:CreateServiceLinkedRole",
               "arn:aws:iam::123456789012:role/aws-service-role/malware-protection.guardduty.amazonaws.com/*",
               {"iam:AWSServiceName": "malware-protection.guardduty.amazonaws.com"})
        self.assertIn(slr, authz.needs(on, "guardduty", "CreateDetector", {}))
        self.assertNotIn(slr, authz.needs(off, "guardduty", "CreateDetector", {}))


class ReferenceData(unittest.TestCase):
    """The evaluator's actions, dependent actions and ARNs come from the
    Service Authorization Reference's data (sar.py), not from memory."""

    def test_every_action_the_evaluator_names_is_one_aws_defines(self):
        named = {a for v in authz.ACTIONS.values() for a in v}
        named |= {a for v in authz.DOCUMENTED.values() for a in v} | set(authz.TAGGING)
        unknown = sorted(a for a in named if not sar.known(a))
        self.assertEqual(unknown, [])
        # And the check can fail: S3's HeadBucket is not an IAM action.
        self.assertFalse(sar.known("s3:HeadBucket"))
        self.assertTrue(sar.known("s3:ListBucket"))

    def test_every_action_of_the_documented_policies_is_one_aws_defines(self):
        """docs/permissions.md holds `baseline policy`'s output (a test
        keeps it current): each action in it must exist."""
        path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "permissions.md")
        with open(path, encoding="utf-8") as f:
            blocks = re.findall(r"```json\n(.*?)```", f.read(), re.S)
        self.assertEqual(len(blocks), 2)
        actions = {a for b in blocks for s in json.loads(b)["Statement"]
                   for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
        self.assertGreater(len(actions), 50)
        self.assertEqual(sorted(a for a in actions if not sar.known(a)), [])

    def test_dependent_actions_are_the_references_when_the_request_uses_them(self):
        self.assertEqual(sar.dependent_actions("kms:CreateKey"),
                         {"iam:CreateServiceLinkedRole", "kms:PutKeyPolicy", "kms:TagResource"})
        trail = _Req("cloudtrail", b'{"Name": "t1x", "TagsList": [{"Key": "managed-by"}]}', "X.CreateTrail")
        got = [a for a, _, _ in authz.needs(trail, "cloudtrail", "CreateTrail", {})]
        # AddTags for the tags; the organization-trail ones are not used.
        self.assertEqual(got, ["cloudtrail:CreateTrail", "cloudtrail:AddTags"])
        recorder = _Req("config", b'{"ConfigurationRecorder": {"name": "default", "roleARN": "arn:aws:iam::1:role/r"}}',
                        "StarlingDoveService.PutConfigurationRecorder")
        self.assertIn(("iam:PassRole", "arn:aws:iam::1:role/r", {"iam:PassedToService": "config.amazonaws.com"}),
                      authz.needs(recorder, "config", "PutConfigurationRecorder", {}))

    def test_a_keys_new_tags_authorize_only_after_the_settle_delay(self):
        """ABAC for AWS KMS: a tag change can take minutes to affect
        authorization (settle.py, `--settle-ms`)."""
        from moto.kms.models import kms_backends

        was, settle.SETTLE = settle.SETTLE, 0.5
        try:
            backend = kms_backends["123456789012"]["eu-west-1"]
            key = backend.create_key(None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "d",
                                     [{"TagKey": "managed-by", "TagValue": "baseline"}])
            self.assertEqual(authz._key_tags(key.arn), {})
            time.sleep(0.6)
            self.assertEqual(authz._key_tags(key.arn), {"managed-by": "baseline"})
            backend.untag_resource(key.arn, ["managed-by"])
            self.assertEqual(authz._key_tags(key.arn), {"managed-by": "baseline"})
            time.sleep(0.6)
            self.assertEqual(authz._key_tags(key.arn), {})
        finally:
            settle.SETTLE = was

    def test_arns_are_in_the_references_formats(self):
        self.assertEqual(sar.arn("kms", "alias", Partition="aws", Region="eu-west-1", Account="1", Alias="a"),
                         "arn:aws:kms:eu-west-1:1:alias/a")
        self.assertEqual(sar.arn("s3", "object", Partition="aws-cn", BucketName="b", ObjectName="*"),
                         "arn:aws-cn:s3:::b/*")
        with self.assertRaises(KeyError):
            sar.arn("cloudtrail", "trail", Partition="aws")
        key = _Req("kms", b'{"Tags": [{"TagKey": "managed-by", "TagValue": "baseline"}]}', "TrentService.CreateKey")
        self.assertIn(("kms:TagResource", "arn:aws:kms:eu-west-1:123456789012:key/*",
                       {"aws:RequestTag/managed-by": "baseline", "aws:TagKeys": ["managed-by"]}),
                      authz.needs(key, "kms", "CreateKey", {}))


if __name__ == "__main__":
    unittest.main()
