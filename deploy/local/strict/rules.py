"""Strict rules AWS enforces that the service models do not state.

Each rule takes the decoded Call and returns a Refusal or None. Rules marked
`before_model` run before the model check (AWS reports them first: a bad
bucket name or tag, whatever else is wrong); the others only see requests the
model check passed, so their parameters have the model's types.
"""

import json
import re
from urllib.parse import unquote

from .refusals import Refusal

# ------------------------------------------------------------------ S3 naming
#
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
# (general purpose buckets): 3-63 characters; lowercase letters, digits, '.'
# and '-'; begin and end with a letter or digit; no two adjacent periods; not
# formatted as an IPv4 address; reserved prefixes and suffixes.

_BUCKET_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]\Z")
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}\Z")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name):
    """Why `name` is not a valid general purpose bucket name, or None."""
    if not 3 <= len(name) <= 63:
        return "must be 3-63 characters long"
    if not _BUCKET_CHARS.match(name):
        return "only lowercase letters, digits, '.' and '-', beginning and ending with a letter or digit"
    if ".." in name:
        return "no two adjacent periods"
    if _IPV4.match(name):
        return "must not be formatted as an IP address"
    for prefix in RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"the prefix {prefix!r} is reserved"
    for suffix in RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"the suffix {suffix!r} is reserved"
    return None


def s3_bucket_name(call):
    name = call.params.get("Bucket")
    if not isinstance(name, str):
        return None
    problem = bucket_name_problem(name)
    if problem:
        return Refusal("s3-bucket-name", "InvalidBucketName", "The specified bucket is not valid.",
                       extra={"BucketName": name}, detail=problem)
    return None


# ------------------------------------------------------- S3 location constraint
#
# Which LocationConstraint fits the endpoint (the region the request was
# signed for), as AWS answers (moto's aws_verified tests
# test_create_bucket_with_wrong_location_constraint,
# test_bucket_create_force_us_east_1 and
# test_bucket_create_empty_location_constraint_*): us-east-1 takes none, or
# any other region's; every other endpoint only its own.

def _incompatible(what):
    return Refusal("s3-location-constraint", "IllegalLocationConstraintException",
                   f"The {what} location constraint is incompatible for the region specific endpoint this "
                   "request was sent to.")


def s3_location_constraint(call):
    config = call.params.get("CreateBucketConfiguration")
    if config is not None and not isinstance(config, dict):
        return None  # body not read (ambiguous or streamed)
    constraint = (config or {}).get("LocationConstraint") or None
    region = call.region
    if region == "us-east-1":
        if constraint == "us-east-1":
            return Refusal("s3-location-constraint", "InvalidLocationConstraint",
                           "The specified location-constraint is not valid", extra={"LocationConstraint": constraint})
        return None
    if constraint is None:
        return _incompatible("unspecified")
    if constraint != region and not (constraint == "EU" and region == "eu-west-1"):
        return _incompatible(constraint)
    return None


# -------------------------------------------------------------------- S3 tags
#
# Bucket tags: key 1-128 characters, value at most 256, no duplicate keys, no
# "aws:" keys, at most 50 tags. Wording: AWS answers InvalidTag "The TagKey you
# have provided is invalid" for an empty or over-long key (versity/versitygw
# issue #1232 quotes AWS's answer) and "The TagValue you have provided is
# invalid" for a bad value (hashicorp/terraform PR #12122); duplicate and aws:
# keys use moto's (and AWS's) PutBucketTagging wording. The count message is
# ours: no AWS answer for 51 bucket tags was found to quote.

MAX_BUCKET_TAGS = 50


def _tag_problem(tags):
    if not isinstance(tags, list):
        return None
    seen = set()
    for tag in tags:
        if not isinstance(tag, dict):
            continue
        key, value = tag.get("Key"), tag.get("Value")
        if isinstance(key, str):
            if key in seen:
                return "Cannot provide multiple Tags with the same key"
            seen.add(key)
            if not 1 <= len(key) <= 128:
                return "The TagKey you have provided is invalid"
            if key.startswith("aws:"):
                return "System tags cannot be added/updated by requester"
        if isinstance(value, str) and len(value) > 256:
            return "The TagValue you have provided is invalid"
    if len(tags) > MAX_BUCKET_TAGS:
        return f"Bucket tag count cannot be greater than {MAX_BUCKET_TAGS}"
    return None


