"""pytest plugin for deploy/local/moto-suite: moto's own tests against the emulator.

Loaded with `-p moto_suite_plugin` from the unpacked moto sdist. It

  * keeps the selection below and deselects the rest of the files given
    (SELECTION: per test file, which of its tests run);
  * marks each test on the deviation list (MOTO_SUITE_DEVIATIONS) xfail
    strict: it must fail, and passing fails the run; a listed test that the
    selection does not hold is an error (the list is stale);
  * stops a test that runs longer than MOTO_SUITE_TEST_TIMEOUT seconds
    (default 120; some of moto's helpers retry forever on a refusal).

Deviation list: one test per line, `NODE-ID  CATEGORY: reason`; `#` starts a
comment, blank lines are ignored. CATEGORY is one of CATEGORIES.
"""

import os
import pathlib
import signal

import pytest

CATEGORIES = {
    "aws-refuses": "moto's test sends what AWS refuses; strict mode refuses it too",
    "wording": "both refuse; the test expects moto's own (unverified) message or code",
    "harness": "the test needs what a server-mode run against this emulator cannot give",
}

# ------------------------------------------------------------------ selection
#
# Keyed by the test file (relative to moto's tests/); the value says which of
# the file's tests run:
#   "all"        every test
#   "verified"   tests moto verified against AWS: marked aws_verified, or
#                wrapped by one of moto's *aws_verified decorators
#   "bucket"     S3: tests whose function name has "bucket" in it, except
#                lifecycle ones (bucket-level APIs: create/delete/head/list,
#                location, tagging, CORS, policy, ACL, versioning, ...)
#   a set        exactly these function names
#   a tuple      any of the rules in it

SELECTION = {
    "test_cognitoidp/test_cognitoidp.py": "all",
    "test_cognitoidentity/test_cognitoidentity.py": "all",
    "test_iam/test_iam.py": "all",
    "test_iam/test_iam_groups.py": "all",
    "test_iam/test_iam_policies.py": "all",
    "test_iam/test_iam_response_attributes.py": "verified",
    "test_iam/test_iam_signing_certificates.py": "verified",
    "test_iam/test_iam_cloudformation.py": "verified",
    "test_sts/test_sts.py": "all",
    "test_apigatewayv2/test_apigatewayv2.py": "all",
    "test_apigatewayv2/test_apigatewayv2_authorizers.py": "all",
    "test_apigatewayv2/test_apigatewayv2_integrations.py": "all",
    "test_apigatewayv2/test_apigatewayv2_routes.py": "all",
    "test_apigatewayv2/test_apigatewayv2_stages.py": "all",
    "test_apigatewayv2/test_apigatewayv2_tags.py": "all",
    "test_apigatewayv2/test_apigatewayv2_reimport.py": "all",
    "test_dynamodb/test_dynamodb_create_table.py": "all",
    "test_dynamodb/test_dynamodb_update_table.py": "all",
    "test_dynamodb/test_dynamodb.py": "verified",
    "test_dynamodb/test_dynamodb_query.py": "verified",
    "test_dynamodb/test_dynamodb_scan.py": "verified",
    "test_dynamodb/test_dynamodb_transact.py": "verified",
    "test_dynamodb/test_dynamodb_select.py": "verified",
    "test_dynamodb/test_dynamodb_statements.py": "verified",
    "test_dynamodb/test_dynamodb_batch_write.py": "verified",
    "test_dynamodb/test_dynamodb_update_expressions.py": "verified",
    "test_dynamodb/test_dynamodb_resource_policy.py": "verified",
    "test_dynamodb/test_dynamodb_multi_attribute_gsi.py": "verified",
    "test_dynamodb/test_dynamodb_table_without_range_key.py": "verified",
    "test_dynamodb/test_dynamodb_import_table.py": "verified",
    "test_dynamodb/test_dynamodb_export_table.py": "verified",
    "test_dynamodb/exceptions/test_dynamodb_exceptions.py": "verified",
    "test_dynamodb/exceptions/test_dynamodb_transactions.py": "verified",
    "test_dynamodb/exceptions/test_key_length_exceptions.py": "verified",
    # and two object tests that create their bucket in an ISO region (us-isob-east-1)
    "test_s3/test_s3.py": ("bucket", {"test_my_model_save", "test_key_with_reduced_redundancy"}),
    "test_s3/test_s3_tagging.py": "bucket",
    "test_s3/test_s3_bucket_policy.py": "all",
    "test_s3/test_s3_acl.py": "bucket",
    "test_s3/test_s3_logging.py": "bucket",
    "test_awslambda/test_lambda_policy.py": "all",
    # the verified ones that do not invoke a function (no docker)
    "test_awslambda/test_lambda.py": {"test_list_functions", "test_get_function", "test_update_function_zip", "test_update_configuration"},
    # not test_sqs_integration.py (invokes Lambda: docker) nor test_server.py (moto in-process)
    "test_sqs/test_sqs.py": "all",
    "test_sqs/test_sqs_message_attributes.py": "all",
    "test_sqs/test_sqs_multiaccount.py": "all",
}


