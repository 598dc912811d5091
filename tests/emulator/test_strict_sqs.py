"""SQS through strict mode: the model check and the queue rules, answered as
SQS answers over JSON (the query code in x-amzn-query-error, which botocore
reports as Error.Code, the __type's name as Error.QueryErrorCode).

Tests taking `strict` run against the emulator and, xfail(strict=True), with
strict mode off, where moto accepts the request or answers otherwise (a 500, or
its own code or wording; each test says which); tests taking `either` pin down
what moto already answers as AWS does, in both modes; `delayed` needs
STACKWATCH_EMULATOR_SQS_DELETE_DELAY. The QueryErrorCode and Type expected are
those of LocalStack's snapshots recorded against AWS.
"""

import json
import time

import pytest

from conftest import SQS_DELETE_DELAY
from helpers import ACCOUNT, REGION, name, refused

NAME_MESSAGE = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"


def _sqs(target, validate=False):
    return target.client("sqs", validate=validate)


def _queue(sqs, prefix="q-", **kwargs):
    """A new queue; (name, url, arn)."""
    queue = name(prefix)
    if kwargs.get("Attributes", {}).get("FifoQueue") == "true":
        queue += ".fifo"
    url = sqs.create_queue(QueueName=queue, **kwargs)["QueueUrl"]
    return queue, url, f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"


def _error(call, code, query_code=None):
    """Run `call`: a 400 ClientError with `code` (and the __type's name); its message."""
    with pytest.raises(Exception) as e:
        call()
    response = getattr(e.value, "response", None)
    assert response is not None, e.value
    error = response["Error"]
    assert error["Code"] == code, error
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    if query_code is not None:
        assert error.get("QueryErrorCode") == query_code, error
        assert error.get("Type") == "Sender", error
    return error.get("Message", "")


def _redrive(arn, count=5):
    return json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": count})


# -------------------------------------------------------------- accepted


def test_queue_lifecycle_passes(emulator):
    """What the queue kind sends, boto3 validating: nothing refused."""
    before = emulator.refusals()
    sqs = _sqs(emulator, validate=True)
    prefix = name("sw-")
    dlq, dlq_url, dlq_arn = _queue(sqs, prefix + "-dlq-")
    queue = prefix + "-orders"
    refused(lambda: sqs.get_queue_url(QueueName=queue), "AWS.SimpleQueueService.NonExistentQueue")
    attributes = {"VisibilityTimeout": "45", "MessageRetentionPeriod": "86400", "RedrivePolicy": _redrive(dlq_arn, 3)}
    tags = {"stackwatch:app": "notes", "stackwatch:id": "Orders"}
    url = sqs.create_queue(QueueName=queue, Attributes=attributes, tags=tags)["QueueUrl"]
    assert sqs.get_queue_url(QueueName=queue)["QueueUrl"] == url
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert got["VisibilityTimeout"] == "45" and got["MessageRetentionPeriod"] == "86400"
    assert json.loads(got["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == tags
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "60", "MessageRetentionPeriod": "60"})
    sqs.tag_queue(QueueUrl=url, Tags={"extra": "x"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["extra"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == tags
    assert sorted(sqs.list_queues(QueueNamePrefix=prefix, MaxResults=1000)["QueueUrls"]) == sorted([dlq_url, url])
    sqs.delete_queue(QueueUrl=url)
    sqs.delete_queue(QueueUrl=dlq_url)
    after = emulator.refusals()
    assert after["validation"] == before["validation"], after["recent"][-5:]
    assert after["propagation"] == before["propagation"], after["recent"][-5:]


def test_list_queues_pages(emulator):
    sqs = _sqs(emulator, validate=True)
    prefix = name("page-")
    urls = sorted(sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5))
    seen, token, pages = [], None, 0
    while True:
        page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, **({"NextToken": token} if token else {}))
        seen += page.get("QueueUrls", [])
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == urls
    assert pages == 3


def test_create_queue_with_the_same_attributes_returns_it(emulator):
    """The same values, a subset, or none: the existing URL; compared with the queue's values now
    (LocalStack's AWS-validated test_create_queue_with_different_attributes_raises_exception)."""
    sqs = _sqs(emulator, validate=True)
    _, _, dlq_arn = _queue(sqs, "dlq-")
    queue = name("same-")
    attributes = {"VisibilityTimeout": "45", "DelaySeconds": "5", "RedrivePolicy": _redrive(dlq_arn, 4)}
    url = sqs.create_queue(QueueName=queue, Attributes=attributes)["QueueUrl"]
    assert sqs.create_queue(QueueName=queue, Attributes=attributes)["QueueUrl"] == url
    assert sqs.create_queue(QueueName=queue, Attributes={"DelaySeconds": "5"})["QueueUrl"] == url
    assert sqs.create_queue(QueueName=queue)["QueueUrl"] == url
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "6"})
    assert sqs.create_queue(QueueName=queue, Attributes={"DelaySeconds": "6"})["QueueUrl"] == url
    tagged, tagged_url, _ = _queue(sqs, "tagged-", tags={"owner": "stackwatch"})
    assert sqs.create_queue(QueueName=tagged, tags={"owner": "stackwatch"})["QueueUrl"] == tagged_url


