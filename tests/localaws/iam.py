"""IAM: the root user's MFA, which a test sets (moto always says 0), the
root user's row of the credential report, which moto leaves out, and the
name of AWS Config's service-linked role, which moto spells
`AWSServiceRoleForconfig`.

AWS behaviour followed (IAM API and user guide):
* GetAccountSummary `AccountMFAEnabled` is 1 when the root user has MFA.
* The credential report's first row is `<root_account>` with the root ARN,
  `password_enabled` and the rotation columns `not_supported`, and
  `mfa_active` as for any user.
* CreateServiceLinkedRole for `config.amazonaws.com` makes
  `AWSServiceRoleForConfig` (AWS Config Developer Guide, "Using
  service-linked roles for AWS Config"), so a recorder naming that ARN
  names a role this IAM holds.
* CreateServiceLinkedRole for a role the account already has is
  `InvalidInput`, "Service role name NAME has been taken in this account,
  please try a different suffix." (moto answers EntityAlreadyExists, which
  the operation does not declare).
* UpdateAccountPasswordPolicy replaces the whole policy (a parameter not
  sent takes its default: moto does so); MinimumPasswordLength is 6 to
  128 and PasswordReusePrevention 1 to 24 (the model's ranges; moto
  checked only the upper bounds), else ValidationError.
* AWS managed policies (`arn:aws:iam::aws:policy/...`) exist in every
  account: AttachRolePolicy takes one moto ships the document of even when
  moto was not told to load them all (it would load ~1,000 per account).

* A policy variable (`${aws:PrincipalAccount}`) may stand in a Resource
  ARN, its account field too (IAM User Guide, "IAM policy elements:
  Variables and tags": variables are replaced before the ARN is matched);
  moto's validator splits the ARN at the variable's own colon and refuses
  it, so variables are validated as the value they stand for.

Control: `POST /_baseline/root-mfa` with `{"account": ID, "enabled": bool}`.

Sources (AWS's documentation):
* https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html
* https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
* https://docs.aws.amazon.com/config/latest/developerguide/using-service-linked-roles.html
* https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccountPasswordPolicy.html
* https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""

import datetime
import re

from moto.iam import exceptions, models


def set_root_mfa(account, enabled):
    models.iam_backends[account]["global"].account_summary._account_mfa_enabled = 1 if enabled else 0


def install():
    models.SERVICE_NAME_CONVERSION.setdefault("config", "Config")
    from moto.iam import policy_validation

    validate_resource = policy_validation.BaseIAMPolicyValidator._validate_resource_format

    def validate_with_variables(self, resource):
        # A variable stands for a value without colons (an account id, a
        # name): validated as such a value.
        return validate_resource(self, re.sub(r"\$\{[^}]*\}", "variable", resource))

    policy_validation.BaseIAMPolicyValidator._validate_resource_format = validate_with_variables
    attach = models.IAMBackend.attach_role_policy

    def attach_aws_managed(self, policy_arn, role_name):
        name = policy_arn.rsplit("/", 1)[-1]
        if ":iam::aws:policy/" in policy_arn and policy_arn not in self.managed_policies:
            import json
            from moto.iam.aws_managed_policies import aws_managed_policies_data
            data = json.loads(aws_managed_policies_data).get(name)
            if data is not None:
                policy = models.AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
                if policy.arn == policy_arn:
                    self.managed_policies[policy.arn] = policy
        return attach(self, policy_arn, role_name)

    models.IAMBackend.attach_role_policy = attach_aws_managed
    report = models.IAMBackend.get_credential_report

    def get_credential_report(self):
        text = report(self)
        header, _, rest = text.partition("\n")
        mfa = "true" if self.account_summary._account_mfa_enabled else "false"
        created = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc).isoformat()
        root = [
            "<root_account>", f"arn:{getattr(self, 'partition', self.region_name)}:iam::{self.account_id}:root", created,
            "not_supported", "no_information", "not_supported", "not_supported", mfa,
            "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A",
            "false", "N/A", "false", "N/A",
        ]
        assert len(root) == len(header.split(",")), "the root row has every column"
        return f"{header}\n{','.join(root)}\n{rest}"

    models.IAMBackend.get_credential_report = get_credential_report

    create_slr = models.IAMBackend.create_service_linked_role

    def create_service_linked_role(self, service_name, description, suffix):
        try:
            return create_slr(self, service_name, description, suffix)
        except exceptions.EntityAlreadyExists as e:
            taken = re.search(r"Role with name (\S+) already exists", str(e.message))
            name = taken.group(1) if taken else service_name
            raise exceptions.InvalidInput(
                f"Service role name {name} has been taken in this account, please try a different suffix.")

    models.IAMBackend.create_service_linked_role = create_service_linked_role

    update_policy = models.IAMBackend.update_account_password_policy

    def update_account_password_policy(self, allow_change_password, hard_expiry, max_password_age,
                                       minimum_password_length, password_reuse_prevention, *flags):
        for name, value, low in [("minimumPasswordLength", minimum_password_length, 6),
                                 ("passwordReusePrevention", password_reuse_prevention, 1)]:
            if value is not None and value < low:
                raise exceptions.ValidationError(
                    f'1 validation error detected: Value "{value}" at "{name}" failed to satisfy constraint: '
                    f"Member must have value greater than or equal to {low}")
        return update_policy(self, allow_change_password, hard_expiry, max_password_age,
                             minimum_password_length, password_reuse_prevention, *flags)

    models.IAMBackend.update_account_password_policy = update_account_password_policy
