"""What AWS does not let a client use at once: IAM propagation as
cognito-identity sees it, and SQS's wait after DeleteQueue.

On AWS a role is not usable by Cognito for a few seconds after CreateRole:
SetIdentityPoolRoles answers NotAuthorizedException "Access to Role 'ARN' is
forbidden." (boto/boto3 issue #73, right after iam.create_role), and
GetCredentialsForIdentity answers InvalidIdentityPoolConfigurationException
"Invalid identity pool configuration. Check assigned IAM roles for this pool."
A role that does not exist at all gets the same answers.

STACKWATCH_EMULATOR_IAM_DELAY (seconds) is how long a role counts as not yet
propagated after its CreateRole; unset or 0 means at once. These refusals are
counted as "propagation", not "validation".

SQS: "When you delete a queue, you must wait at least 60 seconds before
creating a queue with the same name" (the DeleteQueue API reference); CreateQueue
of that name answers QueueDeletedRecently "You must wait 60 seconds after
deleting a queue before you can create another with the same name."
(LocalStack's AWS-validated test_create_queue_recently_deleted), query code
AWS.SimpleQueueService.QueueDeletedRecently. STACKWATCH_EMULATOR_SQS_DELETE_DELAY
(seconds; AWS's is 60) is how long after a DeleteQueue that holds; unset or 0
means never. Counted as "propagation" too (the deletion takes up to 60 s).
"""

import re
import time

from moto.cognitoidentity.models import cognitoidentity_backends
from moto.cognitoidentity.responses import CognitoIdentityResponse
from moto.core.exceptions import JsonRESTError
from moto.iam.models import IAMBackend, iam_backends
from moto.sqs.models import SQSBackend, sqs_backends

from . import refusals

_ROLE_ARN = re.compile(r"arn:(aws[\w-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)\Z")

SET_ROLES_MESSAGE = "Access to Role '{arn}' is forbidden."
QUEUE_DELETED_MESSAGE = ("You must wait 60 seconds after deleting a queue before you can create another with the "
                         "same name.")

_sqs_delay = 0.0
CREDENTIALS_MESSAGE = "Invalid identity pool configuration. Check assigned IAM roles for this pool."


def role_problem(arn, delay):
    """None if cognito-identity may use the role now; else "iam-role-missing" / "iam-propagation"."""
    m = _ROLE_ARN.match(arn or "")
    if not m:
        return "iam-role-missing"
    partition, account, _name = m.groups()
    try:
        role = iam_backends[account][partition].get_role_by_arn(arn)
    except Exception:
        return "iam-role-missing"
    created = getattr(role, "sw_created", None)
    if delay > 0 and created is not None and time.monotonic() - created < delay:
        return "iam-propagation"
    return None


def _refuse(operation, rule, code, message):
    refusal = refusals.Refusal(rule, code, message, kind="propagation")
    refusals.record("cognito-identity", operation, refusal)
    return JsonRESTError(code, message)


def install(delay, sqs_delete_delay=0.0):
    """Stamp roles with their creation time; check roles in SetIdentityPoolRoles and
    GetCredentialsForIdentity. Applied after moto_ext's SetIdentityPoolRoles extension.
    Stamp deleted SQS queues (their backend's sw_deleted) for sqs_deleted_recently."""
    global _sqs_delay
    _sqs_delay = sqs_delete_delay
    delete_queue = SQSBackend.delete_queue

    def delete_queue_stamped(self, queue_name):
        delete_queue(self, queue_name)
        self.__dict__.setdefault("sw_deleted", {})[queue_name] = time.monotonic()

    SQSBackend.delete_queue = delete_queue_stamped

    create_role = IAMBackend.create_role

    def create_role_stamped(self, *args, **kwargs):
        role = create_role(self, *args, **kwargs)
        role.sw_created = time.monotonic()
        return role

    IAMBackend.create_role = create_role_stamped

    set_roles = CognitoIdentityResponse.set_identity_pool_roles

    def set_identity_pool_roles(self):
        for arn in (self._get_param("Roles") or {}).values():
            rule = role_problem(arn, delay)
            if rule:
                raise _refuse("SetIdentityPoolRoles", rule, "NotAuthorizedException", SET_ROLES_MESSAGE.format(arn=arn))
        return set_roles(self)

    CognitoIdentityResponse.set_identity_pool_roles = set_identity_pool_roles

    get_credentials = CognitoIdentityResponse.get_credentials_for_identity

    def get_credentials_for_identity(self):
        identity_id = self._get_param("IdentityId") or ""
        pool = _pool_of(self.current_account, identity_id)
        if pool is not None:
            kind = "authenticated" if self._get_param("Logins") else "unauthenticated"
            arn = (getattr(pool, "sw_roles", None) or {}).get(kind)
            if arn:
                rule = role_problem(arn, delay)
                if rule:
                    raise _refuse("GetCredentialsForIdentity", rule, "InvalidIdentityPoolConfigurationException",
                                  CREDENTIALS_MESSAGE)
        return get_credentials(self)

    CognitoIdentityResponse.get_credentials_for_identity = get_credentials_for_identity


def _pool_of(account, identity_id):
    """The identity pool an identity id was issued by (GetId), or None."""
    region = identity_id.split(":", 1)[0]
    try:
        backend = cognitoidentity_backends[account][region]
    except Exception:
        return None
    for pool_id, entry in backend.pools_identities.items():
        if any(i.get("IdentityId") == identity_id for i in entry.get("Identities", ())):
            return backend.identity_pools.get(pool_id)
    return None


def sqs_deleted_recently(account, region, name):
    """CreateQueue of `name`: the refusal while its deletion is younger than the delay, else None."""
    if _sqs_delay <= 0:
        return None
    try:
        deleted = sqs_backends[account][region].__dict__.get("sw_deleted", {}).get(name)
    except Exception:
        return None
    if deleted is None or time.monotonic() - deleted >= _sqs_delay:
        return None
    return refusals.Refusal("sqs-queue-deleted-recently", "AWS.SimpleQueueService.QueueDeletedRecently",
                            QUEUE_DELETED_MESSAGE, kind="propagation")
