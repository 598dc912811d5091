"""Strict mode's model check: requests botocore's service-2.json says AWS refuses.

Every test runs against the emulator and, xfail(strict=True), against the
emulator with STACKWATCH_EMULATOR_STRICT=0, where moto accepts the request.
Clients have botocore's own parameter validation off, so the invalid request
reaches the wire.
"""

import json

from helpers import name, refused, TRUST


# --- cognito-idp (json): InvalidParameterException -------------------------


def test_string_too_long(strict):
    idp = strict.client("cognito-idp")
    long_name = "p" * 129
    message = refused(lambda: idp.create_user_pool(PoolName=long_name), "InvalidParameterException")
    assert message == (
        f"1 validation error detected: Value '{long_name}' at 'poolName' failed to satisfy constraint: "
        "Member must have length less than or equal to 128"
    )


def test_required_member_missing(strict):
    idp = strict.client("cognito-idp")
    message = refused(lambda: idp.create_user_pool(), "InvalidParameterException")
    assert message == (
        "1 validation error detected: Value null at 'poolName' failed to satisfy constraint: Member must not be null"
    )


def test_enum_in_a_list(strict):
    idp = strict.client("cognito-idp")
    message = refused(
        lambda: idp.create_user_pool(PoolName=name("up"), UsernameAttributes=["nickname"]), "InvalidParameterException"
    )
    assert message == (
        "1 validation error detected: Value '[nickname]' at 'usernameAttributes' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must satisfy enum value set: [phone_number, email]]"
    )


def test_nested_numeric_range(strict):
    idp = strict.client("cognito-idp")
    message = refused(
        lambda: idp.create_user_pool(PoolName=name("up"), Policies={"PasswordPolicy": {"MinimumLength": 5}}),
        "InvalidParameterException",
    )
    assert message == (
        "1 validation error detected: Value '5' at 'policies.passwordPolicy.minimumLength' failed to satisfy "
        "constraint: Member must have value greater than or equal to 6"
    )


def test_structure_in_a_list(strict):
    idp = strict.client("cognito-idp")
    message = refused(
        lambda: idp.create_user_pool(
            PoolName=name("up"), Schema=[{"Name": "x" * 21, "AttributeDataType": "String"}]
        ),
        "InvalidParameterException",
    )
    assert "at 'schema.1.member.name' failed to satisfy constraint: Member must have length less than or equal to 20" in message


def test_map_keys(strict):
    idp = strict.client("cognito-idp")
    message = refused(
        lambda: idp.create_user_pool(PoolName=name("up"), UserPoolTags={"k" * 129: "v"}), "InvalidParameterException"
    )
    assert "at 'userPoolTags' failed to satisfy constraint: Map keys must satisfy constraint: " in message
    assert "Member must have length less than or equal to 128" in message


def test_pattern_is_a_full_match(strict):
    idp = strict.client("cognito-idp")
    # [\w-]+_[0-9a-zA-Z]+ finds a match inside this id, but does not match all of it.
    message = refused(lambda: idp.describe_user_pool(UserPoolId="us-east-1_abc!"), "InvalidParameterException")
    assert message.endswith(
        "at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+"
    )


def test_several_errors_counted(strict):
    idp = strict.client("cognito-idp")
    message = refused(
        lambda: idp.create_user_pool(PoolName="p" * 129, MfaConfiguration="SOMETIMES"), "InvalidParameterException"
    )
    assert message.startswith("2 validation errors detected: Value ")
    assert "at 'poolName'" in message and "at 'mfaConfiguration'" in message and "; " in message


def test_sensitive_value_left_out(strict):
    idp = strict.client("cognito-idp")
    message = refused(
        lambda: idp.admin_set_user_password(
            UserPoolId="us-east-1_abc", Username="alice", Password="has a space", Permanent=True
        ),
        "InvalidParameterException",
    )
    assert "Value at 'password' failed to satisfy constraint" in message
    assert "has a space" not in message


def test_wrong_json_type(strict):
    idp = strict.client("cognito-idp")
    refused(lambda: idp.create_user_pool(PoolName=12345), "SerializationException")


