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


# ------------------------------------------------------------------------ SQS
#
# Queue attributes, as the CreateQueue API reference (botocore's sqs model
# documentation) states them, on CreateQueue and SetQueueAttributes; AWS's
# answers, over JSON with the query code in x-amzn-query-error (services.py):
#
#   an integer attribute that is not an integer in its range: InvalidAttributeValue
#     "Invalid value for the parameter VisibilityTimeout."   (apache/airflow #65592
#     quotes AWS's CreateQueue answer; moto's aws_verified
#     test_maximum_message_size_attribute_fails_for_invalid_values expects the code)
#     DelaySeconds 0-900, MaximumMessageSize 1024-1048576 (1 MiB since 2025; moto
#     checks it on CreateQueue only), MessageRetentionPeriod 60-1209600,
#     ReceiveMessageWaitTimeSeconds 0-20, VisibilityTimeout 0-43200,
#     KmsDataKeyReusePeriodSeconds 60-86400
#   a FIFO attribute on a standard queue: InvalidAttributeName "Unknown Attribute
#     FifoQueue." (also ContentBasedDeduplication; "You can specify the
#     DeduplicationScope only when FifoQueue is set to true." and FifoThroughputLimit
#     likewise); SetQueueAttributes of FifoQueue on a standard queue the same, on a
#     FIFO queue "false" answers InvalidAttributeValue "Invalid value for the parameter
#     FifoQueue. Reason: Modifying queue type is not supported." (LocalStack's snapshots
#     recorded against AWS, test_create_standard_queue_with_fifo_attribute_raises_error,
#     test_set_unsupported_attribute_standard/_fifo)
#   a queue name ending in .fifo without FifoQueue=true: InvalidParameterValue "Can
#     only include alphanumeric characters, hyphens, or underscores. 1 to 80 in
#     length" (LocalStack's AWS-validated test_standard_queue_cannot_have_fifo_suffix
#     checks the code; the wording is moto's and AWS's for a bad name); FifoQueue=true
#     without it: "The name of a FIFO queue can only include alphanumeric characters,
#     hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length"
#     (LocalStack's wording; moto refuses with its own). Moto already refuses bad
#     characters and lengths with AWS's answer.
#   RedrivePolicy ("" removes it): not a JSON object: InvalidAttributeValue "Invalid
#     value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON
#     map." (an AWS answer quoted through Terraform); otherwise InvalidParameterValue
#     "Value RAW for parameter RedrivePolicy is invalid. Reason: ..." with "Redrive
#     policy does not contain mandatory attribute: maxReceiveCount." (and
#     deadLetterTargetArn: crossplane-contrib/provider-aws #443 and PR #444 quote
#     AWS), "Invalid value for maxReceiveCount: N, valid values are from 1 to 1000
#     both inclusive.", "Dead letter target does not exist." (serverless/serverless
#     #5215 quotes AWS) -- the dead-letter queue must exist in the request's account
#     and region. Moto took any maxReceiveCount, answered a missing target
#     AWS.SimpleQueueService.NonExistentQueue "Could not find DLQ for ...", and a
#     policy that is not JSON with a 500.
#   CreateQueue of an existing name: the attributes sent must equal the queue's
#     (those not sent are not compared; the name and FIFO rules above are for a new
#     queue, the value rules hold); else QueueAlreadyExists "A queue already
#     exists with the same name and a different value for attribute DelaySeconds"
#     (LocalStack's AWS snapshots of test_create_queue_with_different_attributes_
#     raises_exception; moto: "The specified queue already exists."). Tags sent that
#     differ from the queue's (even when it has none) are refused the same way, "...
#     a different value for tags" (Bogdanp/dramatiq_sqs PR #13 reports AWS's refusal;
#     the wording is an SQS emulator's); moto replaced the queue's tags instead.
#   ListQueues MaxResults outside 1-1000 (the API reference's range):
#     InvalidParameterValue "Value for parameter MaxResults is invalid. Reason:
#     MaxResults must be an integer between 1 and 1000." (the wording SQS emulators
#     use; no quoted AWS answer found; moto ignored it).
# A queue recreated within 60 s of its deletion is propagation.py's.

