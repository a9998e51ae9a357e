"""A fault a test turns on: a listing that never ends. While an operation
is named here (``POST /_baseline/endless-pages`` ``{"operations": [...]}``),
every page of it holds one new entry and a new token for the next page,
as a broken or hostile endpoint might answer forever. No AWS behaviour is
modelled: this is the red team's endless page (issue 38), for the bound a
client must keep on its own listings (AWS's pagination contract only says
a listing ends when no token is returned: "Using the Organizations API:
Paginating responses"; KMS ListAliases, `Truncated` and `NextMarker`).

Served: KMS ListAliases and ListKeys, Organizations ListAccounts.

Sources (AWS's documentation of the pagination these answers abuse):
* https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html (NextToken)
* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html (NextMarker, Truncated)
* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeys.html (NextMarker, Truncated)
"""

import itertools
import uuid

from .common import json_answer

ENDLESS = set()
_pages = itertools.count(1)


def handle(req):
    if req.action not in ENDLESS:
        return None
    n = next(_pages)
    token = uuid.uuid4().hex
    if req.action == "ListAliases":
        return json_answer({"Aliases": [{"AliasName": f"alias/endless-{n}",
                                         "AliasArn": f"arn:aws:kms:{req.region}:{req.account}:alias/endless-{n}"}],
                            "NextMarker": token, "Truncated": True})
    if req.action == "ListKeys":
        key = str(uuid.uuid4())
        return json_answer({"Keys": [{"KeyId": key, "KeyArn": f"arn:aws:kms:{req.region}:{req.account}:key/{key}"}],
                            "NextMarker": token, "Truncated": True})
    if req.action == "ListAccounts":
        account = f"{900000000000 + n:012d}"
        return json_answer({"Accounts": [{"Id": account, "Arn": f"arn:aws:organizations::{req.account}:account/o-x/{account}",
                                          "Email": f"endless-{n}@example.com", "Name": f"endless-{n}",
                                          "Status": "ACTIVE", "State": "ACTIVE"}],
                            "NextToken": token})
    return None