def _s3_tags(tags):
    problem = _tag_problem(tags)
    return Refusal("s3-tags", "InvalidTag", problem) if problem else None


def s3_create_bucket_tags(call):
    config = call.params.get("CreateBucketConfiguration")
    return _s3_tags(config.get("Tags")) if isinstance(config, dict) else None


def s3_put_bucket_tags(call):
    tagging = call.params.get("Tagging")
    return _s3_tags(tagging.get("TagSet")) if isinstance(tagging, dict) else None


# -------------------------------------------------------------------- IAM
#
# Quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
# a role's inline policies together ("the sum size of all inline policies per
# entity") at most 10,240 characters and a trust policy at most 2,048,
# whitespace not counted; at most 50 tags per role. LimitExceeded is
# 409 (the IAM model's LimitExceededException). Wording as AWS answers:
#   "Maximum policy size of 10240 bytes exceeded for role X"   (aws/aws-cdk #18531)
#   "Cannot exceed quota for ACLSizePerRole: 2048"             (aws/aws-cdk #18564, 409;
#                                                               apache/airflow #27331 for
#                                                               UpdateAssumeRolePolicy)
#   "Cannot exceed quota for TagsPerRole: 50"                  (by the pattern of the two
#                                                               quota answers above; no quoted
#                                                               answer found)
# A single request with more than 50 tags is already refused by the model
# check (tagListType max 50: ValidationError), as AWS does.
#
# An empty Statement list: MalformedPolicyDocument "Syntax errors in policy."
# — AWS's answer to a document whose Statement is null (kubernetes/kops
# issue #13095, PutRolePolicy); moto gives the same for an empty list on
# PutRolePolicy/UpdateAssumeRolePolicy but not on CreateRole.

INLINE_POLICY_MAX = 10240
TRUST_POLICY_MAX = 2048
MAX_ROLE_TAGS = 50
_WHITESPACE = re.compile(r"\s+")


def _size(document):
    return len(_WHITESPACE.sub("", document))


def _policy_json(document):
    for text in (document, unquote(document)):
        try:
            return json.loads(text)
        except ValueError:
            continue
    return None


def _empty_statement(document):
    if not isinstance(document, str):
        return None
    policy = _policy_json(document)
    if isinstance(policy, dict) and policy.get("Statement") == []:
        return Refusal("iam-empty-statement", "MalformedPolicyDocument", "Syntax errors in policy.")
    return None


def _limit(rule, message):
    return Refusal(rule, "LimitExceeded", message, status=409)


def iam_trust_policy(member):
    def rule(call):
        document = call.params.get(member)
        if not isinstance(document, str):
            return None
        empty = _empty_statement(document)
        if empty:
            return empty
        if _size(document) > TRUST_POLICY_MAX:
            return _limit("iam-trust-policy-size", f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_MAX}")
        return None

    return rule


def iam_inline_policy(call):
    """PutRolePolicy: the role's inline policies, this one put (replacing its namesake), fit 10,240."""
    document = call.params.get("PolicyDocument")
    if not isinstance(document, str):
        return None
    empty = _empty_statement(document)
    if empty:
        return empty
    role = call.params.get("RoleName")
    total = _size(document) + sum(
        _size(text) for policy_name, text in _inline_policies(call, role).items()
        if policy_name != call.params.get("PolicyName")
    )
    if total > INLINE_POLICY_MAX:
        return _limit("iam-inline-policy-size", f"Maximum policy size of {INLINE_POLICY_MAX} bytes exceeded for role {role}")
    return None


def _inline_policies(call, role_name):
    from moto.iam.models import iam_backends

    try:
        role = iam_backends[call.account]["aws"].get_role(role_name)
    except Exception:
        return {}  # moto answers NoSuchEntity
    return {k: v for k, v in (role.policies or {}).items() if isinstance(v, str)}


