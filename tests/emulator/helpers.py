"""Small helpers shared by the emulator tests."""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-east-1"


def name(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def refused(call, code, status=400):
    """Run `call`, expect a ClientError with `code` and `status`; return its message."""
    with pytest.raises(ClientError) as e:
        call()
    error = e.value.response["Error"]
    assert error["Code"] == code, error
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return error.get("Message", "")


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


TRUST = policy(
    {
        "Effect": "Allow",
        "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }
)


def role_arn(role):
    return f"arn:aws:iam::{ACCOUNT}:role/{role}"
