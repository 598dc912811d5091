"""deploy/iam/stackwatch-policy.json is exactly what the code calls: every AWS SDK operation
called in src/ maps to IAM actions, and the policy grants those and nothing else. A new call
without a mapping, a missing action, or an extra action fails here, so the policy cannot drift.
"""

import json
import re

from conftest import REPO

POLICY = REPO / "deploy" / "iam" / "stackwatch-policy.json"
# `aws.<client>.<operation>(`, across line breaks (rustfmt splits long chains).
CALL = re.compile(r"\.(idp|identity|iam|s3|apigw|sts|ddb|lambda)\s*\.\s*([a-z][a-z0-9_]*)\s*\(")
# A client a kind builds for itself (`let sqs: aws_sdk_sqs::Client = aws.client();`), named
# after its service: `sqs.<operation>(`.
OWN_CALL = re.compile(r"(?<![\w.])(sqs)\s*\.\s*([a-z][a-z0-9_]*)\s*\(")

PREFIX = {"idp": "cognito-idp", "identity": "cognito-identity", "iam": "iam", "sts": "sts",
          "ddb": "dynamodb", "lambda": "lambda", "sqs": "sqs"}
VARIANT = REPO / "deploy" / "iam" / "stackwatch-policy-with-boundary.json"
BOUNDARY = "arn:aws:iam::*:policy/stackwatch-boundary"

# Operations whose IAM action is not the operation's own name.
SPECIAL = {
    # S3: HeadBucket is authorised as ListBucket; CORS deletes are PutBucketCORS.
    ("s3", "head_bucket"): ["s3:ListBucket"],
    ("s3", "get_bucket_cors"): ["s3:GetBucketCORS"],
    ("s3", "put_bucket_cors"): ["s3:PutBucketCORS"],
    ("s3", "delete_bucket_cors"): ["s3:PutBucketCORS"],
    # CreateBucket with CreateBucketConfiguration.Tags also needs s3:TagResource.
    ("s3", "create_bucket"): ["s3:CreateBucket", "s3:TagResource"],
    # CreateQueue with tags also needs sqs:TagQueue.
    ("sqs", "create_queue"): ["sqs:CreateQueue", "sqs:TagQueue"],
    # CreateTable with Tags also needs dynamodb:TagResource.
    ("ddb", "create_table"): ["dynamodb:CreateTable", "dynamodb:TagResource"],
    # SetIdentityPoolRoles hands the roles to Cognito: iam:PassRole on each.
    ("identity", "set_identity_pool_roles"): [
        "cognito-identity:SetIdentityPoolRoles", "iam:PassRole"],
    # Public (unsigned) Cognito APIs, used by `verify` to sign in as a test user: no IAM action.
    ("idp", "initiate_auth"): [],
    ("identity", "get_id"): [],
    ("identity", "get_credentials_for_identity"): [],
}

# API Gateway v2 is authorised by HTTP verb on the resource path.
APIGW_VERB = {"get": "GET", "create": "POST", "tag": "POST", "update": "PATCH",
              "delete": "DELETE", "untag": "DELETE"}

S3_PLAIN = {"create_bucket", "delete_bucket", "get_bucket_tagging", "put_bucket_tagging",
            "get_object", "put_object"}


def pascal(op):
    return "".join(w.capitalize() for w in op.split("_"))


def actions_for(client, op):
    if (client, op) in SPECIAL:
        return SPECIAL[(client, op)]
    if client == "apigw":
        return [f"apigateway:{APIGW_VERB[op.split('_')[0]]}"]
    if client == "s3":
        assert op in S3_PLAIN, f"s3 {op}: add its IAM action to SPECIAL in {__file__}"
        return [f"s3:{pascal(op)}"]
    return [f"{PREFIX[client]}:{pascal(op)}"]


def calls():
    found = {}
    for path in sorted((REPO / "src").rglob("*.rs")):
        text = path.read_text()
        for m in [*CALL.finditer(text), *OWN_CALL.finditer(text)]:
            found.setdefault((m.group(1), m.group(2)), path.relative_to(REPO))
    return found


def policy_actions(path=POLICY):
    doc = json.loads(path.read_text())
    out = set()
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow"
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        out.update(acts)
    return doc, out


