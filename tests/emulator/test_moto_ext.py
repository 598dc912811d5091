"""Each test checks one extension in deploy/local/moto_ext.py.

Every test also runs against plain moto_server, where it must fail (xfail
strict): the assertion marked "moto:" is the one plain moto 5.2.5 gets wrong.
"""

import json
import uuid

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-east-1"


def _name(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _code(excinfo):
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def idp(extended):
    return extended.client("cognito-idp", validate=True)


@pytest.fixture
def ci(extended):
    return extended.client("cognito-identity", validate=True)


TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}
        ],
    }
)


@pytest.fixture
def roles(extended):
    """The roles AUTH and UNAUTH exist (strict mode refuses roles that do not)."""
    iam = extended.client("iam", validate=True)
    for name in ("auth", "unauth"):
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
        except ClientError as e:
            assert e.response["Error"]["Code"] == "EntityAlreadyExists"


@pytest.fixture
def identity_pool(ci):
    return ci.create_identity_pool(
        IdentityPoolName=_name("pool_"), AllowUnauthenticatedIdentities=True, IdentityPoolTags={"app": "sw"}
    )["IdentityPoolId"]


def _identity_pool_arn(pool_id):
    return f"arn:aws:cognito-identity:{REGION}:{ACCOUNT}:identitypool/{pool_id}"


MISSING_POOL = f"{REGION}:00000000-0000-0000-0000-000000000000"
AUTH = f"arn:aws:iam::{ACCOUNT}:role/auth"
UNAUTH = f"arn:aws:iam::{ACCOUNT}:role/unauth"


# --- cognito-identity SetIdentityPoolRoles / GetIdentityPoolRoles ------------


def test_identity_pool_roles_round_trip(ci, identity_pool, roles):
    mappings = {
        f"cognito-idp.{REGION}.amazonaws.com/{REGION}_abc:client": {
            "Type": "Token",
            "AmbiguousRoleResolution": "AuthenticatedRole",
        }
    }
    ci.set_identity_pool_roles(  # moto: NotImplemented (500)
        IdentityPoolId=identity_pool,
        Roles={"authenticated": AUTH, "unauthenticated": UNAUTH},
        RoleMappings=mappings,
    )
    got = ci.get_identity_pool_roles(IdentityPoolId=identity_pool)
    got.pop("ResponseMetadata")
    assert got == {
        "IdentityPoolId": identity_pool,
        "Roles": {"authenticated": AUTH, "unauthenticated": UNAUTH},
        "RoleMappings": mappings,
    }


def test_set_identity_pool_roles_replaces_whole_map(ci, identity_pool, roles):
    ci.set_identity_pool_roles(IdentityPoolId=identity_pool, Roles={"authenticated": AUTH, "unauthenticated": UNAUTH})
    ci.set_identity_pool_roles(IdentityPoolId=identity_pool, Roles={"authenticated": UNAUTH})
    got = ci.get_identity_pool_roles(IdentityPoolId=identity_pool)
    assert got["Roles"] == {"authenticated": UNAUTH}
    assert "RoleMappings" not in got


def test_identity_pool_roles_unknown_pool(ci, roles):
    for call in (
        lambda: ci.get_identity_pool_roles(IdentityPoolId=MISSING_POOL),
        lambda: ci.set_identity_pool_roles(IdentityPoolId=MISSING_POOL, Roles={"authenticated": AUTH}),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert _code(e) == "ResourceNotFoundException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_deleting_identity_pool_drops_roles(ci, identity_pool, roles):
    ci.set_identity_pool_roles(IdentityPoolId=identity_pool, Roles={"authenticated": AUTH})
    ci.delete_identity_pool(IdentityPoolId=identity_pool)
    with pytest.raises(ClientError) as e:
        ci.get_identity_pool_roles(IdentityPoolId=identity_pool)
    assert _code(e) == "ResourceNotFoundException"


# --- cognito-idp UpdateUserPool keeps UsernameAttributes ---------------------


def test_update_user_pool_keeps_username_attributes(idp):
    pool_id = idp.create_user_pool(
        PoolName=_name("up"), UsernameAttributes=["email"], AutoVerifiedAttributes=["email"]
    )["UserPool"]["Id"]
    idp.update_user_pool(
        UserPoolId=pool_id,
        AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 12}},
    )
    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["UsernameAttributes"] == ["email"]  # moto: key missing
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12  # the update itself applied


# --- cognito-identity UpdateIdentityPool renames ------------------------------


def test_update_identity_pool_renames(ci, identity_pool):
    new_name = _name("renamed_")
    out = ci.update_identity_pool(
        IdentityPoolId=identity_pool, IdentityPoolName=new_name, AllowUnauthenticatedIdentities=False
    )
    assert out["IdentityPoolName"] == new_name  # moto: old name
    got = ci.describe_identity_pool(IdentityPoolId=identity_pool)
    assert got["IdentityPoolName"] == new_name
    assert got["AllowUnauthenticatedIdentities"] is False


