"""botocore's service models, loaded once, and the pieces derived from them.

The models are botocore's own ``service-2.json`` files from the venv (through
``botocore.loaders``), never copies. Everything derived from them — compiled
patterns, REST routes, "is anything in here sensitive" — is computed once and
cached, so a request only walks the values it carries.
"""

import functools
import re
import sys
import threading
from urllib.parse import unquote

import botocore.loaders
import regex

_loader = botocore.loaders.Loader()
_lock = threading.Lock()
_models = {}


def load(name):
    """The ServiceModel for botocore service `name` (cached)."""
    model = _models.get(name)
    if model is None:
        with _lock:
            model = _models.get(name)
            if model is None:
                model = ServiceModel(name, _loader.load_service_model(name, "service-2"))
                _models[name] = model
    return model


# ------------------------------------------------------------------ patterns
#
# The models' patterns are Java regular expressions, which AWS applies to the
# whole value (String.matches). They are translated to the `regex` module's
# dialect (it has \p{..} classes, which `re` lacks) where the two differ:
#   * \w \d \s are ASCII-only in Java, Unicode in Python;
#   * \p{Print} is ASCII [\x20-\x7E] in Java;
#   * a UTF-16 surrogate pair \uD800\uDC00 is one code point in Java.
# A pattern that still does not compile is skipped (logged once), never
# enforced wrongly.

_ASCII_CLASS = {"w": "A-Za-z0-9_", "d": "0-9", "s": " \\t\\n\\x0B\\f\\r"}
_SURROGATES = re.compile(r"\\u(D[89AB][0-9A-Fa-f]{2})\\u(D[C-Fa-f][0-9A-Fa-f]{2})")


def _join_surrogates(m):
    hi, lo = int(m.group(1), 16), int(m.group(2), 16)
    return "\\U%08X" % (0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))


def java_to_python(pattern):
    """Translate a Java regex from a model into the `regex` module's syntax."""
    src = _SURROGATES.sub(_join_surrogates, pattern)
    out = []
    depth = 0  # inside a [...] class when > 0
    i = 0
    while i < len(src):
        c = src[i]
        if c == "\\" and i + 1 < len(src):
            e = src[i + 1]
            if src.startswith("p{Print}", i + 1):
                out.append("\\x20-\\x7E" if depth else "[\\x20-\\x7E]")
                i += 9
                continue
            if e in _ASCII_CLASS:
                out.append(_ASCII_CLASS[e] if depth else "[" + _ASCII_CLASS[e] + "]")
                i += 2
                continue
            if e.lower() in _ASCII_CLASS and e.isupper():
                negated = "[^" + _ASCII_CLASS[e.lower()] + "]"
                if not depth:
                    out.append(negated)
                    i += 2
                    continue
                # [\S] alone is the negated class; inside a larger class keep
                # Python's (Unicode) meaning rather than guess.
                if out and out[-1] == "[" and src.startswith("]", i + 2):
                    out[-1] = negated
                    i += 3
                    depth -= 1
                    continue
            out.append(src[i : i + 2])
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        out.append(c)
        i += 1
    return "".join(out)


_patterns = {}


def pattern(java):
    """The compiled full-match pattern for a model pattern, or None if untranslatable."""
    try:
        return _patterns[java]
    except KeyError:
        pass
    try:
        compiled = regex.compile(java_to_python(java), regex.V0)
    except regex.error as e:
        print(f"strict: pattern {java!r} not enforced: {e}", file=sys.stderr, flush=True)
        compiled = None
    _patterns[java] = compiled
    return compiled


# ---------------------------------------------------------- amendments
#
# Where a model states less than AWS accepts, the shape is amended at load
# (never the file): (model, shape) -> members to drop and to set.
#
# S3 BucketLocationConstraint is an enum of the commercial, China and GovCloud
# regions; AWS also accepts the ISO and EUSC partitions' regions
# (us-iso-east-1, us-isob-east-1, eu-isoe-west-1, us-isof-south-1,
# eusc-de-east-1, ...), so a name of the shape of AWS's regions (an area
# prefix AWS uses, a partition infix, a direction, a number; or the legacy
# "EU") passes the model check; which region fits the endpoint is rules.py's
# IllegalLocationConstraintException.

REGION_NAME = (r"EU|(af|ap|ca|cn|eu|eusc|il|me|mx|sa|us)(-(gov|iso[a-z]?|de))?-"
               r"(east|west|north|south|central|northeast|northwest|southeast|southwest)-[0-9]{1,2}")

AMENDMENTS = {
    ("s3", "BucketLocationConstraint"): ({"enum"}, {"pattern": REGION_NAME}),
}


def _amend(name, shapes):
    for (model, shape), (drop, put) in AMENDMENTS.items():
        if model == name and shape in shapes:
            amended = {k: v for k, v in shapes[shape].items() if k not in drop}
            amended.update(put)
            shapes[shape] = amended