def test_redrive_policy_set_and_removed(emulator):
    sqs = _sqs(emulator, validate=True)
    _, _, dlq_arn = _queue(sqs, "dlq-")
    _, url, _ = _queue(sqs, "src-")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": _redrive(dlq_arn, 1000)})
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(got["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1000}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
    _, created, _ = _queue(sqs, "src-", Attributes={"RedrivePolicy": ""})
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=created, AttributeNames=["All"])["Attributes"]


def test_attribute_bounds_accepted(emulator):
    sqs = _sqs(emulator, validate=True)
    low = {"DelaySeconds": "0", "MaximumMessageSize": "1024", "MessageRetentionPeriod": "60",
           "ReceiveMessageWaitTimeSeconds": "0", "VisibilityTimeout": "0", "KmsDataKeyReusePeriodSeconds": "60"}
    high = {"DelaySeconds": "900", "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "1209600",
            "ReceiveMessageWaitTimeSeconds": "20", "VisibilityTimeout": "43200", "KmsDataKeyReusePeriodSeconds": "86400"}
    _, url, _ = _queue(sqs, "bounds-", Attributes=low)
    sqs.set_queue_attributes(QueueUrl=url, Attributes=high)
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {k: got[k] for k in high if k in got} == {k: v for k, v in high.items() if k in got}


def test_fifo_queue_accepted(emulator):
    sqs = _sqs(emulator, validate=True)
    _, url, _ = _queue(sqs, "fifo-", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})  # the same type again


def test_receive_message_takes_message_system_attribute_names(either):
    """ReceiveMessage's AttributeNames is modelled as the queue attributes' enum; AWS takes message ones."""
    sqs = _sqs(either)
    _, url, _ = _queue(sqs, "recv-")
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    got = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount", "SentTimestamp"])
    assert got["Messages"][0]["Body"] == "hello"


def test_recreate_at_once_without_a_delay(emulator):
    """STACKWATCH_EMULATOR_SQS_DELETE_DELAY unset: a deleted name is free again at once."""
    sqs = _sqs(emulator)
    queue, url, _ = _queue(sqs, "again-")
    sqs.delete_queue(QueueUrl=url)
    assert sqs.create_queue(QueueName=queue)["QueueUrl"] == url


# ----------------------------------------------------------- model check


def test_missing_parameter(strict):
    """Moto: a 500."""
    message = _error(lambda: _sqs(strict).create_queue(), "MissingParameter", "MissingRequiredParameterException")
    assert message == "The request must contain the parameter QueueName."


@pytest.mark.parametrize("operation", ["create_queue", "set_queue_attributes"])
def test_unknown_attribute_name(strict, operation):
    """Moto: accepted (and ignored)."""
    sqs = _sqs(strict)
    _, url, _ = _queue(sqs)
    calls = {
        "create_queue": lambda: sqs.create_queue(QueueName=name("q-"), Attributes={"Bogus": "1"}),
        "set_queue_attributes": lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout ": "1"}),
    }
    message = _error(calls[operation], "InvalidAttributeName", "InvalidAttributeName")
    assert message == ("Unknown Attribute Bogus." if operation == "create_queue" else "Unknown Attribute VisibilityTimeout .")


def test_get_queue_attributes_unknown_name(either):
    sqs = _sqs(either)
    _, url, _ = _queue(sqs)
    message = _error(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "not-existing"]),
                     "InvalidAttributeName")
    assert message == "Unknown Attribute not-existing."


