"""The refusal counter behind GET /_stackwatch/refusals, and the stderr log.

Two counts: "validation" (a strict rule refused a request AWS would refuse:
model check, bucket naming, IAM sizes, empty Statement, unknown operation, SQS
queue attributes) and "propagation" (a role that IAM has not propagated yet, or
does not exist, as cognito-identity sees it; an SQS queue name deleted too
recently: transient on AWS, so kept apart). "recent" holds the
last 50 refusals of either kind, oldest first.
"""

import collections
import json
import sys
import threading

RECENT = 50

_lock = threading.Lock()
_counts = {"validation": 0, "propagation": 0}
_recent = collections.deque(maxlen=RECENT)


class Refusal(Exception):
    """One refused request: what to answer, and what to record."""

    def __init__(self, rule, code, message, status=400, kind="validation", extra=None, detail=None):
        super().__init__(message)
        self.rule = rule  # e.g. "model", "s3-bucket-name", "iam-inline-policy-size"
        self.code = code  # the AWS error code
        self.message = message
        self.status = status
        self.kind = kind  # "validation" | "propagation"
        self.extra = extra or {}  # extra error fields (S3: BucketName, ArgumentName, ...)
        self.detail = detail  # logged and listed, not answered (S3's MalformedXML says nothing more)


def record(service, operation, refusal):
    entry = {
        "service": service,
        "operation": operation,
        "rule": refusal.rule,
        "kind": refusal.kind,
        "code": refusal.code,
        "status": refusal.status,
        "message": refusal.message,
    }
    if refusal.detail:
        entry["detail"] = refusal.detail
    with _lock:
        _counts[refusal.kind] = _counts.get(refusal.kind, 0) + 1
        _recent.append(entry)
    print(
        f"strict: refused {service} {operation or '-'} [{refusal.kind}/{refusal.rule}] "
        f"{refusal.status} {refusal.code}: {refusal.message}" + (f" ({refusal.detail})" if refusal.detail else ""),
        file=sys.stderr,
        flush=True,
    )


def snapshot():
    with _lock:
        return {
            "validation": _counts["validation"],
            "propagation": _counts["propagation"],
            "recent": list(_recent),
        }


def endpoint(environ, start_response):
    """GET /_stackwatch/refusals -> the counts as JSON (other methods: 405)."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        body = b'{"message": "use GET"}'
        start_response("405 Method Not Allowed", [("Content-Type", "application/json"), ("Allow", "GET"),
                                                   ("Content-Length", str(len(body)))])
        return [body]
    body = json.dumps(snapshot()).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body] if environ.get("REQUEST_METHOD") == "GET" else [b""]