# --------------------------------------------------------------- the model


class ServiceModel:
    def __init__(self, name, raw):
        self.name = name
        self.metadata = raw["metadata"]
        self.protocol = self.metadata["protocol"]
        self.operations = raw["operations"]
        self.shapes = dict(raw["shapes"])
        _amend(name, self.shapes)
        self.target_prefix = self.metadata.get("targetPrefix")
        self._routes = None
        self._sensitive = {}

    def shape(self, name):
        return self.shapes[name]

    def input_shape(self, op):
        ref = self.operations[op].get("input")
        return ref["shape"] if ref else None

    def warm(self):
        """Compile every pattern and route now (startup), not on first use."""
        for shape in self.shapes.values():
            if "pattern" in shape:
                pattern(shape["pattern"])
        if self.protocol.startswith("rest"):
            self.routes()

    # --- sensitivity (AWS leaves sensitive values out of its messages)

    def sensitive(self, name):
        """True if the shape, or anything nested in it, is marked sensitive."""
        known = self._sensitive.get(name)
        if known is not None:
            return known
        self._sensitive[name] = False  # recursion guard
        shape = self.shapes[name]
        refs = list(shape.get("members", {}).values())
        refs += [shape[k] for k in ("member", "key", "value") if k in shape]
        result = bool(shape.get("sensitive")) or any(self.sensitive(r["shape"]) for r in refs)
        self._sensitive[name] = result
        return result

    # --- REST routing

    def routes(self):
        if self._routes is None:
            self._routes = [Route(self, op) for op in self.operations]
        return self._routes

    def match_route(self, method, path, query, has_header):
        """(operation, URI label values, ambiguous) for a REST request; (None, None, False) if none.

        A route matches on method, path template and the query keys (and
        values) its requestUri names. Of several matches the most specific
        wins (more fixed query keys, then more literal path), and a tie goes to
        the operation whose required header and query members are all present,
        and the most of them: botocore's S3 model tells PutObject from
        CopyObject (x-amz-copy-source) and from UploadPart (partNumber,
        uploadId) only that way.
        """
        found = []
        for route in self.routes():
            if route.method != method:
                continue
            labels = route.match(path, query)
            if labels is None:
                continue
            present = all(has_header(h) for h in route.required_headers) and all(
                q in query for q in route.required_query
            )
            needed = len(route.required_headers) + len(route.required_query)
            rank = (len(route.query), present, needed if present else 0, route.literal)
            found.append((rank, not route.deprecated, route, labels))
        if not found:
            return None, None, False
        rank, _, route, labels = max(found, key=lambda f: (f[0], f[1]))
        # A deprecated operation on the same route (GetBucketLifecycle) loses
        # the tie; its body shape differs, so the body is then not checked.
        ambiguous = sum(1 for f in found if f[0] == rank) > 1
        return route.op, labels, ambiguous


_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")


class Route:
    def __init__(self, model, op):
        http = model.operations[op].get("http", {})
        self.op = op
        self.deprecated = bool(model.operations[op].get("deprecated"))  # loses a tie (GetBucketLifecycle)
        self.method = http.get("method", "POST")
        uri = http.get("requestUri", "/")
        path, _, qs = uri.partition("?")
        self.query = {}
        for part in filter(None, qs.split("&")):
            key, eq, value = part.partition("=")
            self.query[key] = value if eq else None
        rx, pos, self.literal = [], 0, 0
        for m in _LABEL.finditer(path):
            literal = path[pos : m.start()]
            rx.append(re.escape(literal))
            self.literal += len(literal)
            rx.append(f"(?P<{_group(m.group(1))}>{'.+' if m.group(2) else '[^/]+'})")
            pos = m.end()
        rx.append(re.escape(path[pos:]))
        self.literal += len(path) - pos
        self.labels = [m.group(1) for m in _LABEL.finditer(path)]
        tail = "" if path.endswith("/") or path.endswith("+}") else "/?"
        self.regex = re.compile("".join(rx) + tail + r"\Z")
        self.required_headers = []
        self.required_query = []
        shape_name = model.input_shape(op)
        if shape_name:
            shape = model.shape(shape_name)
            for member in shape.get("required", []):
                ref = shape["members"].get(member, {})
                if ref.get("location") == "header":
                    self.required_headers.append(ref["locationName"].lower())
                elif ref.get("location") == "querystring" and ref.get("locationName") not in self.query:
                    self.required_query.append(ref["locationName"])

    def match(self, path, query):
        for key, value in self.query.items():
            if key not in query or (value is not None and value not in query[key]):
                return None
        m = self.regex.match(path)
        if not m:
            return None
        return {label: unquote(m.group(_group(label))) for label in self.labels}


def _group(label):
    return "g_" + re.sub(r"\W", "_", label)


@functools.lru_cache(maxsize=None)
def lower_camel(name):
    """AWS's member path spelling: the member name with its first letter lowered."""
    return name[:1].lower() + name[1:]
