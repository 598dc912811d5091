"""Launcher for the stackwatch local AWS emulator: moto 5.2.5 server + patches.

usage: python moto_ext.py PORT

Each ``patch_*`` function below restores one documented AWS behaviour that
moto 5.2.5 lacks or gets wrong. Patches are applied in-process (by adding or
replacing methods on moto's response/backend classes) before the server
starts. Moto's server dispatches an action to the method of the service's
``*Response`` class named after the snake_case action (X-Amz-Target
``AWSCognitoIdentityService.GetIdentityPoolRoles`` -> ``get_identity_pool_roles``),
so adding a method to the class is enough to implement a missing action.

Strict mode (refusing what AWS refuses: botocore model checks, S3 naming, IAM
quotas, IAM propagation) lives in the `strict` package beside this file and is
installed last; STACKWATCH_EMULATOR_STRICT=0 leaves it out (the extensions here
stay). See docs/emulator.md.
"""

import base64
import json
import re
import sys
import xml.etree.ElementTree as ET

from moto.cognitoidentity.exceptions import ResourceNotFoundError as IdentityNotFound
from moto.cognitoidentity.models import (
    CognitoIdentityBackend,
    CognitoIdentityPool,
    cognitoidentity_backends,
)
from moto.cognitoidentity.responses import CognitoIdentityResponse
from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.exceptions import ResourceNotFoundError as IdpNotFound
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPoolClient, cognitoidp_backends
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.dynamodb.exceptions import StreamAlreadyEnabledException
from moto.dynamodb.models import DynamoDBBackend
from moto.s3.exceptions import DuplicateTagKeys, NoSystemTags
from moto.s3.responses import S3Response

import strict


# --------------------------------------------------------------- helpers


def _identity_pool(backend, pool_id):
    """Return the identity pool or raise AWS's ResourceNotFoundException."""
    pool = backend.identity_pools.get(pool_id)
    if pool is None:
        raise IdentityNotFound(f"IdentityPool '{pool_id}' not found.")
    return pool


def _identity_pool_from_arn(arn):
    """Resolve arn:aws:cognito-identity:REGION:ACCOUNT:identitypool/ID."""
    m = re.fullmatch(r"arn:aws[\w-]*:cognito-identity:([^:]+):(\d{12}):identitypool/(.+)", arn or "")
    if not m:
        raise JsonRESTError("InvalidParameterException", f"Invalid ResourceArn: {arn}")
    region, account, pool_id = m.groups()
    return _identity_pool(cognitoidentity_backends[account][region], pool_id)


def _user_pool_from_arn(arn):
    """Resolve arn:aws:cognito-idp:REGION:ACCOUNT:userpool/ID."""
    m = re.fullmatch(r"arn:aws[\w-]*:cognito-idp:([^:]+):(\d{12}):userpool/(.+)", arn or "")
    if not m:
        raise InvalidParameterException(f"Invalid ResourceArn: {arn}")
    region, account, pool_id = m.groups()
    pool = cognitoidp_backends[account][region].user_pools.get(pool_id)
    if pool is None:
        raise IdpNotFound(f"User pool {pool_id} does not exist.")
    return pool


