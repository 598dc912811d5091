"""The services strict mode checks, and the error each one answers with.

  model            signed as         protocol   a model violation answers
  ---------------  ----------------  ---------  ----------------------------------------------
  cognito-idp      cognito-idp       json       400 InvalidParameterException {"__type","message"}
  cognito-identity cognito-identity  json       400 ValidationException
  iam              iam               query      400 ErrorResponse/Error Code ValidationError
  sts              sts               query      400 ErrorResponse/Error Code ValidationError
  s3               s3                rest-xml   400 Error: MalformedXML (body), InvalidArgument
                                                (header/query), InvalidLocationConstraint
  apigatewayv2     apigateway, /v2/  rest-json  400 BadRequestException {"message"}
  dynamodb         dynamodb          json       400 com.amazon.coral.validate#ValidationException
  lambda           lambda            rest-json  400 ValidationException {"Type","message"}
  sqs              sqs               json       400 MissingParameter, InvalidAttributeName (SQS's
                                                own codes, x-amzn-query-error; see SqsErrors)

A JSON body that does not parse, or a JSON value of the wrong type, answers
SerializationException (json protocol) as AWS's JSON services do. An unknown
operation answers UnknownOperationException (json), InvalidAction (query) or
404 NotFoundException (apigatewayv2); S3 and Lambda requests that match no
operation are left to moto (S3 has non-API paths: POST forms, website
endpoints; moto serves Lambda paths newer than the model's).

Where AWS words a violation its own way, the renderer says so: an invalid IAM
path, an S3 LocationConstraint, an S3 ACL body, SQS's codes (see each class).
"""

import json
import uuid
from xml.sax.saxutils import escape

from . import check
from .refusals import Refusal


class Service:
    def __init__(self, model, signing, errors, path_prefix=None):
        self.model = model  # botocore model name
        self.signing = signing  # the SigV4 credential scope's service
        self.errors = errors
        self.path_prefix = path_prefix  # only requests under this path (one signing name, two APIs)


# --------------------------------------------------------------- renderers


def _request_id():
    return str(uuid.uuid4())


class JsonErrors:
    """awsJson services: {"__type": code, "message": ...} plus x-amzn-ErrorType."""

    def __init__(self, validation_code):
        self.validation_code = validation_code

    def validation(self, violations, call=None):
        if any(v.type_error for v in violations):
            v = next(v for v in violations if v.type_error)
            return Refusal("model", "SerializationException", f"Cannot deserialize value at '{v.path}': {v.message.rsplit(': ', 1)[-1]}")
        return Refusal("model", self.validation_code, check.summary(violations))

    def unknown_operation(self, op):
        return Refusal("operation", "UnknownOperationException", f"Unknown operation {op}")

    def malformed(self, detail):
        return Refusal("model", "SerializationException", detail)

    def render(self, refusal, method):
        body = json.dumps({"__type": refusal.code, "message": refusal.message}).encode()
        short = refusal.code.rsplit("#", 1)[-1]
        return refusal.status, [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", short),
            ("x-amzn-RequestId", _request_id()),
        ], body


class QueryErrors:
    """awsQuery services (IAM, STS): ErrorResponse XML.

    IAM words an invalid path (pathType's pattern: CreateRole, CreateUser,
    CreateGroup, CreatePolicy, CreateInstanceProfile, ... Path and NewPath)
    its own way, as AWS answers it (aws-cloudformation/cfn-lint issue #722
    quotes it; moto's test_create_virtual_mfa_device_errors expects the same).
    """

    IAM_PATH = ("The specified value for path is invalid. It must begin and end with / and contain only "
                "alphanumeric characters and/or / characters.")

    def __init__(self, namespace):
        self.namespace = namespace

    def validation(self, violations, call=None):
        for v in violations:
            if v.shape == "pathType" and "regular expression pattern" in v.message:
                return Refusal("model", "ValidationError", self.IAM_PATH, detail=check.summary(violations))
        return Refusal("model", "ValidationError", check.summary(violations))

    def unknown_operation(self, op):
        version = "2010-05-08" if "iam" in self.namespace else "2011-06-15"
        return Refusal("operation", "InvalidAction", f"Could not find operation {op} for version {version}")

    def malformed(self, detail):
        return Refusal("model", "MalformedInput", detail)

    def render(self, refusal, method):
        body = (
            f'<ErrorResponse xmlns="{self.namespace}"><Error><Type>Sender</Type>'
            f"<Code>{escape(refusal.code)}</Code><Message>{escape(refusal.message)}</Message></Error>"
            f"<RequestId>{_request_id()}</RequestId></ErrorResponse>"
        ).encode()
        return refusal.status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", _request_id())], body


