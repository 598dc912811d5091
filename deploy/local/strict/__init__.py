"""Strict mode for the stackwatch emulator: refuse what AWS refuses.

  STACKWATCH_EMULATOR_STRICT      on unless "0" (also "false", "no", "off")
  STACKWATCH_EMULATOR_IAM_DELAY   seconds a new role is not yet usable by
                                  cognito-identity (float, default 0; strict only)
  STACKWATCH_EMULATOR_SQS_DELETE_DELAY
                                  seconds after DeleteQueue that CreateQueue of the
                                  name is refused (float, default 0: never; AWS 60;
                                  strict only)

install() puts the checking layer in front of moto's dispatcher (strict on) or
only the refusals endpoint (strict off). See docs/emulator.md.
"""

import os
import sys
import time

from . import middleware, model, propagation
from .services import SERVICES

OFF = ("0", "false", "no", "off")


class Config:
    def __init__(self, env=os.environ):
        self.strict = env.get("STACKWATCH_EMULATOR_STRICT", "1").strip().lower() not in OFF
        self.iam_delay = _seconds(env, "STACKWATCH_EMULATOR_IAM_DELAY")
        self.sqs_delete_delay = _seconds(env, "STACKWATCH_EMULATOR_SQS_DELETE_DELAY")


def _seconds(env, name):
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else 0.0
    except ValueError:
        sys.exit(f"{name} must be a number of seconds, not {raw!r}")
    if value < 0:
        sys.exit(f"{name} must not be negative")
    return value


def install(config):
    """Wrap moto's DomainDispatcherApplication; call before moto's server starts."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    dispatch = DomainDispatcherApplication.__call__
    layer = middleware.wrap if config.strict else middleware.counter_only

    def __call__(self, environ, start_response):
        app = self.__dict__.get("_sw_app")
        if app is None:
            app = layer(lambda e, s: dispatch(self, e, s))
            self._sw_app = app
        return app(environ, start_response)

    DomainDispatcherApplication.__call__ = __call__
    if not config.strict:
        print("strict: off (STACKWATCH_EMULATOR_STRICT=0)", file=sys.stderr, flush=True)
        return
    propagation.install(config.iam_delay, config.sqs_delete_delay)
    started = time.monotonic()
    for service in SERVICES:
        model.load(service.model).warm()
    print(
        f"strict: on ({', '.join(s.model for s in SERVICES)}; models loaded in "
        f"{time.monotonic() - started:.2f}s; IAM delay {config.iam_delay:g}s; "
        f"SQS delete delay {config.sqs_delete_delay:g}s)",
        file=sys.stderr,
        flush=True,
    )
