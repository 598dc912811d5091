"""Validate decoded request parameters against a botocore model shape.

Input is the request in botocore's parameter form (member names as keys, see
wire.py). Values that came from text on the wire (query strings, headers, XML)
are `Text`, and are converted to the member's type before checking; values
from a JSON body carry their own type.

What is checked, as AWS's request validation does: required members, types,
length of strings/blobs and size of lists/maps (min/max), numeric ranges
(min/max), patterns (full match), enums; nested structures, list members, map
keys and values. Members the model does not know are ignored. Union and
timestamp contents are not checked (never refuse what might be valid).

Messages follow AWS's wording:
  Value 'x' at 'policies.passwordPolicy.minimumLength' failed to satisfy
  constraint: Member must have value greater than or equal to 6
"""

import base64
import binascii
import math

from . import model as models
from .model import lower_camel


class Text(str):
    """A scalar that arrived as text (query, header, URI, XML): typed by its shape."""


class _Opaque:
    def __repr__(self):
        return "OPAQUE"


OPAQUE = _Opaque()  # a member that is present but not read (streaming bytes, an ambiguous body)


class Violation:
    __slots__ = ("path", "member", "value", "message", "where", "type_error", "shape")

    def __init__(self, path, member, value, message, where, type_error=False, shape=None):
        self.path = path  # 'policies.passwordPolicy.minimumLength'
        self.member = member  # the top-level member it is in, e.g. "Policies"
        self.value = value
        self.message = message
        self.where = where  # body | uri | querystring | header
        self.type_error = type_error
        self.shape = shape


def summary(violations):
    """AWS's "N validation error(s) detected: a; b"."""
    n = len(violations)
    noun = "error" if n == 1 else "errors"
    return f"{n} validation {noun} detected: " + "; ".join(v.message for v in violations)


def validate(model, shape_name, params, where_of=None):
    """All violations of `params` (a dict) against structure `shape_name`.

    `where_of(member_name)` tells a top-level member's location (for REST
    protocols, where the error shape can depend on it); default "body".
    """
    out = []
    if shape_name is None:
        return out
    checker = _Checker(model, out)
    checker.structure(shape_name, params, (), "body", where_of=where_of or (lambda _m: "body"))
    return out


