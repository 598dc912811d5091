"""Strict rules that are not in the models: S3 bucket names and tags, IAM sizes,
role tag totals, empty Statement lists.

Tests taking `strict` run against the emulator and, xfail(strict=True), with
strict mode off, where moto accepts. Where moto already refuses the same
thing, the test takes `either` and expects the refusal in both modes.
"""

import json

import pytest

from helpers import TRUST, name, policy, refused

# ------------------------------------------------------------ S3 bucket names

# Names moto 5.2.5 accepts and AWS refuses.
INVALID_NAMES = [
    "UpperCase",
    "under_score",
    "-starts-with-dash",
    "ends-with-dash-",
    "two..dots",
    "192.168.5.4",
    "xn--punycode",
    "sthree-bucket",
    "amzn-s3-demo-bucket",
    "name-s3alias",
    "name--ol-s3",
    "name.mrap",
    "name--table-s3",
    "name--x-s3",
]
# Names moto refuses as well (its length rule): refused in both modes.
ALSO_MOTO = ["ab", "a" * 64]


def _create_bucket(target, bucket):
    return target.signed("s3", "PUT", f"/{bucket}")


@pytest.mark.parametrize("bucket", INVALID_NAMES)
def test_bucket_name_refused(strict, bucket):
    status, body = _create_bucket(strict, bucket)
    assert status == 400, body
    assert "<Code>InvalidBucketName</Code>" in body
    assert "<Message>The specified bucket is not valid.</Message>" in body
    assert f"<BucketName>{bucket}</BucketName>" in body


@pytest.mark.parametrize("bucket", ALSO_MOTO)
def test_bucket_name_refused_by_moto_too(either, bucket):
    status, body = _create_bucket(either, bucket)
    assert status == 400, body
    assert "<Code>InvalidBucketName</Code>" in body


@pytest.mark.parametrize("bucket", ["abc", "a" * 63, "my-bucket.example-1", "1.2.3", "xn-one-dash", "s3alias-first"])
def test_bucket_name_accepted(emulator, bucket):
    bucket = bucket if len(bucket) == 63 or bucket == "abc" else f"{bucket}-{name('')}"
    status, body = _create_bucket(emulator, bucket)
    assert status == 200, body


# ------------------------------------------------------------------- S3 tags


def test_bucket_tag_key_too_long(strict):
    s3 = strict.client("s3")
    bucket = name("tags-")
    s3.create_bucket(Bucket=bucket)
    message = refused(
        lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]}),
        "InvalidTag",
    )
    assert message == "The TagKey you have provided is invalid"


def test_bucket_tag_value_too_long(strict):
    s3 = strict.client("s3")
    bucket = name("tags-")
    s3.create_bucket(Bucket=bucket)
    message = refused(
        lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k", "Value": "v" * 257}]}),
        "InvalidTag",
    )
    assert message == "The TagValue you have provided is invalid"


def test_create_bucket_with_invalid_tags_leaves_no_bucket(strict):
    s3 = strict.client("s3")
    bucket = name("tags-")
    refused(
        lambda: s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"Tags": [{"Key": "k" * 129, "Value": "v"}]}),
        "InvalidTag",
    )
    refused(lambda: s3.head_bucket(Bucket=bucket), "404", status=404)


def test_too_many_bucket_tags(strict):
    s3 = strict.client("s3")
    bucket = name("tags-")
    s3.create_bucket(Bucket=bucket)
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    refused(lambda: s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags}), "InvalidTag")


# ------------------------------------------------------------------ IAM sizes


def _inline_policy(size):
    """A policy document of exactly `size` characters not counting whitespace (it has some)."""

    def doc(pad):
        return policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::bucket/{pad}"})

    base = len("".join(doc("").split()))
    text = doc("x" * (size - base))
    assert len("".join(text.split())) == size and " " in text
    return text


def _trust_policy(size):
    def doc(pad):
        return policy(
            {
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": f"us-east-1:{pad}"}},
            }
        )

    base = len("".join(doc("").split()))
    return doc("a" * (size - base))


@pytest.fixture
def role(strict):
    iam = strict.client("iam")
    role_name = name("role-")
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST)
    return role_name


def test_inline_policy_too_big(strict, role):
    iam = strict.client("iam")
    message = refused(
        lambda: iam.put_role_policy(RoleName=role, PolicyName="p", PolicyDocument=_inline_policy(10241)),
        "LimitExceeded",
        status=409,
    )
    assert message == f"Maximum policy size of 10240 bytes exceeded for role {role}"