def iam_tag_role_total(call):
    """TagRole: the role's tags after the request (keys case-insensitive) at most 50."""
    from moto.iam.models import iam_backends

    tags = call.params.get("Tags")
    name = call.params.get("RoleName")
    if not isinstance(tags, list) or not isinstance(name, str):
        return None
    try:
        role = iam_backends[call.account]["aws"].get_role(name)
    except Exception:
        return None  # moto answers NoSuchEntity
    keys = {t["Key"].lower() for t in role.tags if isinstance(t, dict) and "Key" in t}
    keys |= {t["Key"].lower() for t in tags if isinstance(t, dict) and isinstance(t.get("Key"), str)}
    if len(keys) > MAX_ROLE_TAGS:
        return _limit("iam-role-tags", f"Cannot exceed quota for TagsPerRole: {MAX_ROLE_TAGS}")
    return None


# ------------------------------------------------------------- Lambda policy
#
# A function's resource policy, as AWS's Lambda answers (wording from AWS's
# answers as quoted by the SDKs' users, e.g. the serverless plugins that match
# "The statement id (.*?) provided already exists"):
#   AddPermission, a StatementId the policy has: 409 ResourceConflictException
#     "The statement id (SID) provided already exists. Please provide a new
#     statement id, or remove the existing statement."  (moto added a second)
#   RemovePermission, a StatementId the policy lacks: 404
#     ResourceNotFoundException "Statement SID is not found in resource
#     policy."  (moto: "No policy is associated with the given resource.",
#     which is AWS's answer only when the function has no policy at all)
# Moto already answers GetPolicy without a policy ("The resource you requested
# does not exist.") and a missing function ("Function not found: ARN").


def _lambda_function(call):
    from moto.awslambda.models import lambda_backends

    name = call.params.get("FunctionName")
    if not isinstance(name, str):
        return None
    try:
        return lambda_backends[call.account][call.region].get_function(name, call.params.get("Qualifier"))
    except Exception:
        return None  # moto answers (Function not found: ARN)


def _sids(fn):
    policy = getattr(fn, "policy", None)
    return [s.get("Sid") for s in getattr(policy, "statements", None) or [] if isinstance(s, dict)]


def lambda_add_permission(call):
    fn = _lambda_function(call)
    sid = call.params.get("StatementId")
    if fn is not None and sid in _sids(fn):
        return Refusal("lambda-policy", "ResourceConflictException",
                       f"The statement id ({sid}) provided already exists. Please provide a new statement id, "
                       "or remove the existing statement.", status=409)
    return None


def lambda_remove_permission(call):
    fn = _lambda_function(call)
    sid = call.params.get("StatementId")
    sids = _sids(fn) if fn is not None else []
    if sids and sid not in sids:
        return Refusal("lambda-policy", "ResourceNotFoundException",
                       f"Statement {sid} is not found in resource policy.", status=404)
    return None


# ------------------------------------------------------------------- table

# (service, operation) -> (rules before the model check, rules after it)
RULES = {
    ("s3", "CreateBucket"): ((s3_bucket_name, s3_create_bucket_tags), (s3_location_constraint,)),
    ("s3", "PutBucketTagging"): ((s3_put_bucket_tags,), ()),
    ("iam", "CreateRole"): ((), (iam_trust_policy("AssumeRolePolicyDocument"),)),
    ("iam", "UpdateAssumeRolePolicy"): ((), (iam_trust_policy("PolicyDocument"),)),
    ("iam", "PutRolePolicy"): ((), (iam_inline_policy,)),
    ("iam", "TagRole"): ((), (iam_tag_role_total,)),
    ("lambda", "AddPermission"): ((), (lambda_add_permission,)),
    ("lambda", "RemovePermission"): ((), (lambda_remove_permission,)),
}


def run(call, before_model):
    before, after = RULES.get((call.service.model, call.operation), ((), ()))
    for rule in before if before_model else after:
        refusal = rule(call)
        if refusal is not None:
            return refusal
    return None