def test_update_identity_pool_unknown_pool(ci):
    with pytest.raises(ClientError) as e:
        ci.update_identity_pool(
            IdentityPoolId=MISSING_POOL, IdentityPoolName="x", AllowUnauthenticatedIdentities=False
        )
    assert _code(e) == "ResourceNotFoundException"  # moto: 500 (KeyError)


# --- cognito-identity GetId is stable per login ------------------------------


def _id_token(idp, pool_id, client_id, email):
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password="Passw0rd!x", Permanent=True)
    auth = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Passw0rd!x"},
    )
    return auth["AuthenticationResult"]["IdToken"]


def test_get_id_same_user_same_identity(idp, ci):
    pool_id = idp.create_user_pool(PoolName=_name("up"), UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    provider = f"cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    ip = ci.create_identity_pool(
        IdentityPoolName=_name("ip_"),
        AllowUnauthenticatedIdentities=True,
        CognitoIdentityProviders=[{"ProviderName": provider, "ClientId": client_id, "ServerSideTokenCheck": False}],
    )["IdentityPoolId"]

    alice1 = _id_token(idp, pool_id, client_id, "alice@example.com")
    # A second sign-in gives a different token for the same user (same `sub`).
    alice2 = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice@example.com", "PASSWORD": "Passw0rd!x"},
    )["AuthenticationResult"]["IdToken"]
    bob = _id_token(idp, pool_id, client_id, "bob@example.com")

    a1 = ci.get_id(IdentityPoolId=ip, Logins={provider: alice1})["IdentityId"]
    a2 = ci.get_id(IdentityPoolId=ip, Logins={provider: alice2})["IdentityId"]
    b = ci.get_id(IdentityPoolId=ip, Logins={provider: bob})["IdentityId"]
    assert a1 == a2  # moto: new id every call
    assert a1 != b
    assert a1.startswith(f"{REGION}:")

    # Unauthenticated GetId still mints a new identity each time, as on AWS.
    assert ci.get_id(IdentityPoolId=ip)["IdentityId"] != ci.get_id(IdentityPoolId=ip)["IdentityId"]


def test_get_id_opaque_token_keyed_by_raw_token(ci, identity_pool):
    first = ci.get_id(IdentityPoolId=identity_pool, Logins={"graph.facebook.com": "tok-1"})["IdentityId"]
    again = ci.get_id(IdentityPoolId=identity_pool, Logins={"graph.facebook.com": "tok-1"})["IdentityId"]
    other = ci.get_id(IdentityPoolId=identity_pool, Logins={"graph.facebook.com": "tok-2"})["IdentityId"]
    assert first == again  # moto: new id every call
    assert first != other


def test_get_id_unknown_pool(ci):
    with pytest.raises(ClientError) as e:
        ci.get_id(IdentityPoolId=MISSING_POOL)
    assert _code(e) == "ResourceNotFoundException"  # moto: 500 (KeyError)


# --- cognito-idp TagResource / UntagResource / ListTagsForResource -----------


def test_user_pool_tagging(idp):
    pool = idp.create_user_pool(PoolName=_name("up"), UserPoolTags={"app": "sw", "env": "dev"})["UserPool"]
    arn = pool["Arn"]
    assert arn == f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{pool['Id']}"

    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"app": "sw", "env": "dev"}  # moto: 500
    idp.tag_resource(ResourceArn=arn, Tags={"env": "prod", "team": "a"})
    idp.untag_resource(ResourceArn=arn, TagKeys=["app"])
    want = {"env": "prod", "team": "a"}
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == want
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["UserPoolTags"] == want

    # UpdateUserPool without UserPoolTags leaves the tags alone.
    idp.update_user_pool(UserPoolId=pool["Id"], AutoVerifiedAttributes=["email"])
    assert idp.list_tags_for_resource(ResourceArn=arn)["Tags"] == want


def test_user_pool_tagging_unknown_pool(idp):
    arn = f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{REGION}_missing"
    with pytest.raises(ClientError) as e:
        idp.list_tags_for_resource(ResourceArn=arn)
    assert _code(e) == "ResourceNotFoundException"


# --- cognito-identity TagResource / UntagResource / ListTagsForResource ------


def test_identity_pool_tagging(ci, identity_pool):
    arn = _identity_pool_arn(identity_pool)
    assert ci.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"app": "sw"}  # moto: 500
    ci.tag_resource(ResourceArn=arn, Tags={"env": "dev", "team": "a"})
    ci.untag_resource(ResourceArn=arn, TagKeys=["app", "team"])
    assert ci.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "dev"}
    assert ci.describe_identity_pool(IdentityPoolId=identity_pool)["IdentityPoolTags"] == {"env": "dev"}


def test_identity_pool_tagging_unknown_pool(ci):
    with pytest.raises(ClientError) as e:
        ci.tag_resource(ResourceArn=_identity_pool_arn(MISSING_POOL), Tags={"a": "b"})
    assert _code(e) == "ResourceNotFoundException"