def _token_subject(token):
    """The `sub` claim of a JWT (decoded without verification), else the token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return "sub:" + str(claims["sub"])
    except Exception:
        return "token:" + token


# ------------------------------------------------------------ extensions


def patch_identity_pool_roles():
    """cognito-identity SetIdentityPoolRoles / GetIdentityPoolRoles (missing in moto).

    AWS: Set replaces the pool's whole Roles map (and RoleMappings); Get returns
    {IdentityPoolId, Roles, RoleMappings?}; unknown pool -> ResourceNotFoundException.
    Roles live on the pool object, so DeleteIdentityPool drops them too.
    """

    def set_identity_pool_roles(self):
        pool = _identity_pool(self.backend, self._get_param("IdentityPoolId"))
        pool.sw_roles = dict(self._get_param("Roles") or {})
        pool.sw_role_mappings = dict(self._get_param("RoleMappings") or {})
        return ""

    def get_identity_pool_roles(self):
        pool = _identity_pool(self.backend, self._get_param("IdentityPoolId"))
        out = {"IdentityPoolId": pool.identity_pool_id, "Roles": getattr(pool, "sw_roles", {})}
        if getattr(pool, "sw_role_mappings", None):
            out["RoleMappings"] = pool.sw_role_mappings
        return json.dumps(out)

    CognitoIdentityResponse.set_identity_pool_roles = set_identity_pool_roles
    CognitoIdentityResponse.get_identity_pool_roles = get_identity_pool_roles


def patch_update_user_pool_resets():
    """cognito-idp UpdateUserPool: AWS's reset semantics, create-only settings kept.

    AWS: "If you don't provide a value for an attribute, Amazon Cognito sets it
    to its default value." Moto rebuilds the config from defaults plus the
    request (right) but drops UsernameAttributes, AliasAttributes and
    UsernameConfiguration, which are not members of UpdateUserPool and which
    AWS keeps (Schema is kept by moto already); keeps MfaConfiguration instead
    of resetting it to OFF; ignores a new PoolName. UserPoolTags: sent
    replaces the pool's tags, not sent keeps them (tags are also managed by
    TagResource/UntagResource, which an update without tags does not undo).
    """
    original = CognitoIdpBackend.update_user_pool
    create_only = ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration")

    def update_user_pool(self, user_pool_id, extended_config):
        pool = self.describe_user_pool(user_pool_id)
        old = pool.extended_config
        sent = dict(extended_config or {})
        config = {k: v for k, v in sent.items() if k not in ("UserPoolId", "PoolName")}
        for key in create_only:
            if key in old:
                config[key] = old[key]
        if "UserPoolTags" not in config and "UserPoolTags" in old:
            config["UserPoolTags"] = old["UserPoolTags"]
        original(self, user_pool_id, config)
        if sent.get("PoolName"):
            pool.name = sent["PoolName"]
        pool.mfa_config = config.get("MfaConfiguration") or "OFF"
        pool.last_modified_date = utcnow()

    CognitoIdpBackend.update_user_pool = update_user_pool


def patch_update_user_pool_client_resets():
    """cognito-idp UpdateUserPoolClient resets what the request does not carry.

    AWS documents the same reset semantics as for UpdateUserPool; moto merged
    the request into the old settings (CallbackURLs, token validities, OAuth
    flows... survived an update that left them out). The client goes back to
    the defaults a new client gets, plus the request. Kept: the client id and
    secret (GenerateSecret is create-only) and ClientName when not sent.
    """
    defaults = dict(CognitoIdpUserPoolClient("defaults", False, None).extended_config)

    def update_user_pool_client(self, user_pool_id, client_id, extended_config):
        pool = self.describe_user_pool(user_pool_id)
        client = pool.clients.get(client_id)
        if not client:
            raise IdpNotFound(client_id)
        config = dict(defaults)
        if "ClientName" in client.extended_config:
            config["ClientName"] = client.extended_config["ClientName"]
        config.update({k: v for k, v in (extended_config or {}).items() if k not in ("UserPoolId", "ClientId")})
        client.extended_config = config
        return client

    CognitoIdpBackend.update_user_pool_client = update_user_pool_client


def patch_create_bucket_tags():
    """s3 CreateBucket applies CreateBucketConfiguration/Tags (moto ignored them).

    <CreateBucketConfiguration><Tags><Tag><Key/><Value/></Tag></Tags>... (the
    botocore model's CreateBucketConfiguration.Tags, a TagSet). The tags are
    checked before the bucket is made (duplicate keys, aws: keys, as moto's
    PutBucketTagging does; strict mode adds the length and count rules), so
    an invalid tag refuses the whole create and leaves no bucket; valid tags
    are on the bucket when CreateBucket answers. A CreateBucket of a bucket
    that already exists changes no tags.
    """
    original = S3Response._bucket_response_put

    def _bucket_response_put(self, request, bucket_name, querystring):
        creating = not (set(querystring or {}) - {"x-id"})
        tags = _create_bucket_tags(self.body) if creating else None
        existed = bucket_name in self.backend.buckets
        result = original(self, request, bucket_name, querystring)
        if tags and not existed and bucket_name in self.backend.buckets:
            self.backend.put_bucket_tagging(bucket_name, tags)
        return result

    S3Response._bucket_response_put = _bucket_response_put


def _create_bucket_tags(body):
    """{key: value} from a CreateBucketConfiguration body; None if none; raises InvalidTag."""
    if not body:
        return None
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None  # moto's own parsing answers for it

    def local(tag):
        return tag.rsplit("}", 1)[-1]

    tags = None
    for section in root:
        if local(section.tag) != "Tags":
            continue
        tags = {} if tags is None else tags
        for tag in section:
            if local(tag.tag) != "Tag":
                continue
            fields = {local(f.tag): f.text or "" for f in tag}
            key = fields.get("Key", "")
            if key in tags:
                raise DuplicateTagKeys()
            if key.startswith("aws:"):
                raise NoSystemTags()
            tags[key] = fields.get("Value", "")
    return tags


def patch_update_identity_pool_renames():
    """cognito-identity UpdateIdentityPool applies IdentityPoolName.

    Moto keeps the old name (`old or new`); AWS renames. Also returns
    ResourceNotFoundException for an unknown pool instead of a 500.
    """
    original = CognitoIdentityBackend.update_identity_pool

    def update_identity_pool(self, identity_pool_id, identity_pool_name, **kwargs):
        pool = _identity_pool(self, identity_pool_id)
        if identity_pool_name:
            CognitoIdentityPool(self.region_name, identity_pool_name)  # validates the name
        original(self, identity_pool_id, identity_pool_name, **kwargs)
        if identity_pool_name:
            pool.identity_pool_name = identity_pool_name
        return pool.to_json()

    CognitoIdentityBackend.update_identity_pool = update_identity_pool


def patch_dynamodb_stream_reenable():
    """dynamodb UpdateTable enables a new stream after the old one was disabled.

    AWS refuses to enable a stream only while one is enabled ("ResourceInUseException");
    once disabled, enabling makes a new stream with a new label and LatestStreamArn (which is
    how a stream's view type is changed). Moto refuses any enable once a stream ever existed.
    """

    def update_table_streams(self, table, stream_specification):
        enabling = stream_specification.get("StreamEnabled") or stream_specification.get("StreamViewType")
        current = table.stream_specification or {}
        if enabling and current.get("StreamEnabled"):
            raise StreamAlreadyEnabledException
        table.set_stream_specification(stream_specification)

    DynamoDBBackend.update_table_streams = update_table_streams


def patch_get_id_is_stable():
    """cognito-identity GetId returns one IdentityId per (pool, login subject).

    AWS maps the same user (same provider + token subject) to the same
    identity; moto mints a new id on every call. Key: pool id + sorted
    (provider, JWT `sub` or raw token) pairs. Calls without Logins
    (unauthenticated) still get a fresh identity, as on AWS. Unknown pool ->
    ResourceNotFoundException instead of a 500.
    """

    def get_id(self):
        pool_id = self._get_param("IdentityPoolId") or ""
        # Like moto, pick the backend from the region prefix of the pool id:
        # GetId is unsigned, so the request carries no region.
        backend = cognitoidentity_backends[self.current_account][pool_id.split(":")[0]]
        _identity_pool(backend, pool_id)
        logins = self._get_param("Logins") or {}
        if not logins:
            return backend.get_id(identity_pool_id=pool_id)
        key = (pool_id, tuple(sorted((p, _token_subject(t)) for p, t in logins.items())))
        known = backend.__dict__.setdefault("sw_identity_by_login", {})
        if key not in known:
            known[key] = json.loads(backend.get_id(identity_pool_id=pool_id))["IdentityId"]
        return json.dumps({"IdentityId": known[key]})

    CognitoIdentityResponse.get_id = get_id


def patch_cognito_idp_tagging():
    """cognito-idp TagResource / UntagResource / ListTagsForResource (missing in moto).

    They act on the same map DescribeUserPool returns as UserPoolTags.
    """

    def tag_resource(self):
        pool = _user_pool_from_arn(self._get_param("ResourceArn"))
        tags = dict(pool.extended_config.get("UserPoolTags") or {})
        tags.update(self._get_param("Tags") or {})
        pool.extended_config["UserPoolTags"] = tags
        return EmptyResult()

    def untag_resource(self):
        pool = _user_pool_from_arn(self._get_param("ResourceArn"))
        drop = set(self._get_param("TagKeys") or [])
        tags = pool.extended_config.get("UserPoolTags") or {}
        pool.extended_config["UserPoolTags"] = {k: v for k, v in tags.items() if k not in drop}
        return EmptyResult()

    def list_tags_for_resource(self):
        pool = _user_pool_from_arn(self._get_param("ResourceArn"))
        return ActionResult({"Tags": dict(pool.extended_config.get("UserPoolTags") or {})})

    CognitoIdpResponse.tag_resource = tag_resource
    CognitoIdpResponse.untag_resource = untag_resource
    CognitoIdpResponse.list_tags_for_resource = list_tags_for_resource


def patch_cognito_identity_tagging():
    """cognito-identity TagResource / UntagResource / ListTagsForResource (missing in moto).

    They act on the same map DescribeIdentityPool returns as IdentityPoolTags.
    """

    def tag_resource(self):
        pool = _identity_pool_from_arn(self._get_param("ResourceArn"))
        pool.tags = {**(pool.tags or {}), **(self._get_param("Tags") or {})}
        return "{}"

    def untag_resource(self):
        pool = _identity_pool_from_arn(self._get_param("ResourceArn"))
        drop = set(self._get_param("TagKeys") or [])
        pool.tags = {k: v for k, v in (pool.tags or {}).items() if k not in drop}
        return "{}"

    def list_tags_for_resource(self):
        pool = _identity_pool_from_arn(self._get_param("ResourceArn"))
        return json.dumps({"Tags": dict(pool.tags or {})})

    CognitoIdentityResponse.tag_resource = tag_resource
    CognitoIdentityResponse.untag_resource = untag_resource
    CognitoIdentityResponse.list_tags_for_resource = list_tags_for_resource


PATCHES = (
    patch_identity_pool_roles,
    patch_update_user_pool_resets,
    patch_update_user_pool_client_resets,
    patch_create_bucket_tags,
    patch_update_identity_pool_renames,
    patch_dynamodb_stream_reenable,
    patch_get_id_is_stable,
    patch_cognito_idp_tagging,
    patch_cognito_identity_tagging,
)


def apply_patches():
    for patch in PATCHES:
        patch()


def main(argv):
    if len(argv) != 1 or not argv[0].isdigit():
        sys.exit("usage: moto_ext.py PORT")
    config = strict.Config()
    apply_patches()
    strict.install(config)  # after the extensions: it wraps SetIdentityPoolRoles
    from moto.server import main as moto_main  # signature: main(argv: list[str] | None)

    moto_main(["-H", "127.0.0.1", "-p", argv[0]])


if __name__ == "__main__":
    main(sys.argv[1:])
