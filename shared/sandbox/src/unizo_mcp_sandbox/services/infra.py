"""Public cloud infrastructure: seeded accounts and collections (AWS-, Azure- and GCP-like), and per
collection the IAM users, roles and policies and the resources, served read-only as Unizo's are.

Accounts are the organization-level containers (an AWS Organization, an Azure tenant, a GCP
organization, and a billing account); collections are what holds resources and identities (AWS member
accounts, Azure subscriptions, GCP projects). Resources form a tree through `parentResource`: VPCs hold
subnets and clusters, subnets hold virtual machines and some functions, Kubernetes clusters hold
namespaces, namespaces hold workloads, container-service clusters hold services.
"""

from __future__ import annotations

from typing import Any

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.data.common import Gen, Record, Tables, change_log, slug
from unizo_mcp_sandbox.filters import equals
from unizo_mcp_sandbox.resources import Resource
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso

USERS_PER_COLLECTION = 12
RESOURCE_STATES = ("RUNNING", "STOPPED", "TERMINATED", "PENDING", "ERROR")
COMPUTE_TYPES = ("EC2", "ECS", "LAMBDA", "EKS")  # documented; `type` is COMPUTE for these
PARENT_TYPES = ("VPC", "SUBNET", "CLUSTER", "NAMESPACE")  # documented parent resource types
STAGES = (
    ("production", "Production workloads"),
    ("staging", "Pre-production and QA"),
    ("shared", "Shared services: logging and security tooling"),
)
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CLUSTERS = {"K8S": "CLUSTER", "SERVICES": "CLUSTER"}  # Kubernetes and container-service clusters


def _region(gen: Gen, connector: str) -> str:
    return gen.pick(
        {
            "aws": ("us-east-1", "us-west-2", "eu-west-1"),
            "azure": ("eastus", "westeurope", "northeurope"),
            "gcp": ("us-central1", "europe-west1", "asia-southeast1"),
        }[connector]
    )


def _principal_id(gen: Gen, prefix: str) -> str:
    """An IAM unique id (`AIDA…` users, `AROA…` roles, `ANPA…` policies)."""
    return prefix + "".join(gen.pick(UPPER) for _ in range(17))


# ---- accounts and collections -------------------------------------------------------------------------