def test_unknown_operation(strict):
    """Moto: a 500."""
    status, body = strict.signed("sqs", "POST", "/", body=b"{}", headers={
        "X-Amz-Target": "AmazonSQS.FrobnicateQueue", "Content-Type": "application/x-amz-json-1.0"})
    assert status == 400
    assert json.loads(body)["__type"] == "UnknownOperationException"


# ------------------------------------------------------- attribute values

RANGES = {
    "DelaySeconds": ("-1", "901"),
    "MessageRetentionPeriod": ("59", "1209601"),
    "ReceiveMessageWaitTimeSeconds": ("-1", "21"),
    "VisibilityTimeout": ("-1", "43201"),
    "KmsDataKeyReusePeriodSeconds": ("59", "86401"),
    "MaximumMessageSize": ("1023", "1048577"),
}
OUT_OF_RANGE = [(attribute, value) for attribute, values in RANGES.items() for value in values + ("abc", " 2")]


@pytest.mark.parametrize("attribute,value", [c for c in OUT_OF_RANGE if c[0] != "MaximumMessageSize" or c[1] == "abc"])
def test_attribute_value_on_create(strict, attribute, value):
    """Moto: accepted, or a 500 for what is not a number ("abc"; " 2" it reads as 2)."""
    sqs = _sqs(strict)
    message = _error(lambda: sqs.create_queue(QueueName=name("q-"), Attributes={attribute: value}),
                     "InvalidAttributeValue", "InvalidAttributeValue")
    assert message == f"Invalid value for the parameter {attribute}."


@pytest.mark.parametrize("attribute,value", OUT_OF_RANGE)
def test_attribute_value_on_set(strict, attribute, value):
    """Moto: accepted (MaximumMessageSize is checked on CreateQueue only), or a 500."""
    sqs = _sqs(strict)
    _, url, _ = _queue(sqs)
    message = _error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={attribute: value}),
                     "InvalidAttributeValue", "InvalidAttributeValue")
    assert message == f"Invalid value for the parameter {attribute}."


@pytest.mark.parametrize("value", ["1023", "1048577"])
def test_maximum_message_size_on_create(either, value):
    """Moto checks MaximumMessageSize on CreateQueue (its aws_verified test)."""
    sqs = _sqs(either)
    message = _error(lambda: sqs.create_queue(QueueName=name("q-"), Attributes={"MaximumMessageSize": value}),
                     "InvalidAttributeValue")
    assert message == "Invalid value for the parameter MaximumMessageSize."


# ------------------------------------------------------------ FIFO rules

FIFO_ONLY = {
    "FifoQueue": "Unknown Attribute FifoQueue.",
    "ContentBasedDeduplication": "Unknown Attribute ContentBasedDeduplication.",
    "DeduplicationScope": "You can specify the DeduplicationScope only when FifoQueue is set to true.",
    "FifoThroughputLimit": "You can specify the FifoThroughputLimit only when FifoQueue is set to true.",
}
FIFO_VALUES = {"FifoQueue": "false", "ContentBasedDeduplication": "false", "DeduplicationScope": "queue",
               "FifoThroughputLimit": "perQueue"}


@pytest.mark.parametrize("attribute", list(FIFO_ONLY))
def test_fifo_attribute_on_a_standard_queue(strict, attribute):
    """Moto: accepted."""
    sqs = _sqs(strict)
    message = _error(lambda: sqs.create_queue(QueueName=name("std-"), Attributes={attribute: FIFO_VALUES[attribute]}),
                     "InvalidAttributeName", "InvalidAttributeName")
    assert message == FIFO_ONLY[attribute]


@pytest.mark.parametrize("value", ["true", "false"])
def test_set_fifo_queue_on_a_standard_queue(strict, value):
    """Moto: accepted."""
    sqs = _sqs(strict)
    _, url, _ = _queue(sqs)
    message = _error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": value}),
                     "InvalidAttributeName", "InvalidAttributeName")
    assert message == "Unknown Attribute FifoQueue."


def test_set_fifo_queue_false_on_a_fifo_queue(strict):
    """Moto: accepted."""
    sqs = _sqs(strict)
    _, url, _ = _queue(sqs, Attributes={"FifoQueue": "true"})
    message = _error(lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "false"}),
                     "InvalidAttributeValue", "InvalidAttributeValue")
    assert message == "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."


