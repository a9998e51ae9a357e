"""The IAM evaluator of ``--enforce-iam`` (authz.py) follows AWS's rules:
an explicit Deny wins, an Allow needs its Action, Resource and Condition
to match, and a request's operation is found from the service model."""

import unittest

from . import authz

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
        return default


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


if __name__ == "__main__":
    unittest.main()
