"""From a WSGI request to (service, operation, parameters).

The service comes from the SigV4 credential scope (Authorization header, or
X-Amz-Credential for presigned URLs); unsigned requests (Cognito's public
calls, STS AssumeRoleWith*) from X-Amz-Target or the Action. The operation
comes from X-Amz-Target (json), Action (query), or the model's http method +
requestUri templates (rest-json, rest-xml; S3 virtual-host buckets folded into
the path with moto's own host rules). Parameters are decoded per protocol into
botocore's parameter form: member names as keys, text scalars as check.Text.
"""

import io
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, quote, urlsplit

from moto.core import DEFAULT_ACCOUNT_ID

from . import model as models
from .check import OPAQUE, Text
from .refusals import Refusal
from .services import PASS_UNMATCHED, SERVICES

MAX_BODY = 32 * 1024 * 1024  # bigger bodies are passed through unchecked

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


class Skip(Exception):
    """Not something strict mode checks: hand the request to moto untouched."""


class Request:
    """Read-only view of a WSGI request; the body is read at most once and put back."""

    def __init__(self, environ):
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET").upper()
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if raw:
            if "://" in raw:
                parts = urlsplit(raw)
                path, qs = parts.path or "/", parts.query
            else:
                path, _, qs = raw.partition("?")
        else:
            path_info = environ.get("PATH_INFO", "/")
            path = quote(path_info.encode("latin-1", "replace").decode("utf-8", "replace"), safe="/~!$&'()*+,;=:@%")
            qs = environ.get("QUERY_STRING", "")
        self.path = path or "/"  # still percent-encoded
        self.query_string = qs
        self.query = parse_qs(qs, keep_blank_values=True)
        self._body = None

    def header(self, name):
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            return self.environ.get(key) or None
        return self.environ.get("HTTP_" + key)

    def has_header(self, name):
        return self.header(name) is not None

    def headers_with_prefix(self, prefix):
        want = "HTTP_" + prefix.upper().replace("-", "_")
        return {
            k[5:].lower().replace("_", "-"): v for k, v in self.environ.items() if k.startswith(want)
        }

    def body(self):
        """The body bytes (read once, then put back for moto). Skip if too big to hold."""
        if self._body is not None:
            return self._body
        env = self.environ
        length = env.get("CONTENT_LENGTH")
        stream = env.get("wsgi.input")
        if length:
            try:
                n = int(length)
            except ValueError:
                raise Skip("bad Content-Length")
            if n > MAX_BODY:
                raise Skip("body too large")
            data = stream.read(n) if stream is not None and n else b""
        elif env.get("wsgi.input_terminated") and stream is not None:
            data = stream.read(MAX_BODY + 1)
            if len(data) > MAX_BODY:
                raise Skip("body too large")  # cannot put it back whole; moto 400s either way
            env["CONTENT_LENGTH"] = str(len(data))
        else:
            data = b""
        env["wsgi.input"] = io.BytesIO(data)
        self._body = data
        return data

    def form(self):
        """Query string plus a form-encoded body, as {name: last value}."""
        flat = {k: v[-1] for k, v in self.query.items()}
        ctype = (self.header("Content-Type") or "").lower()
        if self.method == "POST" and (not ctype or ctype.startswith("application/x-www-form-urlencoded")):
            text = self.body().decode("utf-8", "replace")
            for k, v in parse_qs(text, keep_blank_values=True).items():
                flat[k] = v[-1]
        return flat


class Call:
    """What a request is: service, operation, decoded parameters."""

    def __init__(self, service, model, region, access_key):
        self.service = service
        self.model = model
        self.region = region
        self.access_key = access_key
        self.operation = None
        self.params = {}
        self.locations = {}  # top-level member -> location (REST)

    @property
    def account(self):
        if not self.access_key:
            return DEFAULT_ACCOUNT_ID
        from moto.iam.models import get_account_id_from

        return get_account_id_from(self.access_key)

    def where(self, member):
        return self.locations.get(member) or "body"