def _accounts(gen: Gen, connector: str, owner: Organization) -> list[Record]:
    base = slug(owner.name)
    created = gen.past(1500, 900)
    if connector == "aws":
        organization_id = "o-" + "".join(gen.pick("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
        payer = gen.digits(12)
        accounts = [
            (organization_id, f"{owner.name} AWS Organization", f"aws-admin@{base}.com",
             "https://us-east-1.console.aws.amazon.com/organizations/v2/home", "ORGANIZATION",
             "AWS Organizations root of every member account"),
            (payer, f"{owner.name} payer account", f"billing@{base}.com",
             f"https://{payer}.signin.aws.amazon.com/console", "BILLING_ACCOUNT", "Consolidated billing"),
        ]  # fmt: skip
    elif connector == "azure":
        tenant = f"{base.replace('-', '')}.onmicrosoft.com"
        accounts = [
            (gen.uuid(), f"{owner.name} tenant", tenant, f"https://portal.azure.com/#@{tenant}", "TENANT",
             "Microsoft Entra tenant of every subscription"),
            (gen.uuid(), f"{owner.name} billing account", f"billing@{base}.com",
             "https://portal.azure.com/#view/Microsoft_Azure_GTM/ModernBillingMenuBlade", "BILLING_ACCOUNT",
             "Microsoft Customer Agreement"),
        ]  # fmt: skip
    else:
        organization_id = gen.digits(12)
        billing = "-".join(gen.hex(6).upper() for _ in range(3))
        accounts = [
            (organization_id, f"{base}.com", f"organizations/{organization_id}",
             f"https://console.cloud.google.com/iam-admin/settings?organizationId={organization_id}",
             "ORGANIZATION", "Google Cloud organization of every project"),
            (billing, f"{owner.name} billing", f"billingAccounts/{billing}",
             f"https://console.cloud.google.com/billing/{billing}", "BILLING_ACCOUNT", "Invoiced billing"),
        ]  # fmt: skip
    return [
        {
            "id": account_id,
            "name": name,
            "login": login,
            "url": url,
            "avatarUrl": None,
            "description": description,
            "type": kind,
            "changeLog": change_log(created, gen.after(created, 600)),
        }
        for account_id, name, login, url, kind, description in accounts
    ]


def _collection(
    gen: Gen, connector: str, owner: Organization, account: Record, stage: tuple[str, str]
) -> Record:
    base = slug(owner.name)
    name, description = stage
    created = gen.past(900, 200)
    if connector == "aws":
        collection_id = gen.digits(12)
        login, url, kind = (
            f"{base}-{name}",
            f"https://{collection_id}.signin.aws.amazon.com/console",
            "AWS_ACCOUNT",
        )
        title = f"{base}-{name}"
    elif connector == "azure":
        collection_id = gen.uuid()
        login = account["login"]
        url = f"https://portal.azure.com/#@{login}/resource/subscriptions/{collection_id}/overview"
        kind, title = "SUBSCRIPTION", f"{owner.name} {name.capitalize()}"
    else:
        collection_id = f"{base}-{name}-{gen.digits(4)}"
        login, url = (
            gen.digits(12),
            f"https://console.cloud.google.com/home/dashboard?project={collection_id}",
        )
        kind, title = "PROJECT", f"{base}-{name}"
    return {
        "id": collection_id,
        "name": title,
        "login": login,
        "url": url,
        "avatarUrl": None,
        "description": description,
        "type": kind,
        "account": {"id": account["id"], "name": account["name"]},
        "changeLog": change_log(created, gen.after(created, 150)),
    }


# ---- identities -----------------------------------------------------------------------------------------

# (name, description, managed by the vendor, statements): AWS IAM policies, Azure Policy definitions,
# GCP organization policies
POLICIES = {
    "aws": (
        ("AdministratorAccess", "Full access to every AWS service", True, ("*:*",)),
        (
            "ReadOnlyAccess",
            "Read-only access to every AWS service",
            True,
            ("*:Describe*", "*:Get*", "*:List*"),
        ),
        ("SecurityAudit", "Read security configuration metadata", True, ("iam:Get*", "cloudtrail:Describe*")),
        ("AmazonS3ReadOnlyAccess", "Read any S3 bucket", True, ("s3:Get*", "s3:List*")),
        (
            "{org}-ci-deploy",
            "Deploy pipelines: ECR push, ECS and Lambda updates",
            False,
            ("ecr:PutImage", "ecs:UpdateService", "lambda:UpdateFunctionCode"),
        ),
        ("{org}-kms-decrypt", "Decrypt with the application keys", False, ("kms:Decrypt",)),
        (
            "{org}-guardduty-responder",
            "Isolate instances flagged by GuardDuty",
            False,
            ("ec2:ModifyInstanceAttribute", "ec2:CreateSnapshot"),
        ),
        ("{org}-billing-viewer", "View cost and usage", False, ("ce:Get*", "budgets:View*")),
    ),
    "azure": (
        (
            "Allowed locations",
            "Restrict the regions resources may be created in",
            True,
            ("Deny: location not in [eastus, westeurope]",),
        ),
        (
            "Require a tag on resources",
            "Resources must carry cost-center",
            True,
            ("Deny: tags.cost-center missing",),
        ),
        (
            "Storage accounts should restrict network access",
            "No public storage endpoints",
            True,
            ("Audit: networkAcls.defaultAction != Deny",),
        ),
        (
            "Key vaults should have soft delete enabled",
            "Protect secrets from deletion",
            True,
            ("Audit: enableSoftDelete != true",),
        ),
        (
            "Audit virtual machines without managed disks",
            "Managed disks only",
            True,
            ("Audit: unmanaged OS disk",),
        ),
        (
            "{org}-deny-public-ip",
            "No public IP addresses outside the DMZ",
            False,
            ("Deny: publicIPAddresses",),
        ),
        (
            "{org}-require-disk-encryption",
            "Encrypt every disk with our keys",
            False,
            ("Deny: encryption.type != CustomerKey",),
        ),
        ("{org}-allowed-vm-sizes", "Approved VM sizes only", False, ("Deny: vmSize not in approved list",)),
    ),
    "gcp": (
        ("compute.requireOsLogin", "Require OS Login on VM instances", True, ("enforce: true",)),
        (
            "iam.disableServiceAccountKeyCreation",
            "No user-managed service account keys",
            True,
            ("enforce: true",),
        ),
        (
            # homonym: a GCP policy name, not the storage service
            "storage.uniformBucketLevelAccess",
            "Uniform bucket-level access",
            True,
            ("enforce: true",),
        ),
        ("compute.vmExternalIpAccess", "Instances allowed an external IP", True, ("allow: [bastion-1]",)),
        ("sql.restrictPublicIp", "No public IP on Cloud SQL", True, ("enforce: true",)),
        (
            "gcp.resourceLocations",
            "Allowed resource locations",
            True,
            ("allow: [in:us-locations, in:eu-locations]",),
        ),
        (
            "custom.{org}RequireLabels",
            "Resources must carry team and env labels",
            False,
            ("condition: resource.labels.team != null",),
        ),
        (
            "custom.{org}NoDefaultNetwork",
            "Projects may not keep the default network",
            False,
            ("enforce: true",),
        ),
    ),
}
# (name, description, built in, trusted entities, policy indexes)
ROLES = {
    "aws": (
        (
            "OrganizationAccountAccessRole",
            "Administrator access from the management account",
            True,
            ("arn:aws:iam::root",),
            (0,),
        ),
        ("{org}-sso-readonly", "Single sign-on read-only access", False, ("sso.amazonaws.com",), (1, 3)),
        ("{org}-security-audit", "Security tooling and auditors", False, ("sso.amazonaws.com",), (2,)),
        ("{org}-ci-deployer", "CI pipelines (OIDC)", False, ("token.actions.githubusercontent.com",), (4, 5)),
        ("{org}-lambda-exec", "Execution role of the functions", False, ("lambda.amazonaws.com",), (5,)),
        ("{org}-eks-node", "EKS worker nodes", False, ("ec2.amazonaws.com",), (3,)),
    ),
    "azure": (
        ("Owner", "Full access, including role assignments", True, (), ()),
        ("Contributor", "Manage everything but access", True, (), ()),
        ("Reader", "View everything", True, (), ()),
        ("Security Reader", "View security state and recommendations", True, (), ()),
        ("Key Vault Secrets User", "Read secret contents", True, (), ()),
        ("{Org} Deployment Operator", "Deploy applications, no network changes", False, (), ()),
    ),
    "gcp": (
        ("owner", "Full access to the project", True, (), ()),
        ("editor", "Edit most resources", True, (), ()),
        ("viewer", "Read-only access", True, (), ()),
        ("iam.securityReviewer", "Review IAM policies", True, (), ()),
        ("container.developer", "Deploy to GKE clusters", True, (), ()),
        ("{org}Deployer", "CI deployments to Cloud Run and GKE", False, (), ()),
    ),
}
SERVICE_ACCOUNTS = ("terraform", "ci-deployer", "backup-agent", "siem-collector")


def _named(template: str, owner: Organization) -> str:
    """A policy or role name with the organization's short name (`{org}-ci-deploy` → `acme-ci-deploy`)."""
    short = slug(owner.name).split("-")[0]
    return template.format(org=short, Org=short.capitalize())


def _policies(gen: Gen, connector: str, owner: Organization, collection: Record) -> list[Record]:
    policies = []
    for template, description, managed, statements in POLICIES[connector]:
        name = _named(template, owner)
        created = gen.past(800, 100)
        if connector == "aws":
            policy_id = _principal_id(gen, "ANPA")
            account = "aws" if managed else collection["id"]
            native = f"arn:aws:iam::{account}:policy/{name}"
        elif connector == "azure":
            policy_id = gen.uuid()
            native = f"/providers/Microsoft.Authorization/policyDefinitions/{policy_id}"
        else:
            policy_id = gen.digits(12)
            native = f"projects/{collection['id']}/policies/{name}"
        policies.append(
            {
                "id": policy_id,
                "name": name,
                "description": description,
                "type": "MANAGED" if managed else "CUSTOM",
                "statements": list(statements),
                "attachmentCount": gen.number(0, 6),
                "nativeId": native,
                "collection": {"id": collection["id"]},
                "changeLog": change_log(created, gen.after(created, 200)),
            }
        )
    return policies


def _roles(
    gen: Gen, connector: str, owner: Organization, collection: Record, policies: list[Record]
) -> list[Record]:
    roles = []
    for template, description, built_in, trusted, picked in ROLES[connector]:
        name = _named(template, owner)
        created = gen.past(800, 100)
        if connector == "aws":
            role_id = _principal_id(gen, "AROA")
            native = f"arn:aws:iam::{collection['id']}:role/{name}"
            attached = [policies[index] for index in picked]
        elif connector == "azure":
            role_id = gen.uuid()
            scope = f"/subscriptions/{collection['id']}/providers/Microsoft.Authorization"
            native = f"{scope}/roleDefinitions/{role_id}"
            attached = []
        else:
            role_id = name
            native = f"roles/{name}" if built_in else f"projects/{collection['id']}/roles/{name}"
            attached = []
        roles.append(
            {
                "id": role_id,
                "name": name,
                "description": description,
                "type": "BUILT_IN" if built_in else "CUSTOM",
                "trustedEntities": list(trusted),
                "policies": [{"id": policy["id"], "name": policy["name"]} for policy in attached],
                "lastUsed": iso(gen.past(30)) if gen.chance(0.8) else None,
                "nativeId": native,
                "collection": {"id": collection["id"]},
                "changeLog": change_log(created, gen.after(created, 200)),
            }
        )
    return roles


def _user(
    gen: Gen, connector: str, owner: Organization, collection: Record, roles: list[Record], index: int
) -> Record:
    domain = f"{slug(owner.name)}.com"
    service = index >= USERS_PER_COLLECTION - 2
    if service:
        handle = SERVICE_ACCOUNTS[(index + len(collection["id"])) % len(SERVICE_ACCOUNTS)]
        display, email = handle, None
    else:
        first, last = gen.person()
        handle, display = f"{first.lower()}.{last.lower()}", f"{first} {last}"
        email = f"{handle}@{domain}"
    if connector == "aws":
        user_id, name = _principal_id(gen, "AIDA"), handle
        native = f"arn:aws:iam::{collection['id']}:user/{handle}"
    elif connector == "azure":
        user_id = gen.uuid()
        name = f"{handle}@{collection['login']}" if not service else handle
        native = user_id
    else:
        user_id = gen.digits(21)
        name = email or f"{handle}@{collection['id']}.iam.gserviceaccount.com"
        native = ("serviceAccount:" if service else "user:") + name
    created = gen.past(700, 30)
    return {
        "id": user_id,
        "name": name,
        "displayName": display,
        "email": email,
        "type": "SERVICE_ACCOUNT" if service else "USER",
        "status": "ACTIVE" if service or gen.chance(0.85) else "INACTIVE",
        "mfaEnabled": False if service else gen.chance(0.75),
        "lastLogin": None if service else iso(gen.after(created, 700)),
        "roles": [{"id": role["id"], "name": role["name"]} for role in gen.sample(roles, gen.number(1, 2))],
        "nativeId": native,
        "collection": {"id": collection["id"]},
        "changeLog": change_log(created, gen.after(created, 300)),
    }


# ---- resources ------------------------------------------------------------------------------------------

# compute shapes per connector: (instance class, cpu cores, memory GiB)
MACHINES = {
    "aws": (("t3.medium", 2, 4), ("m6i.large", 2, 8), ("c6g.xlarge", 4, 8), ("r6i.2xlarge", 8, 64)),
    "azure": (("Standard_B2ms", 2, 8), ("Standard_D2s_v5", 2, 8), ("Standard_E4s_v5", 4, 32)),
    "gcp": (("e2-standard-2", 2, 8), ("n2-standard-4", 4, 16), ("c3-highcpu-8", 8, 16)),
}
SYSTEMS = ("Amazon Linux 2023", "Ubuntu 22.04 LTS", "Windows Server 2022", "Red Hat Enterprise Linux 9")
RUNTIMES = ("python3.12", "nodejs20.x", "java21", "go1.x")
APPS = ("api", "worker", "web", "billing", "search", "auth", "ingest", "reports", "scheduler", "proxy")
NATIVE_TYPES = {
    "aws": {
        "VPC": "AWS::EC2::VPC",
        "SUBNET": "AWS::EC2::Subnet",
        "K8S": "AWS::EKS::Cluster",
        "SERVICES": "AWS::ECS::Cluster",
        "NAMESPACE": "Kubernetes::Namespace",
        "EC2": "AWS::EC2::Instance",
        "LAMBDA": "AWS::Lambda::Function",
        "ECS": "AWS::ECS::Service",
        "EKS": "Kubernetes::Deployment",
    },
    "azure": {
        "VPC": "Microsoft.Network/virtualNetworks",
        "SUBNET": "Microsoft.Network/virtualNetworks/subnets",
        "K8S": "Microsoft.ContainerService/managedClusters",
        "SERVICES": "Microsoft.App/managedEnvironments",
        "NAMESPACE": "Kubernetes::Namespace",
        "EC2": "Microsoft.Compute/virtualMachines",
        "LAMBDA": "Microsoft.Web/sites/functions",
        "ECS": "Microsoft.App/containerApps",
        "EKS": "Kubernetes::Deployment",
    },
    "gcp": {
        "VPC": "compute.googleapis.com/Network",
        "SUBNET": "compute.googleapis.com/Subnetwork",
        "K8S": "container.googleapis.com/Cluster",
        "NAMESPACE": "Kubernetes::Namespace",
        "EC2": "compute.googleapis.com/Instance",
        "LAMBDA": "cloudfunctions.googleapis.com/Function",
        "ECS": "run.googleapis.com/Service",
        "EKS": "Kubernetes::Deployment",
    },
}


class _Resources:
    """Builds one collection's resource tree, parents before children."""

    def __init__(self, gen: Gen, connector: str, collection: Record, stage: str) -> None:
        self.gen, self.connector, self.collection, self.stage = gen, connector, collection, stage
        self.records: list[Record] = []
        self.region = _region(gen, connector)

    def _id(self, prefix: str) -> str:
        if self.connector == "aws":
            return f"{prefix}-{self.gen.hex(17)}" if prefix else self.gen.uuid()
        return self.gen.uuid() if self.connector == "azure" else self.gen.digits(19)

    def _native(self, kind: str, name: str, resource_id: str, parent: Record | None) -> str:
        """The vendor's own identifier: an ARN, an Azure resource id, a GCP full resource name, or for
        Kubernetes objects their path in the cluster."""
        where, collection = self.region, self.collection["id"]
        if kind in ("NAMESPACE", "EKS"):
            return f"k8s://{parent['nativeId'].rsplit('/', 1)[-1] if parent else ''}/{name}"
        if self.connector == "aws":
            service, path = {
                "VPC": ("ec2", f"vpc/{resource_id}"), "SUBNET": ("ec2", f"subnet/{resource_id}"),
                "EC2": ("ec2", f"instance/{resource_id}"), "LAMBDA": ("lambda", f"function:{name}"),
                "K8S": ("eks", f"cluster/{name}"), "SERVICES": ("ecs", f"cluster/{name}"),
                "ECS": ("ecs", f"service/{name}"),
            }[kind]  # fmt: skip
            return f"arn:aws:{service}:{where}:{collection}:{path}"
        if self.connector == "azure":
            provider = NATIVE_TYPES["azure"][kind]
            return f"/subscriptions/{collection}/resourceGroups/rg-{self.stage}/providers/{provider}/{name}"
        kind_path = NATIVE_TYPES["gcp"][kind].split("/", 1)
        return f"//{kind_path[0]}/projects/{collection}/locations/{where}/{kind_path[1].lower()}s/{name}"

    def add(
        self, kind: str, name: str, parent: Record | None, *, prefix: str = "", compute: Record | None = None
    ) -> Record:
        gen = self.gen
        resource_id = self._id(prefix)
        created = gen.past(600, 5)
        if compute is None:
            state = "RUNNING" if gen.chance(0.95) else "PENDING"
        else:
            state = gen.weighted(RESOURCE_STATES, (72, 14, 4, 5, 5))
        record = {
            "id": resource_id,
            "name": name,
            "type": "COMPUTE" if compute is not None else CLUSTERS.get(kind, kind),
            "computeType": kind if compute is not None else None,
            "state": state,
            "region": self.region,
            "nativeType": NATIVE_TYPES[self.connector][kind],
            "nativeId": self._native(kind, name, resource_id, parent),
            "parentResource": (
                {"id": parent["id"], "type": parent["type"], "name": parent["name"]} if parent else None
            ),
            "computeMetadata": compute,
            "tags": [{"key": "env", "value": self.stage},
                     {"key": "owner", "value": gen.pick(("platform", "payments", "security", "data"))}],
            "collection": {"id": self.collection["id"]},
            "changeLog": change_log(created, gen.after(created, 60)),
        }  # fmt: skip
        self.records.append(record)
        return record

    def machine(self) -> Record:
        instance_class, cores, memory = self.gen.pick(MACHINES[self.connector])
        system = self.gen.pick(SYSTEMS)
        disk = self.gen.pick((30, 50, 100, 250))
        # homonym: `storage` is Unizo's compute size field, not the storage service
        return {"cpuCores": cores, "memory": memory, "storage": disk, "os": system, "runtime": None,
                "instanceClass": instance_class}  # fmt: skip

    def function(self) -> Record:
        memory = self.gen.pick((0.25, 0.5, 1, 2))
        runtime = self.gen.pick(RUNTIMES)
        # homonym: `storage` is Unizo's compute size field, not the storage service
        return {"cpuCores": 1, "memory": memory, "storage": 0.5, "os": None, "runtime": runtime,
                "instanceClass": None}  # fmt: skip

    def container(self) -> Record:
        # homonym: `storage` is Unizo's compute size field, not the storage service
        return {"cpuCores": self.gen.pick((0.5, 1, 2)), "memory": self.gen.pick((1, 2, 4)), "storage": 20,
                "os": "Linux", "runtime": "containerd", "instanceClass": None}  # fmt: skip

    def build(self) -> list[Record]:
        gen, stage = self.gen, self.stage
        apps = iter(gen.sample(APPS, len(APPS)))
        vpcs, subnets = [], []
        for network in ("core", "edge"):
            vpcs.append(self.add("VPC", f"{stage}-{network}", None, prefix="vpc"))
            for tier in ("private", "public"):
                subnets.append(self.add("SUBNET", f"{stage}-{network}-{tier}", vpcs[-1], prefix="subnet"))
        for _ in range(gen.number(5, 8)):
            name = f"{stage}-{next(apps, 'vm')}-{gen.number(1, 9)}"
            self.add("EC2", name, gen.pick(subnets), prefix="i", compute=self.machine())
        for index in range(gen.number(2, 4)):
            name = f"{stage}-fn-{gen.pick(('thumbnailer', 'etl', 'notifier', 'cleanup'))}-{index}"
            self.add("LAMBDA", name, subnets[0] if index % 2 else None, compute=self.function())
        cluster = self.add("K8S", f"{stage}-k8s", vpcs[0])
        for namespace in ("apps", "monitoring"):
            space = self.add("NAMESPACE", namespace, cluster)
            for index in range(gen.number(1, 3)):
                self.add("EKS", f"{gen.pick(APPS)}-{index}", space, compute=self.container())
        # Google Cloud's container services (Cloud Run) have no cluster
        services = None if self.connector == "gcp" else self.add("SERVICES", f"{stage}-services", vpcs[0])
        for index in range(gen.number(1, 3)):
            self.add("ECS", f"{stage}-svc-{gen.pick(APPS)}-{index}", services, compute=self.container())
        return self.records


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    integration_id = integration["id"]
    accounts = _accounts(gen, connector, owner)
    tables["infra_accounts"][(integration_id,)] = accounts
    collections = [_collection(gen, connector, owner, accounts[0], stage) for stage in STAGES]
    tables["infra_collections"][(integration_id,)] = collections
    for collection, (stage, _) in zip(collections, STAGES, strict=True):
        scope = (integration_id, collection["id"])
        policies = _policies(gen, connector, owner, collection)
        roles = _roles(gen, connector, owner, collection, policies)
        users = [
            _user(gen, connector, owner, collection, roles, index) for index in range(USERS_PER_COLLECTION)
        ]
        tables["infra_policies"][scope] = policies
        tables["infra_roles"][scope] = roles
        tables["infra_users"][scope] = users
        tables["infra_resources"][scope] = _Resources(gen, connector, collection, stage).build()


# ---- endpoints ------------------------------------------------------------------------------------------

ACCOUNT_SORT_FIELDS = frozenset({"id", "name", "type", "changeLog.createdDateTime"})
COLLECTION_SORT_FIELDS = frozenset({"id", "name", "type", "changeLog.createdDateTime"})
USER_SORT_FIELDS = frozenset(
    {"id", "name", "type", "status", "mfaEnabled", "lastLogin", "changeLog.createdDateTime"}
)
RESOURCE_SORT_FIELDS = frozenset(
    {"id", "name", "type", "computeType", "state", "region", "changeLog.createdDateTime"}
)
POLICY_SORT_FIELDS = frozenset({"id", "name", "type", "attachmentCount", "changeLog.createdDateTime"})
ROLE_SORT_FIELDS = frozenset({"id", "name", "type", "lastUsed", "changeLog.createdDateTime"})

ACCOUNTS = Resource(
    kind="infra_accounts",
    path="/infra/accounts",
    label="account",
    sortable=ACCOUNT_SORT_FIELDS,
    item_param="accountId",
)
COLLECTIONS = Resource(
    kind="infra_collections",
    path="/infra/collections",
    label="collection",
    sortable=COLLECTION_SORT_FIELDS,
    item_param="collectionId",
)


def _child(kind: str, segment: str, label: str, sortable: frozenset[str], **extra: Any) -> Resource:
    return Resource(
        kind=kind,
        path=f"/infra/collections/{{collectionId}}/{segment}",
        label=label,
        sortable=sortable,
        item_param=f"{label}Id",
        parent=COLLECTIONS,
        **extra,
    )


USERS = _child("infra_users", "users", "user", USER_SORT_FIELDS)
RESOURCES = _child(
    "infra_resources",
    "resources",
    "resource",
    RESOURCE_SORT_FIELDS,
    filters={"parentResourceId": equals("parentResource.id")},
)
POLICIES_RESOURCE = _child("infra_policies", "policies", "policy", POLICY_SORT_FIELDS)
ROLES_RESOURCE = _child("infra_roles", "roles", "role", ROLE_SORT_FIELDS)

SERVICE = SandboxService(
    name="infra",
    category="INFRA",
    connectors=(("aws", "Amazon Web Services"), ("azure", "Microsoft Azure"), ("gcp", "Google Cloud")),
    path_prefixes=("infra",),
    generate=generate,
    probe="/infra/accounts",
    resources=(ACCOUNTS, COLLECTIONS, USERS, RESOURCES, POLICIES_RESOURCE, ROLES_RESOURCE),
)