def _show(value):
    """A value the way AWS (Java) prints it inside a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return "java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]" % (len(value), len(value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    return str(value)


def _path(parts):
    return ".".join(parts)


class _Checker:
    def __init__(self, model, out):
        self.model = model
        self.out = out

    # --- reporting

    def fail(self, path, member, value, shape_name, constraints, where, type_error=False):
        at = _path(path)
        for constraint in constraints:
            if value is None:
                head = f"Value null at '{at}'"
            elif self.model.sensitive(shape_name):
                head = f"Value at '{at}'"
            else:
                head = f"Value '{_show(value)}' at '{at}'"
            self.out.append(
                Violation(at, member, value, f"{head} failed to satisfy constraint: {constraint}", where,
                          type_error=type_error, shape=shape_name)
            )

    # --- shapes

    def structure(self, shape_name, value, path, where, member=None, where_of=None):
        """Check a structure; `where_of` (top level only) gives each member's location."""
        shape = self.model.shape(shape_name)
        if not isinstance(value, dict):
            self.fail(path, member, value, shape_name, ["Member must be a structure"], where, True)
            return
        required = shape.get("required", ())
        for name, ref in shape.get("members", {}).items():
            sub = path + (lower_camel(name),)
            at = where_of(name) if where_of else where
            v = value.get(name)
            if v is None:
                if name in required:
                    self.fail(sub, member or name, None, ref["shape"], ["Member must not be null"], at)
                continue
            if v is OPAQUE or ref.get("jsonvalue") or ref.get("streaming") or self.model.shape(ref["shape"]).get("streaming"):
                continue
            self.value(ref["shape"], v, sub, member or name, at)

    def value(self, shape_name, value, path, member, where):
        shape = self.model.shape(shape_name)
        kind = shape["type"]
        if kind == "structure":
            if shape.get("union") or shape.get("document"):
                return
            self.structure(shape_name, value, path, where, member)
        elif kind == "list":
            self.list(shape_name, shape, value, path, member, where)
        elif kind == "map":
            self.map(shape_name, shape, value, path, member, where)
        else:
            problems, _ = self.scalar(shape_name, shape, value)
            if problems is _TYPE:
                self.fail(path, member, value, shape_name, [f"Member must be of type {kind}"], where, True)
            elif problems:
                self.fail(path, member, value, shape_name, problems, where)

    def list(self, shape_name, shape, value, path, member, where):
        if isinstance(value, Text) and value == "":
            value = []  # the query protocol's spelling of an empty list
        if not isinstance(value, list):
            self.fail(path, member, value, shape_name, ["Member must be a list"], where, True)
            return
        self.size(shape_name, shape, value, path, member, where)
        item_shape_name = shape["member"]["shape"]
        item_shape = self.model.shape(item_shape_name)
        if item_shape["type"] in ("structure", "list", "map"):
            for i, item in enumerate(value, 1):
                if item is None:
                    continue
                self.value(item_shape_name, item, path + (f"{i}.member",), member, where)
            return
        problems = []
        for item in value:
            if item is None:
                continue
            found, _ = self.scalar(item_shape_name, item_shape, item)
            if found is _TYPE:
                self.fail(path, member, value, shape_name, [f"Member must be a list of {item_shape['type']}"], where, True)
                return
            for p in found:
                if p not in problems:
                    problems.append(p)
        if problems:
            self.fail(path, member, value, shape_name, ["Member must satisfy constraint: [" + ", ".join(problems) + "]"], where)

    def map(self, shape_name, shape, value, path, member, where):
        if not isinstance(value, dict):
            self.fail(path, member, value, shape_name, ["Member must be a map"], where, True)
            return
        self.size(shape_name, shape, value, path, member, where)
        key_name = shape["key"]["shape"]
        key_shape = self.model.shape(key_name)
        value_name = shape["value"]["shape"]
        value_shape = self.model.shape(value_name)
        key_problems, value_problems = [], []
        for k, v in value.items():
            found, _ = self.scalar(key_name, key_shape, k if isinstance(k, str) else str(k))
            if found is not _TYPE:
                key_problems += [p for p in found if p not in key_problems]
            if v is None:
                continue
            if value_shape["type"] in ("structure", "list", "map"):
                self.value(value_name, v, path + (str(k), "member"), member, where)
                continue
            found, _ = self.scalar(value_name, value_shape, v)
            if found is _TYPE:
                self.fail(path, member, value, shape_name, [f"Map value must be of type {value_shape['type']}"], where, True)
                return
            value_problems += [p for p in found if p not in value_problems]
        if key_problems:
            self.fail(path, member, value, shape_name, ["Map keys must satisfy constraint: [" + ", ".join(key_problems) + "]"], where)
        if value_problems:
            self.fail(path, member, value, shape_name, ["Map value must satisfy constraint: [" + ", ".join(value_problems) + "]"], where)

    def size(self, shape_name, shape, value, path, member, where):
        problems = []
        if "max" in shape and len(value) > shape["max"]:
            problems.append(f"Member must have length less than or equal to {_num(shape['max'])}")
        if "min" in shape and len(value) < shape["min"]:
            problems.append(f"Member must have length greater than or equal to {_num(shape['min'])}")
        if problems:
            self.fail(path, member, value, shape_name, problems, where)

    def scalar(self, shape_name, shape, value):
        """(constraint problems, converted value); problems is _TYPE on a type mismatch."""
        kind = shape["type"]
        typed = _convert(kind, value)
        if typed is _TYPE:
            return _TYPE, None
        problems = []
        if kind == "string":
            if "max" in shape and len(typed) > shape["max"]:
                problems.append(f"Member must have length less than or equal to {_num(shape['max'])}")
            if "min" in shape and len(typed) < shape["min"]:
                problems.append(f"Member must have length greater than or equal to {_num(shape['min'])}")
            if "pattern" in shape:
                rx = models.pattern(shape["pattern"])
                if rx is not None and rx.fullmatch(typed) is None:
                    problems.append(f"Member must satisfy regular expression pattern: {shape['pattern']}")
            if "enum" in shape and typed not in shape["enum"]:
                values = ENUM_ORDER.get((self.model.name, shape_name), shape["enum"])
                problems.append("Member must satisfy enum value set: [" + ", ".join(values) + "]")
        elif kind == "blob":
            if "max" in shape and len(typed) > shape["max"]:
                problems.append(f"Member must have length less than or equal to {_num(shape['max'])}")
            if "min" in shape and len(typed) < shape["min"]:
                problems.append(f"Member must have length greater than or equal to {_num(shape['min'])}")
        elif kind in ("integer", "long", "float", "double", "bigdecimal", "biginteger", "short", "byte"):
            if "max" in shape and typed > shape["max"]:
                problems.append(f"Member must have value less than or equal to {_num(shape['max'])}")
            if "min" in shape and typed < shape["min"]:
                problems.append(f"Member must have value greater than or equal to {_num(shape['min'])}")
        return problems, typed


_TYPE = object()

# AWS lists an enum's values in its own order, not the model's, where known
# (model, shape) -> the order AWS's message shows. DynamoDB Select: moto's
# test_select_values_are_case_sensitive, verified against AWS.
ENUM_ORDER = {
    ("dynamodb", "Select"): ["SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"],
}
_INTS = ("integer", "long", "short", "byte", "biginteger")
_FLOATS = ("float", "double", "bigdecimal")


def _num(n):
    return str(int(n)) if isinstance(n, float) and n.is_integer() else str(n)


def _convert(kind, value):
    """The value as its shape's type, or _TYPE. Text is parsed; JSON values must already match."""
    text = isinstance(value, Text)
    if kind == "string":
        return value if isinstance(value, str) else _TYPE
    if kind == "boolean":
        if text:
            return {"true": True, "false": False}.get(value.lower(), _TYPE)
        return value if isinstance(value, bool) else _TYPE
    if kind in _INTS:
        if text:
            try:
                return int(value.strip())
            except ValueError:
                return _TYPE
        return value if isinstance(value, int) and not isinstance(value, bool) else _TYPE
    if kind in _FLOATS:
        if text:
            try:
                f = float(value)
            except ValueError:
                return _TYPE
            return f if math.isfinite(f) or value.strip() in ("Infinity", "-Infinity", "NaN") else _TYPE
        if isinstance(value, bool):
            return _TYPE
        if isinstance(value, (int, float)):
            return value
        # JSON services accept "NaN"/"Infinity" spelled as strings
        return value if value in ("NaN", "Infinity", "-Infinity") else _TYPE
    if kind == "blob":
        if isinstance(value, bytes):
            return value
        if not isinstance(value, str):
            return _TYPE
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value.encode("utf-8") if text else _TYPE
    if kind == "timestamp":
        return value if isinstance(value, (str, int, float)) and not isinstance(value, bool) else _TYPE
    return value
