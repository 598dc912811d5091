"""In-process checks of strict mode's pieces (no emulator needed).

* Every operation of every checked service, given parameters that botocore
  itself accepts and serialized by botocore's own serializer, is identified as
  that operation and passes the check: the decoders and routes agree with the
  SDK's encoders, so valid traffic is not refused.
* The Java-to-Python pattern translation.
"""

import datetime
import io
import pathlib
import sys

import botocore.session
import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.serialize import create_serializer
from botocore.validate import ParamValidator

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "deploy" / "local"))

from strict import middleware, model as models  # noqa: E402
from strict.services import SERVICES  # noqa: E402

SESSION = botocore.session.get_session()

CANDIDATES = [
    "abc", "a", "abcdefghij", "us-east-1_abc", "us-east-1:11111111-1111-4111-8111-111111111111",
    "arn:aws:iam::123456789012:role/r", "arn:aws:s3:::b", "123456789012", "1", "x@example.com", "/", "/a/",
    "v1", "ABCDEFGHIJ", "abcdefghijklmnopqrstuvwxyz0123", "import-abc", "tkn" + "a" * 25, "o-abcdefghij",
    "0123456789abcdef", "a b", "Level1", "{####}", "terms-of-use", "cognito:english", "https://example.com",
    "11111111-1111-1111-1111-111111111111", "p-abcdefgh", "o-abcdefghij/r-abcd",
    "arn:aws:kms:us-east-1:123456789012:key/abc", "arn:aws:s3:::b/k", ",", "ab", "aaaaaaaaaa",
    "11111111-1111-4111-8111-111111111111", "123456", "authenticated",
]


class Unbuildable(Exception):
    pass


class Builder:
    """Minimal-but-broad valid parameters for a shape (every member, to depth 2)."""

    def __init__(self, model):
        self.model = model

    def structure(self, shape, depth):
        out = {}
        members = shape.members
        required = set(shape.required_members)
        if shape.metadata.get("union"):
            for name, member in members.items():
                try:
                    return {name: self.value(member, depth + 1)}
                except Unbuildable:
                    continue
            raise Unbuildable(shape.name)
        for name, member in members.items():
            if name not in required and (depth > 1 or member.serialization.get("location") == "headers"):
                continue
            if member.type_name == "structure" and member.name == shape.name:
                continue
            try:
                out[name] = self.value(member, depth + 1)
            except Unbuildable:
                if name in required:
                    raise
        return out

    def value(self, shape, depth):
        if depth > 6:
            raise Unbuildable("too deep")
        kind = shape.type_name
        m = shape.metadata
        if kind == "structure":
            return self.structure(shape, depth)
        if kind == "list":
            n = max(1, m.get("min", 0))
            return [self.value(shape.member, depth + 1) for _ in range(n)]
        if kind == "map":
            return {self.value(shape.key, depth + 1): self.value(shape.value, depth + 1)}
        if kind == "string":
            if shape.enum:
                return shape.enum[0]
            lo, hi = m.get("min", 0), m.get("max", 1 << 30)
            rx = models.pattern(m["pattern"]) if "pattern" in m else None
            for c in CANDIDATES + ["a" * max(lo, 1)]:
                if lo <= len(c) <= hi and (rx is None or rx.fullmatch(c)):
                    return c
            raise Unbuildable(shape.name)
        if kind in ("integer", "long"):
            return int(m.get("min", 1)) if m.get("min", 1) <= m.get("max", 1 << 31) else int(m["max"])
        if kind in ("float", "double"):
            return float(m.get("min", 1))
        if kind == "boolean":
            return True
        if kind == "blob":
            return b"a" * max(1, int(m.get("min", 1)))
        if kind == "timestamp":
            return datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        raise Unbuildable(kind)


def _environ(service, signing, prepared):
    from urllib.parse import urlsplit

    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    if hasattr(body, "read"):
        body = body.read()
    environ = {
        "REQUEST_METHOD": prepared.method,
        "PATH_INFO": url.path,
        "QUERY_STRING": url.query,
        "RAW_URI": url.path + ("?" + url.query if url.query else ""),
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:5000",
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{signing}/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }
    for k, v in prepared.headers.items():
        key = k.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = v if isinstance(v, str) else v.decode()
        elif key not in ("AUTHORIZATION", "HOST"):
            environ["HTTP_" + key] = v if isinstance(v, str) else v.decode()
    return environ


def _cases():
    for service in SERVICES:
        sm = SESSION.get_service_model(service.model)
        for op in sm.operation_names:
            yield pytest.param(service, sm, op, id=f"{service.model}.{op}")


# S3 operations reached through another endpoint (host prefix, S3 Express).
S3_ELSEWHERE = {"WriteGetObjectResponse", "CreateSession", "ListDirectoryBuckets"}
# Deprecated S3 operations on the route of their successor: identified as the
# successor, their body left unchecked.
DEPRECATED_AS = {
    "GetBucketLifecycle": "GetBucketLifecycleConfiguration",
    "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
    "GetBucketNotification": "GetBucketNotificationConfiguration",
    "PutBucketNotification": "PutBucketNotificationConfiguration",
}


@pytest.mark.parametrize("service,sm,op", list(_cases()))
def test_valid_request_of_every_operation_passes(service, sm, op):
    operation = sm.operation_model(op)
    if service.model == "s3" and op in S3_ELSEWHERE:
        pytest.skip("served by another endpoint")
    builder = Builder(sm)
    try:
        params = builder.structure(operation.input_shape, 0) if operation.input_shape else {}
    except Unbuildable as e:
        pytest.skip(f"no valid value generated for {e}")
    report = ParamValidator().validate(params, operation.input_shape) if operation.input_shape else None
    if report is not None and report.has_errors():
        pytest.skip("generated parameters not valid for botocore: " + report.generate_report()[:200])
    request = create_serializer(sm.metadata["protocol"], include_validation=False).serialize_to_request(params, operation)
    prepare_request_dict(request, endpoint_url="http://127.0.0.1:5000")
    prepared = create_request_object(request).prepare()
    environ = _environ(service, service.signing, prepared)
    call, refusal = middleware.inspect(environ)
    assert refusal is None, (refusal.code, refusal.message, refusal.detail)
    assert call is not None and call.operation == (DEPRECATED_AS.get(op, op) if service.model == "s3" else op)


@pytest.mark.parametrize(
    "java,value,matches",
    [
        (r"[\w+=,.@-]+", "role-name_1", True),
        (r"[\w+=,.@-]+", "rôle", False),  # Java \w is ASCII
        (r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+", "rôle", True),  # \p{L} is Unicode
        (r"[\w-]+_[0-9a-zA-Z]+", "us-east-1_abc!", False),  # a full match, not a search
        (r"[\S]+", "no-space", True),
        (r"[\S]+", "a space", False),
        (r"\p{Print}+", "ascii ~", True),
        (r"\p{Print}+", "é", False),
        (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*", "emoji \U0001F600", True),
        (r"[\u0009\u000A\u000D\u0020-\u00FF]+", '{"a": 1}\n', True),
        (r"[\u0009\u000A\u000D\u0020-\u00FF]+", "\u2603", False),
    ],
)
def test_java_pattern_translation(java, value, matches):
    assert (models.pattern(java).fullmatch(value) is not None) is matches


def test_every_model_pattern_compiles():
    for service in SERVICES:
        m = models.load(service.model)
        for shape in m.shapes.values():
            if "pattern" in shape:
                assert models.pattern(shape["pattern"]) is not None, (service.model, shape["pattern"])