def test_the_scan_finds_the_calls_it_should():
    found = calls()
    # A sample across every client, so a broken regex cannot pass by finding nothing.
    for key in [("idp", "create_user_pool"), ("identity", "set_identity_pool_roles"),
                ("iam", "put_role_policy"), ("s3", "put_bucket_cors"), ("s3", "put_object"),
                ("apigw", "create_route"), ("sts", "get_caller_identity"),
                ("ddb", "create_table"), ("lambda", "add_permission"),
                ("sqs", "create_queue")]:
        assert key in found, key
    assert len(found) > 50


def test_policy_grants_exactly_the_actions_the_code_needs():
    needed = {}
    for (client, op), where in calls().items():
        for action in actions_for(client, op):
            needed.setdefault(action, f"{client}.{op} in {where}")
    _, granted = policy_actions()
    missing = sorted(set(needed) - granted)
    extra = sorted(granted - set(needed))
    assert not missing, "missing from the policy: " + ", ".join(f"{a} ({needed[a]})" for a in missing)
    assert not extra, f"in the policy but never called (remove them): {extra}"


def test_no_wildcard_actions_and_iam_s3_scoped_to_our_names():
    doc, _ = policy_actions()
    for st in doc["Statement"]:
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        res = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        assert all("*" not in a for a in acts), st
        for a in acts:
            if a.startswith("iam:") and a not in ("iam:ListRoles", "iam:GetPolicy", "iam:GetPolicyVersion"):
                assert res == ["arn:aws:iam::*:role/stackwatch/*"], st
            if a.startswith("s3:"):
                assert all(r.startswith("arn:aws:s3:::dev-notes-") for r in res), st
            if a.startswith("dynamodb:"):
                assert res == ["arn:aws:dynamodb:*:*:table/dev-notes-*"], st
            if a.startswith("sqs:") and a != "sqs:ListQueues":
                assert res == ["arn:aws:sqs:*:*:dev-notes-*"], st
            if a == "lambda:AddPermission":
                assert st["Condition"] == {
                    "StringEquals": {"lambda:Principal": "apigateway.amazonaws.com"}}, st
    passrole = [st for st in doc["Statement"] if "iam:PassRole" in st["Action"]]
    assert passrole[0]["Condition"]["StringEquals"]["iam:PassedToService"] == "cognito-identity.amazonaws.com"


def test_role_path_and_bucket_names_match_the_scoping():
    """The resource patterns above hold only while roles live under /stackwatch/ and buckets
    (the app's and the lease's) are named {stage}-{app}-… ."""
    model = (REPO / "src" / "resource" / "role.rs").read_text()
    assert 'pub const DEFAULT_ROLE_PATH: &str = "/stackwatch/";' in model
    declare = (REPO / "src" / "resource" / "declare.rs").read_text()
    assert 'format!("{stage}-{app}-{stack}-{resource}")' in declare
    for kind in ("bucket.rs", "table.rs", "queue.rs"):
        assert "b.names().qualified()" in (REPO / "src" / "resource" / kind).read_text(), kind
    lease = REPO / "src" / "daemon" / "lease"
    assert 'format!("{stage}-{app}-stackwatch")' in (lease / "record.rs").read_text()
    assert 'pub const KEY: &str = "leader.json";' in (lease / "mod.rs").read_text()


def test_the_boundary_variant_grants_the_same_but_roles_only_with_the_boundary():
    """deploy/iam/stackwatch-policy-with-boundary.json: what the main policy grants, except that
    CreateRole and PutRolePermissionsBoundary need the boundary (iam:PermissionsBoundary) and
    DeleteRolePermissionsBoundary is not granted at all, so stackwatch's own role cannot make a
    role without the boundary, nor take it off one."""
    _, main = policy_actions()
    doc, variant = policy_actions(VARIANT)
    assert variant == main - {"iam:DeleteRolePermissionsBoundary"}
    bounded = {"iam:CreateRole", "iam:PutRolePermissionsBoundary"}
    for st in doc["Statement"]:
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if bounded & set(acts):
            assert set(acts) == bounded, st
            assert st["Condition"] == {"ArnEquals": {"iam:PermissionsBoundary": BOUNDARY}}, st
    main_doc, _ = policy_actions()
    others = [s for s in main_doc["Statement"] if s["Sid"] != "IamRolesUnderTheStackwatchPath"]
    assert others == [s for s in doc["Statement"] if s["Sid"] in {o["Sid"] for o in others}]