class RestJsonErrors:
    """API Gateway v2: {"message": ...} with the code in x-amzn-ErrorType."""

    def validation(self, violations, call=None):
        return Refusal("model", "BadRequestException", check.summary(violations))

    def unknown_operation(self, op):
        return Refusal("operation", "NotFoundException", f"Invalid request path or method: {op}", status=404)

    def malformed(self, detail):
        return Refusal("model", "BadRequestException", detail)

    def render(self, refusal, method):
        body = json.dumps({"message": refusal.message}).encode()
        return refusal.status, [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", refusal.code),
            ("x-amzn-RequestId", _request_id()),
        ], body


class S3Errors:
    """S3's <Error><Code/><Message/>...</Error>; HEAD answers carry no body.

    A body that breaks the model answers MalformedXML, except an ACL body
    (PutBucketAcl, PutObjectAcl: an unknown Permission, say), which answers
    MalformedACLError with the same message, as AWS does (moto's
    test_put_bucket_acl_body). A LocationConstraint that is not an AWS region
    name answers InvalidLocationConstraint (the model's enum is replaced by a
    region pattern, model.py: AWS accepts the ISO and EUSC partitions'
    regions, which the enum lacks).
    """

    MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"
    ACL_OPERATIONS = ("PutBucketAcl", "PutObjectAcl")

    def validation(self, violations, call=None):
        for v in violations:
            if v.path == "createBucketConfiguration.locationConstraint" and not v.type_error:
                return Refusal("model", "InvalidLocationConstraint", "The specified location-constraint is not valid",
                               extra={"LocationConstraint": v.value})
        body = [v for v in violations if v.where == "body"]
        if body and call is not None and call.operation in self.ACL_OPERATIONS:
            return Refusal("model", "MalformedACLError", self.MALFORMED, detail=check.summary(body))
        if body:
            return Refusal("model", "MalformedXML", self.MALFORMED, detail=check.summary(body))
        v = violations[0]
        extra = {"ArgumentName": v.member or v.path}
        if v.value is not None:
            extra["ArgumentValue"] = check._show(v.value)
        return Refusal("model", "InvalidArgument", check.summary(violations), extra=extra)

    def unknown_operation(self, op):  # not used: unmatched S3 requests go to moto
        return Refusal("operation", "MethodNotAllowed", "The specified method is not allowed against this resource.", status=405)

    def malformed(self, detail):
        return Refusal("model", "MalformedXML", self.MALFORMED, detail=detail)

    def render(self, refusal, method):
        fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in refusal.extra.items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(refusal.code)}</Code><Message>{escape(refusal.message)}</Message>"
            f"{fields}<RequestId>{_request_id()}</RequestId></Error>"
        ).encode()
        if method == "HEAD":
            body = b""
        return refusal.status, [("Content-Type", "application/xml"), ("x-amz-request-id", _request_id())], body


class LambdaErrors:
    """Lambda (rest-json): {"Type": "User", "message"} with the code in x-amzn-ErrorType.

    A model violation is ValidationException with the coral wording ("1
    validation error detected: Value 'x' at 'statementId' failed to satisfy
    constraint: ..."), as Lambda answers it; a body that is not JSON is
    InvalidRequestContentException. Requests that match no route are left
    to moto (wire.py), as for S3.
    """

    def validation(self, violations, call=None):
        return Refusal("model", "ValidationException", check.summary(violations))

    def unknown_operation(self, op):  # not used: unmatched Lambda requests go to moto
        return Refusal("operation", "UnknownOperationException", f"Unknown operation {op}", status=404)

    def malformed(self, detail):
        return Refusal("model", "InvalidRequestContentException", f"Could not parse request body into json: {detail}")

    def render(self, refusal, method):
        body = json.dumps({"Type": "User", "message": refusal.message}).encode()
        return refusal.status, [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", refusal.code),
            ("x-amzn-RequestId", _request_id()),
        ], body


