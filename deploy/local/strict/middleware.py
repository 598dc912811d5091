"""The WSGI layer in front of moto's dispatcher that refuses what AWS refuses.

Per request: identify service and operation (wire.py), run the rules that AWS
reports before its model check (rules.py), check the parameters against
botocore's model (check.py), run the remaining rules; the first refusal is
answered in the service's own error shape (services.py) and counted
(refusals.py). Anything not identified, and any failure of strict mode itself,
passes the request to moto unchanged: strict mode may miss a refusal, but it
never turns a request into a 500.
"""

import sys
import traceback

from . import check, refusals, rules, wire

REFUSALS_PATH = "/_stackwatch/refusals"


def inspect(environ):
    """(call, refusal) for a request: refusal None when it may go on to moto."""
    req = wire.Request(environ)
    try:
        call = wire.identify(req)
    except wire.Skip:
        return None, None
    except refusals.Refusal as refusal:
        return getattr(refusal, "call", None), refusal
    refusal = rules.run(call, before_model=True)
    if refusal is None:
        shape = call.model.input_shape(call.operation)
        violations = check.validate(call.model, shape, call.params, call.where)
        if violations:
            refusal = call.service.errors.validation(violations, call)
    if refusal is None:
        refusal = rules.run(call, before_model=False)
    return call, refusal


def wrap(app):
    """A WSGI app that answers the refusals endpoint and refuses invalid requests before `app`."""

    def strict_app(environ, start_response):
        if environ.get("PATH_INFO") == REFUSALS_PATH:
            return refusals.endpoint(environ, start_response)
        try:
            call, refusal = inspect(environ)
        except Exception:  # never let strict mode break a request
            print("strict: check failed, request passed to moto unchecked:\n" + traceback.format_exc(),
                  file=sys.stderr, flush=True)
            call, refusal = None, None
        if refusal is None or call is None:
            return app(environ, start_response)
        refusals.record(call.service.model, call.operation, refusal)
        status, headers, body = call.service.errors.render(refusal, environ.get("REQUEST_METHOD", "GET"))
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
        return [body]

    return strict_app


def counter_only(app):
    """Strict mode off: only the (always zero) refusals endpoint."""

    def lax_app(environ, start_response):
        if environ.get("PATH_INFO") == REFUSALS_PATH:
            return refusals.endpoint(environ, start_response)
        return app(environ, start_response)

    return lax_app


_REASONS = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed"}