# ------------------------------------------------------------ identify


def identify(req):
    """The Call for a request, or raise Skip. Raises Refusal for unknown operations and bad bodies."""
    auth = req.header("Authorization") or ""
    m = _CREDENTIAL.search(auth)
    if not m and "X-Amz-Credential" in req.query:
        m = _CREDENTIAL.search("Credential=" + req.query["X-Amz-Credential"][-1])
    target = req.header("X-Amz-Target")
    if m:
        access_key, region, signing = m.group(1), m.group(2), m.group(3).lower()
        candidates = [s for s in SERVICES if s.signing == signing]
    else:
        access_key, region = None, "us-east-1"
        candidates = []
        if target:
            prefix = target.split(".", 1)[0]
            candidates = [s for s in SERVICES if models.load(s.model).target_prefix == prefix]
        elif req.method == "POST":
            # STS AssumeRoleWithWebIdentity / AssumeRoleWithSAML are unsigned.
            action = req.form().get("Action")
            sts = models.load("sts")
            if action in sts.operations and _unsigned(sts.operations[action]):
                candidates = [s for s in SERVICES if s.model == "sts"]
    for service in candidates:
        if service.path_prefix and not req.path.startswith(service.path_prefix):
            continue
        model = models.load(service.model)
        call = Call(service, model, region, access_key)
        try:
            _operation(req, call, target)
        except Refusal as refusal:
            refusal.call = call
            raise
        return call
    raise Skip("not a checked service")


def _unsigned(op):
    return op.get("authtype") == "none" or "smithy.api#noAuth" in op.get("auth", ())


def _operation(req, call, target):
    model = call.model
    protocol = model.protocol
    if protocol == "json":
        if not target or "." not in target:
            raise Skip("no X-Amz-Target")
        prefix, op = target.split(".", 1)
        if prefix != model.target_prefix:
            raise Skip("another service's target")  # e.g. DynamoDB Streams signs as dynamodb
        call.operation = op
        if op not in model.operations:
            raise call.service.errors.unknown_operation(op)
        call.params = _json_body(req, call)
    elif protocol == "query":
        flat = req.form()
        op = flat.get("Action")
        if not op:
            raise Skip("no Action")
        call.operation = op
        if op not in model.operations:
            raise call.service.errors.unknown_operation(op)
        shape = model.input_shape(op)
        call.params = _Query(model, flat).structure(shape, "") if shape else {}
    elif protocol in ("rest-json", "rest-xml"):
        path = req.path
        if call.service.model == "s3":
            bucket = _virtual_host_bucket(req)
            if bucket:
                path = "/" + quote(bucket) + (path if path != "/" else "")
        op, labels, ambiguous = model.match_route(req.method, path, req.query, req.has_header)
        if op is None:
            if call.service.model in PASS_UNMATCHED:
                raise Skip("no operation matches")
            raise call.service.errors.unknown_operation(f"{req.method} {req.path}")
        call.operation = op
        call.params, call.locations = _rest(req, call, labels, with_body=not ambiguous)
    else:
        raise Skip("protocol not checked")


def _virtual_host_bucket(req):
    """The bucket named by the Host header, by moto's own rules (None: path-style)."""
    from moto.s3.responses import S3Response
    from moto.s3.utils import bucket_name_from_url

    host = req.header("Host") or ""

    class _Shim:
        headers = {"host": host}
        url = f"http://{host}{req.path}"

    if not host or not S3Response.subdomain_based_buckets(_Shim):
        return None
    return bucket_name_from_url(_Shim.url)


# ------------------------------------------------------------ json


def _json_body(req, call):
    data = req.body()
    if not data.strip():
        value = {}
    else:
        try:
            value = json.loads(data)
        except ValueError:
            raise call.service.errors.malformed("Request body is not valid JSON")
    if not isinstance(value, dict):
        raise call.service.errors.malformed("Request body must be a JSON object")
    shape = call.model.input_shape(call.operation)
    return from_json(call.model, shape, value) if shape else {}


