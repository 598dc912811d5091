"""IAM propagation as cognito-identity sees it (STACKWATCH_EMULATOR_IAM_DELAY).

A role younger than the delay, or one that does not exist, is refused by
SetIdentityPoolRoles (NotAuthorizedException) and GetCredentialsForIdentity
(InvalidIdentityPoolConfigurationException). Counted as "propagation".
Moto alone accepts both (the xfail runs, with strict mode off).
"""

import time

from conftest import IAM_DELAY
from helpers import TRUST, name, refused, role_arn

FORBIDDEN = "Access to Role '{}' is forbidden."
BAD_POOL = "Invalid identity pool configuration. Check assigned IAM roles for this pool."


def _pool(ci):
    return ci.create_identity_pool(IdentityPoolName=name("ip_"), AllowUnauthenticatedIdentities=True)["IdentityPoolId"]


def _role(iam):
    role = name("role-")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    return role, time.monotonic()


def _wait_past(created):
    time.sleep(max(0.0, created + IAM_DELAY + 0.2 - time.monotonic()))


def test_new_role_not_yet_usable(delayed):
    iam, ci = delayed.client("iam"), delayed.client("cognito-identity")
    pool = _pool(ci)
    before = delayed.refusals()
    role, created = _role(iam)
    arn = role_arn(role)
    message = refused(
        lambda: ci.set_identity_pool_roles(IdentityPoolId=pool, Roles={"unauthenticated": arn}), "NotAuthorizedException"
    )
    assert message == FORBIDDEN.format(arn)
    after = delayed.refusals()
    assert after["propagation"] == before["propagation"] + 1
    assert after["validation"] == before["validation"]
    assert after["recent"][-1]["rule"] == "iam-propagation"

    _wait_past(created)
    ci.set_identity_pool_roles(IdentityPoolId=pool, Roles={"unauthenticated": arn})


def test_recreated_role_not_yet_usable_for_credentials(delayed):
    iam, ci = delayed.client("iam"), delayed.client("cognito-identity")
    pool = _pool(ci)
    role, created = _role(iam)
    _wait_past(created)
    ci.set_identity_pool_roles(IdentityPoolId=pool, Roles={"unauthenticated": role_arn(role)})
    identity = ci.get_id(IdentityPoolId=pool)["IdentityId"]
    ci.get_credentials_for_identity(IdentityId=identity)

    iam.delete_role(RoleName=role)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    recreated = time.monotonic()
    message = refused(lambda: ci.get_credentials_for_identity(IdentityId=identity), "InvalidIdentityPoolConfigurationException")
    assert message == BAD_POOL
    _wait_past(recreated)
    assert ci.get_credentials_for_identity(IdentityId=identity)["Credentials"]["AccessKeyId"]


def test_missing_role_refused(strict):
    ci = strict.client("cognito-identity")
    pool = _pool(ci)
    arn = role_arn(name("never-created-"))
    before = strict.refusals()["propagation"]
    message = refused(
        lambda: ci.set_identity_pool_roles(IdentityPoolId=pool, Roles={"authenticated": arn}), "NotAuthorizedException"
    )
    assert message == FORBIDDEN.format(arn)
    got = strict.refusals()
    assert got["propagation"] == before + 1
    assert got["recent"][-1]["rule"] == "iam-role-missing"


def test_deleted_role_refused_for_credentials(strict):
    iam, ci = strict.client("iam"), strict.client("cognito-identity")
    pool = _pool(ci)
    role, _ = _role(iam)
    ci.set_identity_pool_roles(IdentityPoolId=pool, Roles={"unauthenticated": role_arn(role)})
    identity = ci.get_id(IdentityPoolId=pool)["IdentityId"]
    iam.delete_role(RoleName=role)
    message = refused(lambda: ci.get_credentials_for_identity(IdentityId=identity), "InvalidIdentityPoolConfigurationException")
    assert message == BAD_POOL