SQS_RANGES = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1048576),
    "MessageRetentionPeriod": (60, 1209600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43200),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}
SQS_FIFO_ONLY = {
    "FifoQueue": "Unknown Attribute FifoQueue.",
    "ContentBasedDeduplication": "Unknown Attribute ContentBasedDeduplication.",
    "DeduplicationScope": "You can specify the DeduplicationScope only when FifoQueue is set to true.",
    "FifoThroughputLimit": "You can specify the FifoThroughputLimit only when FifoQueue is set to true.",
}
SQS_JSON_ATTRIBUTES = ("Policy", "RedrivePolicy", "RedriveAllowPolicy")
SQS_NAME_MESSAGE = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
SQS_FIFO_NAME_MESSAGE = ("The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                         "underscores, must end with .fifo suffix and be 1 to 80 in length")
SQS_MAX_RESULTS_MESSAGE = ("Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer "
                           "between 1 and 1000.")
_SQS_INT = re.compile(r"[+-]?[0-9]+\Z")  # what Java's Integer.parseInt takes
_SQS_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}\Z")


def _sqs_backend(call):
    from moto.sqs.models import sqs_backends

    return sqs_backends[call.account][call.region]


def sqs_queue_of(call, url):
    """The queue a QueueUrl names (moto's reading: its last path segment, or the name itself), or None."""
    if not isinstance(url, str):
        return None
    name = url.split("/")[-1] if url.startswith(("http://", "https://")) else url
    return _sqs_backend(call).queues.get(name)


def _sqs_attributes(call):
    attributes = call.params.get("Attributes")
    return attributes if isinstance(attributes, dict) else {}


def _sqs_is_fifo(attributes):
    return str(attributes.get("FifoQueue", "")).lower() == "true"


def _invalid_attribute(name, reason=None):
    message = f"Invalid value for the parameter {name}." + (f" Reason: {reason}" if reason else "")
    return Refusal("sqs-attributes", "InvalidAttributeValue", message)


def _sqs_range_problem(attributes):
    for name, value in attributes.items():
        if name in SQS_RANGES:
            low, high = SQS_RANGES[name]
            if not isinstance(value, str) or not _SQS_INT.match(value) or not low <= int(value) <= high:
                return _invalid_attribute(name)
    return None


def _redrive_refusal(raw, reason):
    return Refusal("sqs-redrive-policy", "InvalidParameterValue",
                   f"Value {raw} for parameter RedrivePolicy is invalid. Reason: {reason}")


def _sqs_redrive_problem(call, attributes):
    raw = attributes.get("RedrivePolicy")
    if not isinstance(raw, str) or raw == "":
        return None  # "" removes the policy
    try:
        policy = json.loads(raw)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        return Refusal("sqs-redrive-policy", "InvalidAttributeValue",
                       "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.")
    if not policy:
        return None  # "{}": moto removes the policy; AWS's answer not known
    for key in ("maxReceiveCount", "deadLetterTargetArn"):
        if key not in policy:
            return _redrive_refusal(raw, f"Redrive policy does not contain mandatory attribute: {key}.")
    count = policy["maxReceiveCount"]
    text = count if isinstance(count, str) else json.dumps(count)
    if isinstance(count, bool) or not _SQS_INT.match(text) or not 1 <= int(text) <= 1000:
        return _redrive_refusal(raw, f"Invalid value for maxReceiveCount: {text}, valid values are from 1 to 1000 "
                                     "both inclusive.")
    target = policy["deadLetterTargetArn"]
    if not any(q.queue_arn == target for q in _sqs_backend(call).queues.values()):
        return _redrive_refusal(raw, "Dead letter target does not exist.")
    return None


def _sqs_name_problem(name, fifo):
    if name.endswith(".fifo") and not fifo:
        return Refusal("sqs-queue-name", "InvalidParameterValue", SQS_NAME_MESSAGE)
    if fifo and not name.endswith(".fifo"):
        return Refusal("sqs-queue-name", "InvalidParameterValue", SQS_FIFO_NAME_MESSAGE)
    return None