# ------------------------------------------------------------ queue names


def test_standard_queue_named_fifo(strict):
    """Moto: accepted."""
    sqs = _sqs(strict)
    message = _error(lambda: sqs.create_queue(QueueName=name("std-") + ".fifo"),
                     "InvalidParameterValue", "InvalidParameterValueException")
    assert message == NAME_MESSAGE


def test_fifo_queue_without_the_suffix(strict):
    """Moto refuses too, with "Queue name must end in .fifo for FIFO queues"."""
    sqs = _sqs(strict)
    message = _error(lambda: sqs.create_queue(QueueName=name("fifo-"), Attributes={"FifoQueue": "true"}),
                     "InvalidParameterValue", "InvalidParameterValueException")
    assert message == ("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, "
                       "must end with .fifo suffix and be 1 to 80 in length")


@pytest.mark.parametrize("queue", ["", "q" * 81, "has space", "has.dot", "slash/name", "p" * 76 + ".fifo"])
def test_queue_name(either, queue):
    """Moto already answers a bad name as AWS does."""
    sqs = _sqs(either)
    fifo = {"Attributes": {"FifoQueue": "true"}} if queue.endswith(".fifo") else {}
    message = _error(lambda: sqs.create_queue(QueueName=queue, **fifo), "InvalidParameterValue")
    assert message == NAME_MESSAGE


@pytest.mark.parametrize("queue", ["q" * 80, "a", "A-z_09", "f" * 75 + ".fifo"])
def test_queue_name_accepted(either, queue):
    sqs = _sqs(either)
    fifo = {"Attributes": {"FifoQueue": "true"}} if queue.endswith(".fifo") else {}
    try:
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])  # from an earlier run
    except Exception:
        pass
    assert sqs.create_queue(QueueName=queue, **fifo)["QueueUrl"].endswith("/" + queue)
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])


# --------------------------------------------------------- RedrivePolicy


def _redrive_cases(dlq_arn):
    other_region = dlq_arn.replace(f":{REGION}:", ":us-west-2:")
    reason = "Value {} for parameter RedrivePolicy is invalid. Reason: "
    return {
        # moto: a 500
        "not-json": ("not json", "InvalidAttributeValue",
                     "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map."),
        # moto: InvalidParameterValue "Redrive policy does not contain deadLetterTargetArn"
        "a-list": ("[1]", "InvalidAttributeValue",
                   "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map."),
        # moto: its own wording
        "no-count": (json.dumps({"deadLetterTargetArn": dlq_arn}), "InvalidParameterValue",
                     reason + "Redrive policy does not contain mandatory attribute: maxReceiveCount."),
        "no-target": (json.dumps({"maxReceiveCount": 5}), "InvalidParameterValue",
                      reason + "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."),
        # moto: accepted, or a 500 ("abc")
        "count-0": (_redrive(dlq_arn, 0), "InvalidParameterValue",
                    reason + "Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."),
        "count-1001": (_redrive(dlq_arn, "1001"), "InvalidParameterValue",
                       reason + "Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive."),
        "count-abc": (_redrive(dlq_arn, "abc"), "InvalidParameterValue",
                      reason + "Invalid value for maxReceiveCount: abc, valid values are from 1 to 1000 both inclusive."),
        # moto: AWS.SimpleQueueService.NonExistentQueue "Could not find DLQ for ..."
        "no-such-queue": (_redrive(dlq_arn + "-gone"), "InvalidParameterValue",
                          reason + "Dead letter target does not exist."),
        "other-region": (_redrive(other_region), "InvalidParameterValue", reason + "Dead letter target does not exist."),
    }


CASES = list(_redrive_cases("arn"))


@pytest.mark.parametrize("operation", ["create_queue", "set_queue_attributes"])
@pytest.mark.parametrize("case", CASES)
def test_redrive_policy(strict, operation, case):
    sqs = _sqs(strict)
    _, _, dlq_arn = _queue(sqs, "dlq-")
    _, url, _ = _queue(sqs, "src-")
    policy, code, message = _redrive_cases(dlq_arn)[case]
    attributes = {"RedrivePolicy": policy}
    calls = {
        "create_queue": lambda: sqs.create_queue(QueueName=name("src-"), Attributes=attributes),
        "set_queue_attributes": lambda: sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes),
    }
    query_code = "InvalidParameterValueException" if code == "InvalidParameterValue" else code
    assert _error(calls[operation], code, query_code) == message.format(policy)
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert "RedrivePolicy" not in got


