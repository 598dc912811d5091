"""Lambda through strict mode: the model check (400 ValidationException) and the
resource policy rules (AddPermission, RemovePermission, GetPolicy).

Tests taking `strict` run against the emulator and, xfail(strict=True), with
strict mode off, where moto answers differently; tests taking `either` pin
down what moto already answers as AWS does, in both modes.
"""

import io
import json
import zipfile

import pytest

from helpers import ACCOUNT, REGION, name, refused

LAMBDA_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


def _zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _function(target):
    """A new function (zip, an existing role) through the target; (client, name, arn)."""
    iam = target.client("iam", validate=True)
    role = iam.create_role(RoleName=name("fn-role-"), Path="/stackwatch/", AssumeRolePolicyDocument=LAMBDA_TRUST)
    lam = target.client("lambda")
    fn = name("fn-")
    created = target.client("lambda", validate=True).create_function(
        FunctionName=fn, Runtime="python3.12", Role=role["Role"]["Arn"], Handler="index.handler",
        Code={"ZipFile": _zip()},
    )
    return lam, fn, created["FunctionArn"]


def _allow(lam, fn, sid="apigw"):
    return lam.add_permission(
        FunctionName=fn, StatementId=sid, Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:abc123/*/*/notes",
    )


def test_create_function_and_permissions_pass(emulator):
    """What stackwatch sends: CreateFunction, GetFunction, AddPermission, GetPolicy, RemovePermission."""
    before = emulator.refusals()["validation"]
    lam, fn, arn = _function(emulator)
    assert lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"] == arn
    statement = json.loads(_allow(lam, fn)["Statement"])
    assert statement["Sid"] == "apigw"
    policy = json.loads(lam.get_policy(FunctionName=arn)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["apigw"]
    lam.remove_permission(FunctionName=fn, StatementId="apigw")
    assert emulator.refusals()["validation"] == before


def test_statement_id_already_exists(strict):
    lam, fn, _ = _function(strict)
    _allow(lam, fn, "same")
    message = refused(lambda: _allow(lam, fn, "same"), "ResourceConflictException", status=409)
    assert message == (
        "The statement id (same) provided already exists. Please provide a new statement id, "
        "or remove the existing statement."
    )
    policy = json.loads(lam.get_policy(FunctionName=fn)["Policy"])
    assert len(policy["Statement"]) == 1


def test_remove_statement_the_policy_lacks(strict):
    lam, fn, _ = _function(strict)
    _allow(lam, fn, "kept")
    message = refused(lambda: lam.remove_permission(FunctionName=fn, StatementId="gone"),
                      "ResourceNotFoundException", status=404)
    assert message == "Statement gone is not found in resource policy."


def test_remove_statement_without_any_policy(either):
    lam, fn, _ = _function(either)
    message = refused(lambda: lam.remove_permission(FunctionName=fn, StatementId="gone"),
                      "ResourceNotFoundException", status=404)
    assert message == "No policy is associated with the given resource."


def test_get_policy_without_policy(either):
    lam, fn, _ = _function(either)
    message = refused(lambda: lam.get_policy(FunctionName=fn), "ResourceNotFoundException", status=404)
    assert message == "The resource you requested does not exist."


@pytest.mark.parametrize("operation", ["get_function", "get_policy", "add_permission", "remove_permission"])
def test_function_not_found(either, operation):
    lam = either.client("lambda")
    fn = name("missing-")
    calls = {
        "get_function": lambda: lam.get_function(FunctionName=fn),
        "get_policy": lambda: lam.get_policy(FunctionName=fn),
        "add_permission": lambda: _allow(lam, fn),
        "remove_permission": lambda: lam.remove_permission(FunctionName=fn, StatementId="apigw"),
    }
    message = refused(calls[operation], "ResourceNotFoundException", status=404)
    assert message == f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"


def test_statement_id_pattern(strict):
    lam, fn, _ = _function(strict)
    message = refused(lambda: _allow(lam, fn, "has space"), "ValidationException")
    assert message == (
        "1 validation error detected: Value 'has space' at 'statementId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"
    )


def test_function_name_too_long(strict):
    lam = strict.client("lambda")
    long_name = "f" * 300
    message = refused(lambda: lam.get_policy(FunctionName=long_name), "ValidationException")
    assert message.startswith(f"1 validation error detected: Value '{long_name}' at 'functionName' failed to satisfy")


def test_add_permission_required_member(strict):
    lam, fn, _ = _function(strict)
    message = refused(
        lambda: lam.add_permission(FunctionName=fn, StatementId="s", Action="lambda:InvokeFunction"),
        "ValidationException",
    )
    assert message == (
        "1 validation error detected: Value null at 'principal' failed to satisfy constraint: Member must not be null"
    )
