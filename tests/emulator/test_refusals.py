"""GET /_stackwatch/refusals, the stderr log line, and the switches."""

import os
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import REPO
from helpers import name, refused

PYTHON = REPO / "deploy" / "local" / ".venv" / "bin" / "python"
MOTO_EXT = REPO / "deploy" / "local" / "moto_ext.py"


def test_refusal_is_counted_listed_and_logged(emulator):
    idp = emulator.client("cognito-idp")
    before = emulator.refusals()
    assert set(before) == {"validation", "propagation", "recent"}
    pool_name = "q" * 129
    message = refused(lambda: idp.create_user_pool(PoolName=pool_name), "InvalidParameterException")
    after = emulator.refusals()
    assert after["validation"] == before["validation"] + 1
    assert after["propagation"] == before["propagation"]
    last = after["recent"][-1]
    assert {k: last[k] for k in ("service", "operation", "rule", "message")} == {
        "service": "cognito-idp",
        "operation": "CreateUserPool",
        "rule": "model",
        "message": message,
    }
    lines = [line for line in emulator.log().splitlines() if line.startswith("strict: refused")]
    assert any("cognito-idp CreateUserPool" in line and pool_name in line for line in lines)


def test_valid_requests_are_not_counted(emulator):
    idp = emulator.client("cognito-idp", validate=True)
    before = emulator.refusals()["validation"]
    pool = idp.create_user_pool(PoolName=name("up"))["UserPool"]["Id"]
    idp.describe_user_pool(UserPoolId=pool)
    idp.delete_user_pool(UserPoolId=pool)
    assert emulator.refusals()["validation"] == before


def test_recent_keeps_the_last_50(emulator):
    ddb = emulator.client("dynamodb")
    for i in range(55):
        refused(lambda: ddb.list_tables(Limit=-i), "ValidationException")
    recent = emulator.refusals()["recent"]
    assert len(recent) == 50
    assert "Value '-54' at 'limit'" in recent[-1]["message"]


def test_endpoint_is_get_only(emulator):
    request = urllib.request.Request(emulator.url + "/_stackwatch/refusals", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=5)
    assert e.value.code == 405


def test_strict_off_counts_nothing(lax):
    """STACKWATCH_EMULATOR_STRICT=0: moto's answers, the endpoint still there, always zero."""
    idp = lax.client("cognito-idp")
    pool = idp.create_user_pool(PoolName="q" * 129)["UserPool"]["Id"]  # moto accepts it
    idp.delete_user_pool(UserPoolId=pool)
    got = lax.refusals()
    assert (got["validation"], got["propagation"]) == (0, 0)
    assert "strict: off" in lax.log()


def test_strict_on_is_logged_at_start(emulator):
    assert "strict: on (cognito-idp, cognito-identity, iam, sts, s3, apigatewayv2, dynamodb, lambda, sqs;" in emulator.log()
    assert "not enforced" not in emulator.log()  # every model pattern translated


@pytest.mark.parametrize("variable", ["STACKWATCH_EMULATOR_IAM_DELAY", "STACKWATCH_EMULATOR_SQS_DELETE_DELAY"])
@pytest.mark.parametrize("value", ["soon", "-1"])
def test_bad_delay_stops_the_emulator(variable, value):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STACKWATCH_EMULATOR_")}
    env[variable] = value
    done = subprocess.run([str(PYTHON), str(MOTO_EXT), "1"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert variable in done.stderr
