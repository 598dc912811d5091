"""Answers moto's own test suite (deploy/local/moto-suite) showed strict mode
giving differently from AWS: a false refusal, a wrong code, AWS's own wording.

Tests taking `strict` run against the emulator and, xfail(strict=True), with
strict mode off, where moto answers differently. Where plain moto already
answers as AWS does (strict mode used to break it), the test takes `either`
and expects the same answer in both modes.
"""

import json

import pytest

from helpers import ACCOUNT, name, refused

# ------------------------------------------------- S3 LocationConstraint

# Regions of the ISO and EUSC partitions: botocore's BucketLocationConstraint
# enum lacks them, AWS accepts them there (strict mode refused them).
OTHER_PARTITIONS = ["us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1", "eusc-de-east-1"]


@pytest.mark.parametrize("region", OTHER_PARTITIONS)
def test_location_constraint_of_other_partitions_accepted(either, region):
    s3 = either.client("s3", region=region)
    bucket = name("iso-")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == region


# moto's aws_verified test_create_bucket_with_wrong_location_constraint: a
# constraint that is not the endpoint's region (even one no enum has).
@pytest.mark.parametrize("constraint", ["us-east-1", "us-east-2", "us-gov-east-2", "us-isob-east-1"])
def test_location_constraint_of_another_region(either, constraint):
    s3 = either.client("s3", region="us-west-2")
    message = refused(
        lambda: s3.create_bucket(Bucket=name("where-"), CreateBucketConfiguration={"LocationConstraint": constraint}),
        "IllegalLocationConstraintException",
    )
    assert message == (
        f"The {constraint} location constraint is incompatible for the region specific endpoint this request was sent to."
    )


def test_location_constraint_us_east_1_on_us_east_1(either):
    s3 = either.client("s3", region="us-east-1")
    message = refused(
        lambda: s3.create_bucket(Bucket=name("where-"), CreateBucketConfiguration={"LocationConstraint": "us-east-1"}),
        "InvalidLocationConstraint",
    )
    assert message == "The specified location-constraint is not valid"


def test_location_constraint_not_a_region(strict):
    s3 = strict.client("s3", region="us-east-1")
    refused(
        lambda: s3.create_bucket(Bucket=name("where-"), CreateBucketConfiguration={"LocationConstraint": "moon-1"}),
        "InvalidLocationConstraint",
    )


def test_other_regions_from_us_east_1_accepted(either):
    s3 = either.client("s3", region="us-east-1")
    bucket = name("where-")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-central-1"


# -------------------------------------------------------------- S3 ACL body


def _acl(permission, owner):
    return {
        "Grants": [
            {
                "Grantee": {"URI": "http://acs.amazonaws.com/groups/s3/LogDelivery", "Type": "Group"},
                "Permission": permission,
            }
        ],
        "Owner": owner,
    }


def test_acl_with_unknown_permission(either):
    """MalformedACLError, not MalformedXML (moto's test_put_bucket_acl_body)."""
    s3 = either.client("s3")
    bucket = name("acl-")
    s3.create_bucket(Bucket=bucket)
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    message = refused(lambda: s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=_acl("EVERYTHING", owner)),
                      "MalformedACLError")
    assert message == ("The XML you provided was not well-formed or did not validate against our published schema")
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=_acl("WRITE", owner))


# --------------------------------------------------------------- IAM paths

IAM_PATH = ("The specified value for path is invalid. It must begin and end with / and contain only "
            "alphanumeric characters and/or / characters.")


@pytest.mark.parametrize("path", ["my-path", "/no-trailing", "no-leading/"])
def test_iam_role_path(strict, path):
    iam = strict.client("iam")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    message = refused(lambda: iam.create_role(RoleName=name("role-"), Path=path, AssumeRolePolicyDocument=trust),
                      "ValidationError")
    assert message == IAM_PATH


def test_iam_user_path(strict):
    iam = strict.client("iam")
    assert refused(lambda: iam.create_user(UserName=name("user-"), Path="users"), "ValidationError") == IAM_PATH


def test_iam_update_group_new_path(strict):
    iam = strict.client("iam")
    group = name("group-")
    iam.create_group(GroupName=group, Path="/team/")
    assert refused(lambda: iam.update_group(GroupName=group, NewPath="/team"), "ValidationError") == IAM_PATH


def test_iam_path_at_the_root_and_nested_accepted(emulator):
    iam = emulator.client("iam")
    iam.create_user(UserName=name("user-"), Path="/")
    user = iam.create_user(UserName=name("user-"), Path="/a/b-c/")["User"]
    assert user["Arn"].startswith(f"arn:aws:iam::{ACCOUNT}:user/a/b-c/")


# ------------------------------------------------------ DynamoDB enum order


def test_dynamodb_enum_in_aws_order(either):
    """AWS lists Select's values in its own order (moto's aws_verified
    test_select_values_are_case_sensitive); moto already does."""
    ddb = either.client("dynamodb")
    table = name("select-")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    message = refused(lambda: ddb.scan(TableName=table, Select="count"), "ValidationException")
    assert message == (
        "1 validation error detected: Value 'count' at 'select' failed to satisfy constraint: Member must satisfy "
        "enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
    )