def test_body_not_json(strict):
    status, body = strict.signed(
        "cognito-idp",
        "POST",
        "/",
        b"{not json",
        {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools"},
    )
    assert status == 400
    assert json.loads(body)["__type"] == "SerializationException"


def test_unknown_json_operation(strict):
    status, body = strict.signed(
        "cognito-idp",
        "POST",
        "/",
        b"{}",
        {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSCognitoIdentityProviderService.MakeCoffee"},
    )
    assert status == 400
    assert json.loads(body)["__type"] == "UnknownOperationException"


# --- cognito-identity (json): ValidationException ----------------------------


def test_cognito_identity_pattern(strict):
    ci = strict.client("cognito-identity")
    message = refused(lambda: ci.get_id(IdentityPoolId="us-east-1_notanidentitypool"), "ValidationException")
    assert message == (
        "1 validation error detected: Value 'us-east-1_notanidentitypool' at 'identityPoolId' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+"
    )


def test_cognito_identity_map_value(strict):
    ci = strict.client("cognito-identity")
    message = refused(
        lambda: ci.create_identity_pool(
            IdentityPoolName=name("ip"), AllowUnauthenticatedIdentities=False, SupportedLoginProviders={"graph.facebook.com": ""}
        ),
        "ValidationException",
    )
    assert "at 'supportedLoginProviders' failed to satisfy constraint: Map value must satisfy constraint: [" in message


# --- iam, sts (query): ValidationError ---------------------------------------


def test_iam_pattern(strict):
    iam = strict.client("iam")
    message = refused(lambda: iam.create_role(RoleName="has space", AssumeRolePolicyDocument=TRUST), "ValidationError")
    assert message == (
        "1 validation error detected: Value 'has space' at 'roleName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )


def test_iam_numeric_range(strict):
    iam = strict.client("iam")
    message = refused(
        lambda: iam.create_role(RoleName=name("r"), AssumeRolePolicyDocument=TRUST, MaxSessionDuration=60),
        "ValidationError",
    )
    assert "Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600" in message


def test_iam_flattened_list_members(strict):
    """Tags.member.2.Value: the query protocol's flattened list, decoded and checked per member."""
    iam = strict.client("iam")
    message = refused(
        lambda: iam.create_role(
            RoleName=name("r"),
            AssumeRolePolicyDocument=TRUST,
            Description="d" * 1001,
            Tags=[{"Key": "ok", "Value": "v"}, {"Key": "fine", "Value": "v"}],
        ),
        "ValidationError",
    )
    assert message.startswith("1 validation error detected: ")
    assert "at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000" in message


def test_unknown_query_action(strict):
    status, body = strict.signed(
        "iam",
        "POST",
        "/",
        b"Action=MakeCoffee&Version=2010-05-08",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert status == 400
    assert "<Code>InvalidAction</Code>" in body


def test_sts_range(strict):
    sts = strict.client("sts")
    message = refused(
        lambda: sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="s1", DurationSeconds=60),
        "ValidationError",
    )
    assert "at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900" in message


def test_sts_unsigned_call(strict):
    """AssumeRoleWithWebIdentity is unsigned: the service comes from its Action."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        endpoint_url=strict.url,
        config=Config(signature_version=UNSIGNED, parameter_validation=False, retries={"max_attempts": 1}),
    )
    message = refused(
        lambda: sts.assume_role_with_web_identity(
            RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="has space", WebIdentityToken="t" * 10
        ),
        "ValidationError",
    )
    assert "at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern" in message


# --- s3 (rest-xml) -----------------------------------------------------------


def test_s3_header_enum(strict):
    s3 = strict.client("s3")
    message = refused(lambda: s3.create_bucket(Bucket=name("acl-"), ACL="everyone-may-write"), "InvalidArgument")
    assert "at 'aCL' failed to satisfy constraint: Member must satisfy enum value set: [" in message


def test_s3_body_required_member(strict):
    s3 = strict.client("s3")
    bucket = name("tagging-")
    s3.create_bucket(Bucket=bucket)
    refused(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={}), "MalformedXML")


def test_s3_location_constraint_enum(strict):
    s3 = strict.client("s3")
    refused(
        lambda: s3.create_bucket(Bucket=name("where-"), CreateBucketConfiguration={"LocationConstraint": "mars-north-1"}),
        "InvalidLocationConstraint",
    )


def test_s3_query_integer(strict):
    s3 = strict.client("s3")
    bucket = name("list-")
    s3.create_bucket(Bucket=bucket)
    status, body = strict.signed("s3", "GET", f"/{bucket}?list-type=2&max-keys=many")
    assert status == 400
    assert "<Code>InvalidArgument</Code>" in body


def test_s3_virtual_host_bucket(strict):
    """Host: BUCKET.s3.amazonaws.com names the bucket, as moto reads it: still PutBucketTagging."""
    s3 = strict.client("s3")
    bucket = name("vhost-")
    s3.create_bucket(Bucket=bucket)
    status, body = strict.signed(
        "s3", "PUT", "/?tagging", b"<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>",
        {"Host": f"{bucket}.s3.amazonaws.com", "Content-Type": "application/xml"},
    )
    assert status == 400, body
    assert "<Code>InvalidTag</Code>" in body


# --- apigatewayv2 (rest-json): BadRequestException ---------------------------


def test_apigatewayv2_enum(strict):
    # (the model's StringWithLengthBetween1And128 and friends carry no min/max: enums,
    # required members and types are what botocore's apigatewayv2 model constrains)
    api = strict.client("apigatewayv2")
    message = refused(
        lambda: api.create_api(Name=name("api"), ProtocolType="HTTP", IpAddressType="ipv5"), "BadRequestException"
    )
    assert message == (
        "1 validation error detected: Value 'ipv5' at 'ipAddressType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [ipv4, dualstack]"
    )


def test_apigatewayv2_required(strict):
    api = strict.client("apigatewayv2")
    refused(lambda: api.create_api(ProtocolType="HTTP"), "BadRequestException")


def test_apigatewayv2_uri_member(strict):
    """A member bound to the URI ({apiId}) is decoded and checked too."""
    api = strict.client("apigatewayv2")
    api_id = api.create_api(Name=name("api"), ProtocolType="HTTP")["ApiId"]
    refused(
        lambda: api.create_route(ApiId=api_id, RouteKey="GET /x", AuthorizationType="MAGIC"), "BadRequestException"
    )


def test_apigatewayv2_unknown_path(strict):
    status, body = strict.signed("apigateway", "GET", "/v2/coffee-machines")
    assert status == 404
    assert "message" in json.loads(body)


# --- dynamodb (json) ----------------------------------------------------------


def test_dynamodb_range(strict):
    ddb = strict.client("dynamodb")
    message = refused(lambda: ddb.list_tables(Limit=0), "ValidationException")
    assert message == (
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