class SqsErrors:
    """SQS (awsJson1_0 with awsQueryCompatible): {"__type", "message"} plus x-amzn-query-error.

    SQS answers over JSON with the error shape's namespaced name in __type and
    the code of its query protocol in `x-amzn-query-error: CODE;Sender`, which
    the SDKs report as the error code (botocore's Code, aws-sdk-sqs's code()).
    A Refusal's code is that query code; QUERY_TO_TYPE gives its __type. The
    pairs as AWS answers them (LocalStack's snapshots recorded against AWS:
    QueryErrorCode is the __type's name, Code the header's; moto's aws_verified
    _verify_unknown_queue_error for QueueDoesNotExist), coral's own exceptions
    (InvalidParameterValueException, MissingRequiredParameterException) in
    com.amazon.coral.service as LocalStack's serializer notes AWS sends them.

    The model (botocore's sqs) states required members, types and enums only.
    A missing member answers MissingParameter "The request must contain the
    parameter X." (SQS's wording, e.g. for MessageBody in LocalStack's AWS
    snapshots); a queue attribute name outside QueueAttributeName in CreateQueue,
    SetQueueAttributes or GetQueueAttributes answers InvalidAttributeName
    "Unknown Attribute X." (as AWS answers a FIFO attribute on a standard queue,
    and as moto already answers GetQueueAttributes). Other enums are not
    enforced: AWS takes message system attribute names (SentTimestamp,
    ApproximateReceiveCount, ...) in ReceiveMessage's AttributeNames, whose
    model shape is the queue attributes' enum; moto's tests send them.
    """

    QUERY_TO_TYPE = {
        "AWS.SimpleQueueService.NonExistentQueue": "com.amazonaws.sqs#QueueDoesNotExist",
        "AWS.SimpleQueueService.QueueDeletedRecently": "com.amazonaws.sqs#QueueDeletedRecently",
        "QueueAlreadyExists": "com.amazonaws.sqs#QueueNameExists",
        "InvalidAttributeName": "com.amazonaws.sqs#InvalidAttributeName",
        "InvalidAttributeValue": "com.amazonaws.sqs#InvalidAttributeValue",
        "InvalidParameterValue": "com.amazon.coral.service#InvalidParameterValueException",
        "MissingParameter": "com.amazon.coral.service#MissingRequiredParameterException",
    }
    ATTRIBUTE_OPERATIONS = ("CreateQueue", "SetQueueAttributes", "GetQueueAttributes")
    ATTRIBUTE_SHAPES = ("QueueAttributeMap", "AttributeNameList")

    def validation(self, violations, call=None):
        kept = [v for v in violations if not self._unenforced(v, call)]
        if not kept:
            return None  # only enums AWS does not enforce: the request goes on
        typed = [v for v in kept if v.type_error]
        if typed:
            v = typed[0]
            return Refusal("model", "SerializationException",
                           f"Cannot deserialize value at '{v.path}': {v.message.rsplit(': ', 1)[-1]}")
        for v in kept:
            if v.value is None and v.message.endswith("Member must not be null"):
                name = v.path.rsplit(".", 1)[-1]
                return Refusal("model", "MissingParameter",
                               f"The request must contain the parameter {name[:1].upper() + name[1:]}.",
                               detail=check.summary(kept))
        for v in kept:
            unknown = self._unknown_attribute(v, call)
            if unknown is not None:
                return Refusal("model", "InvalidAttributeName", f"Unknown Attribute {unknown}.",
                               detail=check.summary(kept))
        return Refusal("model", "InvalidParameterValue", check.summary(kept))

    def _unenforced(self, v, call):
        if "enum value set" not in v.message or v.type_error:
            return False
        return not (call is not None and call.operation in self.ATTRIBUTE_OPERATIONS and v.shape in self.ATTRIBUTE_SHAPES)

    @staticmethod
    def _unknown_attribute(v, call):
        if call is None or v.shape not in SqsErrors.ATTRIBUTE_SHAPES:
            return None
        names = call.model.shape("QueueAttributeName")["enum"]
        for name in (v.value if isinstance(v.value, (dict, list)) else ()):
            if isinstance(name, str) and name not in names:
                return name
        return None

    def unknown_operation(self, op):
        return Refusal("operation", "UnknownOperationException", f"Unknown operation {op}")

    def malformed(self, detail):
        return Refusal("model", "SerializationException", detail)

    def render(self, refusal, method):
        type_ = self.QUERY_TO_TYPE.get(refusal.code, refusal.code)
        body = json.dumps({"__type": type_, "message": refusal.message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("x-amzn-ErrorType", type_),
            ("x-amzn-RequestId", _request_id()),
        ]
        if refusal.code in self.QUERY_TO_TYPE:
            headers.append(("x-amzn-query-error", f"{refusal.code};Sender"))
        return refusal.status, headers, body


# ------------------------------------------------------------------- table

SERVICES = (
    Service("cognito-idp", "cognito-idp", JsonErrors("InvalidParameterException")),
    Service("cognito-identity", "cognito-identity", JsonErrors("ValidationException")),
    Service("iam", "iam", QueryErrors("https://iam.amazonaws.com/doc/2010-05-08/")),
    Service("sts", "sts", QueryErrors("https://sts.amazonaws.com/doc/2011-06-15/")),
    Service("s3", "s3", S3Errors()),
    Service("apigatewayv2", "apigateway", RestJsonErrors(), path_prefix="/v2/"),
    Service("dynamodb", "dynamodb", JsonErrors("com.amazon.coral.validate#ValidationException")),
    Service("lambda", "lambda", LambdaErrors()),
    Service("sqs", "sqs", SqsErrors()),
)

# REST services whose requests that match no operation go to moto unchecked.
PASS_UNMATCHED = ("s3", "lambda")

BY_MODEL = {s.model: s for s in SERVICES}