def _sqs_new_queue_problem(name, attributes):
    fifo = _sqs_is_fifo(attributes)
    if _SQS_NAME.match(name.removesuffix(".fifo")):  # else moto answers SQS_NAME_MESSAGE
        problem = _sqs_name_problem(name, fifo)
        if problem:
            return problem
    if not fifo:
        for attribute, message in SQS_FIFO_ONLY.items():
            if attribute in attributes:
                return Refusal("sqs-attributes", "InvalidAttributeName", message)
    return None


def _sqs_normal(name, value):
    """An attribute's value in a comparable form, or None when it cannot be compared."""
    if value is None:
        return None
    if name in SQS_RANGES:
        text = str(value)
        return int(text) if _SQS_INT.match(text) else None
    if name in SQS_JSON_ATTRIBUTES:
        if value in ("", {}):
            return ""
        try:
            parsed = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            return None
        if isinstance(parsed, dict) and name == "RedrivePolicy" and "maxReceiveCount" in parsed:
            parsed = dict(parsed, maxReceiveCount=str(parsed["maxReceiveCount"]))
        return parsed
    return str(value).lower() if isinstance(value, bool) or str(value).lower() in ("true", "false") else str(value)


def _sqs_exists_problem(queue, attributes, tags):
    current = queue.attributes
    for name, value in attributes.items():
        sent = _sqs_normal(name, value)
        had = _sqs_normal(name, current.get(name, "" if name in SQS_JSON_ATTRIBUTES else None))
        if sent is not None and had is not None and sent != had:
            return Refusal("sqs-queue-exists", "QueueAlreadyExists",
                           f"A queue already exists with the same name and a different value for attribute {name}")
    if isinstance(tags, dict) and tags and tags != dict(queue.tags or {}):
        return Refusal("sqs-queue-exists", "QueueAlreadyExists",
                       "A queue already exists with the same name and a different value for tags")
    return None


def sqs_create_queue(call):
    name = call.params.get("QueueName")
    if not isinstance(name, str):
        return None
    attributes = _sqs_attributes(call)
    queue = _sqs_backend(call).queues.get(name)
    if queue is None:  # of an existing queue, only the attributes sent are compared
        problem = _sqs_new_queue_problem(name, attributes)
        if problem:
            return problem
    problem = _sqs_range_problem(attributes) or _sqs_redrive_problem(call, attributes)
    if problem:
        return problem
    if queue is not None:
        return _sqs_exists_problem(queue, attributes, call.params.get("tags"))
    from . import propagation

    return propagation.sqs_deleted_recently(call.account, call.region, name)


def sqs_set_queue_attributes(call):
    queue = sqs_queue_of(call, call.params.get("QueueUrl"))
    if queue is None:
        return None  # moto answers QueueDoesNotExist
    attributes = _sqs_attributes(call)
    if "FifoQueue" in attributes:
        if not queue.fifo_queue:
            return Refusal("sqs-attributes", "InvalidAttributeName", SQS_FIFO_ONLY["FifoQueue"])
        if not _sqs_is_fifo(attributes):  # "true" again is accepted
            return _invalid_attribute("FifoQueue", "Modifying queue type is not supported.")
    return _sqs_range_problem(attributes) or _sqs_redrive_problem(call, attributes)


def sqs_list_queues(call):
    limit = call.params.get("MaxResults")
    if isinstance(limit, int) and not isinstance(limit, bool) and not 1 <= limit <= 1000:
        return Refusal("sqs-max-results", "InvalidParameterValue", SQS_MAX_RESULTS_MESSAGE)
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
    ("sqs", "CreateQueue"): ((), (sqs_create_queue,)),
    ("sqs", "SetQueueAttributes"): ((), (sqs_set_queue_attributes,)),
    ("sqs", "ListQueues"): ((), (sqs_list_queues,)),
}


def run(call, before_model):
    before, after = RULES.get((call.service.model, call.operation), ((), ()))
    for rule in before if before_model else after:
        refusal = rule(call)
        if refusal is not None:
            return refusal
    return None
