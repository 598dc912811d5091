"""Extensions for AWS's update semantics and CreateBucket tags.

Each test runs against the emulator and, xfail(strict=True), against plain
moto_server, which merges updates and ignores CreateBucket tags.
"""

from helpers import name, refused


# --- cognito-idp UpdateUserPoolClient resets what it is not given ------------


def test_update_user_pool_client_resets_unsent_settings(extended):
    idp = extended.client("cognito-idp", validate=True)
    pool = idp.create_user_pool(PoolName=name("up"))["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        CallbackURLs=["https://example.com/cb"],
        RefreshTokenValidity=10,
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    idp.update_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"], ExplicitAuthFlows=["ALLOW_REFRESH_TOKEN_AUTH"])
    got = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client["ClientId"])["UserPoolClient"]
    assert got["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert "CallbackURLs" not in got  # moto: kept
    assert "SupportedIdentityProviders" not in got
    assert got["RefreshTokenValidity"] == 30  # back to the default
    assert got["ClientName"] == "web"  # not sent: kept


# --- cognito-idp UpdateUserPool -----------------------------------------------


def test_update_user_pool_resets_mfa_and_renames(extended):
    idp = extended.client("cognito-idp", validate=True)
    pool = idp.create_user_pool(
        PoolName=name("up"),
        UsernameAttributes=["email"],
        MfaConfiguration="OPTIONAL",
        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    new_name = name("renamed")
    idp.update_user_pool(UserPoolId=pool, PoolName=new_name, AutoVerifiedAttributes=["email"])
    got = idp.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert got["MfaConfiguration"] == "OFF"  # moto: kept OPTIONAL
    assert got["Name"] == new_name  # moto: old name
    assert got["UsernameAttributes"] == ["email"]  # create-only: kept
    assert any(a["Name"] == "custom:team" or a["Name"] == "team" for a in got["SchemaAttributes"])


def test_update_user_pool_tags_sent_replace_unsent_keep(extended):
    idp = extended.client("cognito-idp", validate=True)
    pool = idp.create_user_pool(PoolName=name("up"), UserPoolTags={"a": "1", "b": "2"})["UserPool"]["Id"]
    idp.update_user_pool(UserPoolId=pool, AutoVerifiedAttributes=["email"])
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["UserPoolTags"] == {"a": "1", "b": "2"}  # moto: dropped
    idp.update_user_pool(UserPoolId=pool, UserPoolTags={"c": "3"})
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["UserPoolTags"] == {"c": "3"}


# --- s3 CreateBucket with tags -------------------------------------------------


def test_create_bucket_applies_tags(extended):
    s3 = extended.client("s3", validate=True)
    bucket = name("tagged-")
    tags = [{"Key": "stackwatch:app", "Value": "demo"}, {"Key": "stage", "Value": "dev"}]
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"Tags": tags})
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]  # moto: NoSuchTagSet
    assert sorted(got, key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])


def test_create_bucket_with_location_and_tags(extended):
    s3 = extended.client("s3", validate=True, region="eu-west-1")
    bucket = name("tagged-eu-")
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1", "Tags": [{"Key": "k", "Value": "v"}]},
    )
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-west-1"
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "k", "Value": "v"}]


def test_create_bucket_with_duplicate_tag_keys_makes_nothing(extended):
    s3 = extended.client("s3")
    bucket = name("dup-")
    refused(
        lambda: s3.create_bucket(
            Bucket=bucket,
            CreateBucketConfiguration={"Tags": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]},
        ),
        "InvalidTag",
    )
    refused(lambda: s3.head_bucket(Bucket=bucket), "404", status=404)  # moto: bucket made


# --- dynamodb UpdateTable re-enables a stream after disabling it ---------------


def test_a_disabled_stream_can_be_enabled_again_as_a_new_stream(extended):
    ddb = extended.client("dynamodb", validate=True)
    table = name("t")
    ddb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    first = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    # Enabling while one is enabled is refused, as AWS does.
    refused(
        lambda: ddb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        ),
        "ResourceInUseException",
    )
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    ddb.update_table(
        TableName=table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )  # moto: "Cannot enable stream"
    got = ddb.describe_table(TableName=table)["Table"]
    assert got["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert got["LatestStreamArn"] != first