def test_inline_policies_count_together(strict, role):
    """The quota is on the role's inline policies together; re-putting one replaces its size."""
    iam = strict.client("iam")
    iam.put_role_policy(RoleName=role, PolicyName="a", PolicyDocument=_inline_policy(6000))
    iam.put_role_policy(RoleName=role, PolicyName="a", PolicyDocument=_inline_policy(7000))  # replaces
    iam.put_role_policy(RoleName=role, PolicyName="b", PolicyDocument=_inline_policy(3240))  # 10,240 in all
    refused(
        lambda: iam.put_role_policy(RoleName=role, PolicyName="c", PolicyDocument=_inline_policy(200)),
        "LimitExceeded",
        status=409,
    )


def test_inline_policy_at_the_limit_accepted(emulator):
    iam = emulator.client("iam")
    role_name = name("role-")
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST)
    document = _inline_policy(10240) + " " * 500  # whitespace does not count
    iam.put_role_policy(RoleName=role_name, PolicyName="p", PolicyDocument=document)


def test_trust_policy_too_big_on_create(strict):
    iam = strict.client("iam")
    message = refused(
        lambda: iam.create_role(RoleName=name("role-"), AssumeRolePolicyDocument=_trust_policy(2049)),
        "LimitExceeded",
        status=409,
    )
    assert message == "Cannot exceed quota for ACLSizePerRole: 2048"


def test_trust_policy_too_big_on_update(strict, role):
    iam = strict.client("iam")
    message = refused(
        lambda: iam.update_assume_role_policy(RoleName=role, PolicyDocument=_trust_policy(2049)),
        "LimitExceeded",
        status=409,
    )
    assert message == "Cannot exceed quota for ACLSizePerRole: 2048"


def test_trust_policy_at_the_limit_accepted(emulator):
    iam = emulator.client("iam")
    role_name = name("role-")
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=_trust_policy(2048))
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=_trust_policy(2048))


# ------------------------------------------------------------- IAM role tags


def test_role_tags_total(strict):
    iam = strict.client("iam")
    role_name = name("role-")
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST, Tags=[{"Key": f"a{i}", "Value": "v"} for i in range(30)])
    message = refused(
        lambda: iam.tag_role(RoleName=role_name, Tags=[{"Key": f"b{i}", "Value": "v"} for i in range(21)]),
        "LimitExceeded",
        status=409,
    )
    assert message == "Cannot exceed quota for TagsPerRole: 50"


def test_role_tags_total_counts_keys_once(emulator):
    """Re-tagging existing keys (case-insensitively) does not add to the total."""
    iam = emulator.client("iam")
    role_name = name("role-")
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST, Tags=[{"Key": f"a{i}", "Value": "v"} for i in range(30)])
    iam.tag_role(RoleName=role_name, Tags=[{"Key": f"A{i}", "Value": "w"} for i in range(30)] + [{"Key": f"b{i}", "Value": "v"} for i in range(20)])


def test_role_with_51_tags_is_a_model_error(either):
    """One request with more than 50 tags breaks the model (tagListType max 50): ValidationError, as moto says too."""
    iam = either.client("iam")
    refused(
        lambda: iam.create_role(RoleName=name("role-"), AssumeRolePolicyDocument=TRUST, Tags=[{"Key": f"a{i}", "Value": "v"} for i in range(51)]),
        "ValidationError",
    )


# ----------------------------------------------------------- empty Statement

EMPTY = json.dumps({"Version": "2012-10-17", "Statement": []})


def test_empty_statement_in_trust_policy(strict):
    iam = strict.client("iam")
    message = refused(lambda: iam.create_role(RoleName=name("role-"), AssumeRolePolicyDocument=EMPTY), "MalformedPolicyDocument")
    assert message == "Syntax errors in policy."


@pytest.mark.parametrize("operation", ["put_role_policy", "update_assume_role_policy"])
def test_empty_statement_refused_by_moto_too(either, operation):
    iam = either.client("iam")
    role_name = name("role-")
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=TRUST)
    before = either.refusals()["validation"]
    if operation == "put_role_policy":
        call = lambda: iam.put_role_policy(RoleName=role_name, PolicyName="p", PolicyDocument=EMPTY)  # noqa: E731
    else:
        call = lambda: iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=EMPTY)  # noqa: E731
    assert refused(call, "MalformedPolicyDocument") == "Syntax errors in policy."
    # Strict mode refuses it itself, so it is counted.
    assert either.refusals()["validation"] == before + (1 if either.mode == "strict" else 0)