# ------------------------------------------------- CreateQueue of a name


def test_create_queue_with_other_attributes(strict):
    """Moto refuses too, with "The specified queue already exists."."""
    sqs = _sqs(strict)
    queue, url, _ = _queue(sqs, Attributes={"VisibilityTimeout": "30", "DelaySeconds": "1"})
    message = _error(lambda: sqs.create_queue(QueueName=queue, Attributes={"VisibilityTimeout": "30", "DelaySeconds": "2"}),
                     "QueueAlreadyExists", "QueueNameExists")
    assert message == "A queue already exists with the same name and a different value for attribute DelaySeconds"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])["Attributes"]["DelaySeconds"] == "1"


def test_create_queue_with_other_tags(strict):
    """Moto replaced the queue's tags (so a create that met someone else's queue took it over)."""
    sqs = _sqs(strict)
    queue, url, _ = _queue(sqs, tags={"owner": "someone-else"})
    message = _error(lambda: sqs.create_queue(QueueName=queue, tags={"owner": "stackwatch"}),
                     "QueueAlreadyExists", "QueueNameExists")
    assert message == "A queue already exists with the same name and a different value for tags"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"owner": "someone-else"}


def test_create_queue_with_tags_over_an_untagged_queue(strict):
    """Moto: accepted, and the tags applied."""
    sqs = _sqs(strict)
    queue, url, _ = _queue(sqs)
    _error(lambda: sqs.create_queue(QueueName=queue, tags={"owner": "stackwatch"}), "QueueAlreadyExists", "QueueNameExists")
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def test_create_queue_deleted_recently(delayed):
    """Moto: accepted at once."""
    sqs = _sqs(delayed)
    queue, url, _ = _queue(sqs, "gone-")
    before = delayed.refusals()
    sqs.delete_queue(QueueUrl=url)
    deleted = time.monotonic()
    message = _error(lambda: sqs.create_queue(QueueName=queue), "AWS.SimpleQueueService.QueueDeletedRecently",
                     "QueueDeletedRecently")
    assert message == "You must wait 60 seconds after deleting a queue before you can create another with the same name."
    after = delayed.refusals()
    assert after["propagation"] == before["propagation"] + 1
    assert after["validation"] == before["validation"]
    assert after["recent"][-1]["rule"] == "sqs-queue-deleted-recently"
    time.sleep(max(0.0, deleted + SQS_DELETE_DELAY + 0.2 - time.monotonic()))
    assert sqs.create_queue(QueueName=queue)["QueueUrl"] == url


# ----------------------------------------------------------- unknown URL

UNKNOWN = {
    "get_queue_url": lambda sqs, url: sqs.get_queue_url(QueueName=url.rsplit("/", 1)[-1]),
    "get_queue_attributes": lambda sqs, url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
    "set_queue_attributes": lambda sqs, url: sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "1"}),
    "list_queue_tags": lambda sqs, url: sqs.list_queue_tags(QueueUrl=url),
    "tag_queue": lambda sqs, url: sqs.tag_queue(QueueUrl=url, Tags={"k": "v"}),
    "untag_queue": lambda sqs, url: sqs.untag_queue(QueueUrl=url, TagKeys=["k"]),
    "delete_queue": lambda sqs, url: sqs.delete_queue(QueueUrl=url),
}


@pytest.mark.parametrize("operation", list(UNKNOWN))
def test_queue_does_not_exist(either, operation):
    """Moto already answers as AWS does (its aws_verified _verify_unknown_queue_error)."""
    sqs = _sqs(either)
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name('missing-')}"
    with pytest.raises(Exception) as e:
        UNKNOWN[operation](sqs, url)
    response = e.value.response
    assert response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert response["Error"]["QueryErrorCode"] == "QueueDoesNotExist"
    assert response["Error"]["Message"] == "The specified queue does not exist."
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"


# ------------------------------------------------------------ ListQueues


@pytest.mark.parametrize("limit", [0, 1001, -1])
def test_list_queues_max_results(strict, limit):
    """Moto: ignored."""
    message = _error(lambda: _sqs(strict).list_queues(MaxResults=limit), "InvalidParameterValue",
                     "InvalidParameterValueException")
    assert message == "Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
