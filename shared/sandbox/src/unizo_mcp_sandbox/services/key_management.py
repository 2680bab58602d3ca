"""Key management: vault configurations (read and create), HashiCorp Vault- and AWS Secrets Manager-like.

Served at /api/v1/vaultConfigs without a category segment, as Unizo's own server calls it (whether the
public gateway serves it there is unverified). A vault configuration is `{id, value, name, changeLog}`
(Unizo's model); its `value` here is where the secrets live in the vendor (a KV path or a secret ARN
prefix), never a secret.
"""

from __future__ import annotations

import re
import time
import uuid

from aiohttp import web

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.context import caller, sandbox_of
from unizo_mcp_sandbox.data.common import Gen, Record, Tables, change_log, slug
from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.resources import Resource, Route, locate
from unizo_mcp_sandbox.routes.common import record_response
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.validation import Field, json_body, text, validate

HASHICORP = "hashicorp"
AWS = "aws"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/-]{0,127}")
CONFIG_NAMES = (
    "payments-prod", "payments-staging", "sso-prod", "ci-deploy-keys", "edge-tls-certs", "data-lake-etl",
    "mobile-push", "siem-forwarder", "backup-encryption", "support-tools", "partner-api", "sandbox-dev",
)  # fmt: skip
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
VAULT_CONFIG_SORT_FIELDS = frozenset(
    {"id", "name", "value", "changeLog.createdDateTime", "changeLog.lastUpdatedDateTime"}
)


def _value(connector: str, organization: str, name: str, account: str, region: str) -> str:
    """Where the configuration's secrets live in the vendor."""
    if connector == HASHICORP:
        return f"kv-v2/data/{organization}/{name}"
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{organization}/{name}"


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    account, region = gen.digits(12), gen.pick(REGIONS)
    configs = []
    for name in CONFIG_NAMES:
        created = gen.past(700, 30)
        first, last = gen.person()
        author = {"id": gen.uuid(), "firstName": first, "lastName": last}
        configs.append(
            {
                "id": gen.uuid(),
                "name": name,
                "value": _value(connector, slug(owner.name), name, account, region),
                "changeLog": change_log(created, gen.after(created, 200), author),
            }
        )
    tables["vault_configs"][(integration["id"],)] = configs


VAULT_CONFIGS = Resource(
    kind="vault_configs",
    path="/vaultConfigs",
    label="vault configuration",
    sortable=VAULT_CONFIG_SORT_FIELDS,
    item_param="vaultConfigId",
)


def _name(value: object, path: str) -> str:
    checked = str(text(1, 128)(value, path))
    if not NAME.fullmatch(checked):
        raise invalid(path, f"{path} must start with a letter or digit and use letters, digits, ' ._/-'")
    return checked


def _integration_id(value: object, path: str) -> str:
    return str(text(1, 64)(value, path))


CREATE_FIELDS = (Field("name", _name, required=True), Field("integrationId", _integration_id))


async def create_vault_config(request: web.Request) -> web.Response:
    """Unizo's server sends `{integrationId, name}` (and the integrationId header); the body's id, when sent,
    must be the header's."""
    location = locate(request, VAULT_CONFIGS)
    fields = validate(await json_body(request), CREATE_FIELDS)
    integration = location.integration
    if fields.get("integrationId", integration["id"]) != integration["id"]:
        raise invalid("integrationId", "integrationId must be the integration of the integrationId header")
    sandbox = sandbox_of(request)
    existing = sandbox.records.items("vault_configs", location.scope)
    if any(config["name"].lower() == fields["name"].lower() for config in existing):
        raise invalid("name", f"a vault configuration named '{fields['name']}' already exists")
    sample = existing[0]["value"] if existing else ""
    connector = integration["serviceProfile"]["name"]
    if connector == AWS and sample.startswith("arn:"):
        _, _, _, region, account, *_ = sample.split(":")
    else:
        region, account = REGIONS[0], "000000000000"
    organization = slug(caller(request).organization.name)
    now = iso(time.time())
    key = caller(request)
    config = {
        "id": str(uuid.uuid4()),
        "name": fields["name"],
        "value": _value(connector, organization, slug(fields["name"]), account, region),
        "changeLog": {
            "createdDateTime": now,
            "lastUpdatedDateTime": now,
            "createdBy": {"id": key.id, "firstName": key.name, "lastName": "(API key)"},
        },
    }
    sandbox.records.insert("vault_configs", location.scope, config)
    sandbox.changed()
    return record_response(config, status=201)


SERVICE = SandboxService(
    name="key_management",
    category="KEY_MANAGEMENT",
    connectors=((HASHICORP, "HashiCorp Vault"), (AWS, "AWS Secrets Manager")),
    path_prefixes=("vaultConfigs",),
    generate=generate,
    probe="/vaultConfigs",
    resources=(VAULT_CONFIGS,),
    routes=(Route("POST", "/vaultConfigs", create_vault_config),),
)