def from_json(model, shape_name, value):
    """JSON wire names (locationName where the model sets one) -> member names; values kept."""
    shape = model.shape(shape_name)
    kind = shape["type"]
    if kind == "structure" and isinstance(value, dict) and not shape.get("document"):
        out = {}
        for name, ref in shape.get("members", {}).items():
            wire = ref.get("locationName", name)
            if wire in value:
                out[name] = from_json(model, ref["shape"], value[wire])
        return out
    if kind == "list" and isinstance(value, list):
        return [from_json(model, shape["member"]["shape"], v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: from_json(model, shape["value"]["shape"], v) for k, v in value.items()}
    return value


# ------------------------------------------------------------ query


class _Query:
    """Flattened query parameters (Tags.member.1.Key=...) -> nested parameters."""

    def __init__(self, model, flat):
        self.model = model
        self.flat = flat
        self.keys = tuple(flat)

    def _indices(self, prefix):
        p = prefix + "."
        found = set()
        for k in self.keys:
            if k.startswith(p):
                head = k[len(p) :].split(".", 1)[0]
                if head.isdigit():
                    found.add(int(head))
        return sorted(found)

    def _present(self, prefix):
        p = prefix + "."
        return prefix in self.flat or any(k.startswith(p) for k in self.keys)

    def structure(self, shape_name, prefix):
        shape = self.model.shape(shape_name)
        out = {}
        for name, ref in shape.get("members", {}).items():
            wire = ref.get("locationName", name)
            p = f"{prefix}.{wire}" if prefix else wire
            if self._present(p):
                out[name] = self.value(ref, p)
        return out

    def value(self, ref, prefix):
        shape = self.model.shape(ref["shape"])
        kind = shape["type"]
        if kind == "structure":
            return self.structure(ref["shape"], prefix)
        if kind == "list":
            if shape.get("flattened") or ref.get("flattened"):
                items = prefix
            else:
                items = f"{prefix}.{shape['member'].get('locationName', 'member')}"
            indices = self._indices(items)
            if not indices:
                return Text(self.flat.get(prefix, ""))  # "Tags=" is an empty list
            return [self.value(shape["member"], f"{items}.{i}") if self._present(f"{items}.{i}") else None
                    for i in indices]
        if kind == "map":
            entries = prefix if (shape.get("flattened") or ref.get("flattened")) else f"{prefix}.entry"
            key_name = shape["key"].get("locationName", "key")
            value_name = shape["value"].get("locationName", "value")
            out = {}
            for i in self._indices(entries):
                k = self.flat.get(f"{entries}.{i}.{key_name}")
                if k is None:
                    continue
                vp = f"{entries}.{i}.{value_name}"
                out[Text(k)] = self.value(shape["value"], vp) if self._present(vp) else None
            return out
        v = self.flat.get(prefix)
        return None if v is None else Text(v)


# ------------------------------------------------------------ rest


def _rest(req, call, labels, with_body=True):
    model = call.model
    shape_name = model.input_shape(call.operation)
    if not shape_name:
        return {}, {}
    shape = model.shape(shape_name)
    params, locations = {}, {}
    bound_query = set()
    members = shape.get("members", {})
    for name, ref in members.items():
        loc = ref.get("location")
        if loc:
            locations[name] = loc
        wire = ref.get("locationName", name)
        kind = model.shape(ref["shape"])["type"]
        if loc == "uri":
            if wire in labels:
                params[name] = Text(labels[wire])
        elif loc == "querystring":
            if kind == "map":
                continue  # takes what the other members leave; below
            bound_query.add(wire)
            if wire in req.query:
                values = req.query[wire]
                params[name] = [Text(v) for v in values] if kind == "list" else Text(values[-1])
        elif loc == "header":
            v = req.header(wire)
            if v is not None:
                params[name] = [Text(s.strip()) for s in v.split(",")] if kind == "list" else Text(v)
        elif loc == "headers":
            found = req.headers_with_prefix(wire)
            if found:
                params[name] = {Text(k[len(wire):]): Text(v) for k, v in found.items()}
    for name, ref in members.items():
        if ref.get("location") == "querystring" and model.shape(ref["shape"])["type"] == "map":
            rest = {Text(k): Text(v[-1]) for k, v in req.query.items() if k not in bound_query}
            if rest:
                params[name] = rest
    body_members = {n: r for n, r in members.items() if not r.get("location")}
    encoding = (req.header("Content-Encoding") or "").lower()
    if encoding.replace("identity", "").strip(" ,") or (req.header("X-Amz-Content-Sha256") or "").startswith("STREAMING-"):
        with_body = False  # aws-chunked / compressed: the bytes are not the document itself
    if not with_body:
        for name in body_members:
            params[name] = OPAQUE  # present for the required check, never read
        return params, locations
    payload = shape.get("payload")
    if payload:
        ref = members[payload]
        target = model.shape(ref["shape"])
        if target["type"] == "blob" or target.get("streaming") or ref.get("streaming"):
            params[payload] = OPAQUE  # opaque bytes (PutObject Body): not read, not checked
            return params, locations
        data = req.body()
        if not data.strip():
            return params, locations
        if target["type"] == "string":
            params[payload] = Text(data.decode("utf-8", "replace"))
        elif target["type"] == "structure":
            params[payload] = _rest_body(req, call, ref["shape"], data)
        return params, locations
    if body_members:
        data = req.body()
        if data.strip():
            value = _rest_body(req, call, shape_name, data)
            for name in body_members:
                if name in value:
                    params[name] = value[name]
    return params, locations


def _rest_body(req, call, shape_name, data):
    model = call.model
    if model.protocol == "rest-json":
        try:
            value = json.loads(data)
        except ValueError:
            raise call.service.errors.malformed("Request body is not valid JSON")
        if not isinstance(value, dict):
            raise call.service.errors.malformed("Request body must be a JSON object")
        return from_json(model, shape_name, value)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise call.service.errors.malformed(f"XML does not parse: {e}")
    return _Xml(model).structure(shape_name, root)


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Xml:
    """An XML element -> parameters, by the model's locationName / flattened traits."""

    def __init__(self, model):
        self.model = model

    def structure(self, shape_name, elem):
        shape = self.model.shape(shape_name)
        children = {}
        for child in elem:
            children.setdefault(_local(child.tag), []).append(child)
        out = {}
        for name, ref in shape.get("members", {}).items():
            if ref.get("location"):
                continue
            wire = ref.get("locationName", name)
            if ref.get("xmlAttribute"):
                local = wire.split(":")[-1]
                for k, v in elem.attrib.items():
                    if _local(k) == local:
                        out[name] = Text(v)
                continue
            sub = self.model.shape(ref["shape"])
            found = children.get(wire)
            if not found:
                continue
            if sub["type"] == "list" and (sub.get("flattened") or ref.get("flattened")):
                out[name] = [self.value(sub["member"], e) for e in found]
            else:
                out[name] = self.value(ref, found[0])
        return out

    def value(self, ref, elem):
        shape = self.model.shape(ref["shape"])
        kind = shape["type"]
        if kind == "structure":
            return self.structure(ref["shape"], elem)
        if kind == "list":
            item = shape["member"].get("locationName", "member")
            return [self.value(shape["member"], c) for c in elem if _local(c.tag) == item]
        if kind == "map":
            key_name = shape["key"].get("locationName", "key")
            value_name = shape["value"].get("locationName", "value")
            if shape.get("flattened") or ref.get("flattened"):
                return {}  # not used by the checked services' inputs
            entries = [c for c in elem if _local(c.tag) == "entry"]
            out = {}
            for entry in entries:
                k = v = None
                for c in entry:
                    if _local(c.tag) == key_name:
                        k = c.text or ""
                    elif _local(c.tag) == value_name:
                        v = c
                if k is not None:
                    out[Text(k)] = self.value(shape["value"], v) if v is not None else None
            return out
        return Text(elem.text or "")