def files():
    """The test files of the selection, for the command line."""
    return sorted(SELECTION)


def _verified(item):
    if item.get_closest_marker("aws_verified"):
        return True
    code = getattr(getattr(item, "obj", None), "__code__", None)
    return bool(code and "aws_verified" in getattr(code, "co_qualname", ""))


def _is_bucket(name):
    return "bucket" in name and "lifecycle" not in name


def _selected(item, rel):
    return _matches(SELECTION.get(rel), item)


def _matches(rule, item):
    name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
    if rule is None:
        return False
    if isinstance(rule, tuple):
        return any(_matches(r, item) for r in rule)
    if isinstance(rule, (set, frozenset)):
        return name in rule
    if rule == "all":
        return True
    if rule == "verified":
        return _verified(item)
    if rule == "bucket":
        return _is_bucket(name)
    raise ValueError(f"unknown selection rule {rule!r} for {item.nodeid}")


# ------------------------------------------------------------- deviations


def load_deviations(path):
    """{node id: (category, reason)}; raises ValueError on a malformed line."""
    out = {}
    for n, raw in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or ":" not in parts[1]:
            raise ValueError(f"{path}:{n}: expected 'NODE-ID  CATEGORY: reason', got {raw!r}")
        node, rest = parts
        category, reason = (s.strip() for s in rest.split(":", 1))
        if category not in CATEGORIES:
            raise ValueError(f"{path}:{n}: unknown category {category!r} (one of {', '.join(CATEGORIES)})")
        if node in out:
            raise ValueError(f"{path}:{n}: {node} is listed twice")
        out[node] = (category, reason)
    return out


class Plugin:
    def __init__(self, config):
        self.config = config
        path = os.environ.get("MOTO_SUITE_DEVIATIONS")
        self.deviations = load_deviations(path) if path else {}
        self.timeout = int(float(os.environ.get("MOTO_SUITE_TEST_TIMEOUT", "120")))
        self.stale = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session, config, items):
        # Before -k/-m deselect anything: the list is checked against the whole selection.
        keep, drop = [], []
        for item in items:
            rel = item.nodeid.split("::", 1)[0]
            rel = rel[len("tests/"):] if rel.startswith("tests/") else rel
            (keep if _selected(item, rel) else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep
        ids = {item.nodeid for item in keep}
        files = {item.nodeid.split("::", 1)[0] for item in keep}
        # Listed tests of the files collected (all of them, in a full run) must be selected.
        self.stale = sorted(n for n in self.deviations if n not in ids and n.split("::", 1)[0] in files)
        for item in keep:
            listed = self.deviations.get(item.nodeid)
            if listed:
                category, reason = listed
                item.add_marker(pytest.mark.xfail(strict=True, reason=f"{category}: {reason}"))

    def pytest_collection_finish(self, session):
        if self.stale:
            raise pytest.UsageError(
                "moto-suite: listed in the deviation list but not in the selection (stale):\n  "
                + "\n  ".join(self.stale)
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        if self.timeout <= 0:
            return (yield)

        def expired(signum, frame):
            raise TimeoutError(f"moto-suite: test ran longer than {self.timeout}s")

        previous = signal.signal(signal.SIGALRM, expired)
        signal.alarm(self.timeout)
        try:
            return (yield)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)


def pytest_configure(config):
    config.pluginmanager.register(Plugin(config), "moto-suite")
