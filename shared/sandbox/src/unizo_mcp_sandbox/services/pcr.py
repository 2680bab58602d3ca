"""Packages and container registries: seeded organizations (Docker Hub namespaces, GitHub organizations),
their repositories, the artifacts pushed to each (image manifests, packages, attached blobs such as SBOMs)
and the tags pointing at each artifact, served read-only as Unizo's are.
"""

from __future__ import annotations

import hashlib

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.data.common import BASE_TIME, Gen, Record, Tables, change_log, slug
from unizo_mcp_sandbox.resources import Resource
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso, parse_iso

ORGANIZATIONS_PER_INTEGRATION = 2
REPOSITORY_TYPES = ("container", "package", "generic")
ARTIFACT_TYPES = ("container", "package", "blob")
TAG_TYPES = ("tag", "branch", "semantic")
DAY = 86_400.0

# (name, description, kind): container images mostly, a package and a generic repository
REPOSITORIES = (
    ("api-gateway", "Edge gateway and auth filters", "container"),
    ("threat-intel-worker", "Enriches indicators from commercial feeds", "container"),
    ("web-portal", "Customer-facing security portal", "container"),
    ("sensor-ingest", "Receives endpoint telemetry", "container"),
    ("detection-rules", "Sigma and YARA rule bundles", "generic"),
    ("python-sdk", "Python client for the platform API", "package"),
    ("base-images", "Hardened base images for every service", "container"),
)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPES = {
    "package": "application/vnd.pypi.simple.v1+json",
    "generic": "application/vnd.oci.image.layer.v1.tar+gzip",
    "blob": "application/spdx+json",
}
PLATFORMS = (("linux/amd64",), ("linux/amd64", "linux/arm64"), ("linux/arm64",))
BRANCHES = ("main", "develop")


def _organizations(gen: Gen, connector: str, owner: Organization) -> list[Record]:
    base = slug(owner.name)
    docker = connector == "docker_hub"
    # Docker Hub namespaces have no dashes
    names = (base.replace("-", ""), base.replace("-", "") + "labs") if docker else (base, base + "-oss")
    organizations = []
    for index, name in enumerate(names[:ORGANIZATIONS_PER_INTEGRATION]):
        created = gen.past(1500, 400)
        url = f"https://hub.docker.com/u/{name}" if docker else f"https://github.com/orgs/{name}/packages"
        organizations.append(
            {
                "id": gen.hex(32) if docker else gen.digits(8),
                "name": name,
                "description": f"{owner.name} {'open-source images' if index else 'images and packages'}",
                "type": "organization",
                "url": url,
                "avatarUrl": None if docker else f"https://avatars.githubusercontent.com/u/{gen.digits(8)}",
                "changeLog": change_log(created, gen.after(created, 300)),
            }
        )
    return organizations


def _digest(gen: Gen) -> str:
    return "sha256:" + hashlib.sha256(gen.hex(32).encode()).hexdigest()


def _shape(gen: Gen, kind: str) -> tuple[str, str, int, list[str]]:
    """(artifact type, media type, size in bytes, platforms) of one release of a `kind` repository."""
    if kind == "package":
        return "package", MEDIA_TYPES["package"], gen.number(40_000, 900_000), []
    if kind == "generic":
        return "blob", MEDIA_TYPES["generic"], gen.number(200_000, 9_000_000), []
    multi = gen.chance(0.5)
    size = gen.number(8, 400) * 1_048_576 + gen.number(0, 1_048_575)
    return (
        "container",
        OCI_INDEX if multi else OCI_MANIFEST,
        size,
        list(PLATFORMS[1] if multi else gen.pick(PLATFORMS)),
    )


def _tag_names(gen: Gen, kind: str, version: str, newest: bool, second_newest: bool) -> list[tuple[str, str]]:
    names = [(version, "semantic")]
    if newest:
        names.append(("latest", "tag"))
        if kind == "container":
            names.append((gen.pick(BRANCHES), "branch"))
    elif kind == "container" and second_newest and gen.chance(0.5):
        names.append(("stable", "tag"))
    return names


def _artifacts(gen: Gen, repository: Record) -> tuple[list[Record], dict[str, list[Record]]]:
    """(artifacts newest first, tags per artifact id): each release an artifact, evenly spread since the
    repository was created; the newest carries `latest` (and, for images, a branch tag); an image may carry
    an attached SBOM (a blob artifact without tags)."""
    kind = repository["type"]
    releases = gen.number(3, 6)
    created = parse_iso(repository["changeLog"]["createdDateTime"])
    step = (BASE_TIME - DAY - created) / releases
    major, minor, patch = gen.number(0, 3), gen.number(0, 9), gen.number(0, 4)
    reference = {"id": repository["id"], "name": repository["name"]}
    artifacts: list[Record] = []
    tags: dict[str, list[Record]] = {}
    for release in range(releases):
        moment = float(int(created + step * (release + gen.rng.uniform(0.2, 0.9))))
        minor, patch = (minor + 1, 0) if gen.chance(0.3) else (minor, patch + gen.number(1, 3))
        version = f"{major}.{minor}.{patch}"
        digest = _digest(gen)
        artifact_type, media_type, size, platforms = _shape(gen, kind)
        names = _tag_names(gen, kind, version, release == releases - 1, release == releases - 2)
        artifact_id = digest[7:23]
        artifact: Record = {
            "id": artifact_id,
            "name": f"{repository['fullName']}:{version}",
            "type": artifact_type,
            "digest": digest,
            "mediaType": media_type,
            "size": size,
            "platforms": platforms,
            "tags": [name for name, _ in names],
            "pushedAt": iso(moment),
            "repository": reference,
            "changeLog": change_log(moment, moment),
        }
        artifacts.append(artifact)
        tags[artifact_id] = [
            {
                "id": gen.hex(16),
                "name": name,
                "type": tag_type,
                "digest": digest,
                "pushedAt": iso(moment),
                "artifact": {"id": artifact_id},
                "repository": reference,
                "changeLog": change_log(moment, moment),
            }
            for name, tag_type in names
        ]
        if kind == "container" and gen.chance(0.35):  # an SBOM attached to the image (an OCI referrer)
            sbom = _digest(gen)
            artifacts.append(
                {
                    **artifact,
                    "id": sbom[7:23],
                    "name": f"{repository['fullName']}:sha256-{digest[7:19]}.sbom",
                    "type": "blob",
                    "digest": sbom,
                    "mediaType": MEDIA_TYPES["blob"],
                    "size": gen.number(20_000, 400_000),
                    "platforms": [],
                    "tags": [],
                }
            )
            tags[sbom[7:23]] = []
    artifacts.reverse()  # newest first
    return artifacts, tags


def _repository(gen: Gen, connector: str, organization: Record, spec: tuple[str, str, str]) -> Record:
    name, description, kind = spec
    docker = connector == "docker_hub"
    owner = organization["name"]
    if docker:
        url = f"https://hub.docker.com/r/{owner}/{name}"
    else:
        url = (
            f"https://github.com/orgs/{owner}/packages/{'pypi' if kind == 'package' else 'container'}/{name}"
        )
    public = owner.endswith(("labs", "oss")) or gen.chance(0.3)
    created = gen.past(900, 120)
    return {
        "id": gen.hex(24) if docker else gen.digits(9),
        "name": name,
        "fullName": f"{owner}/{name}",
        "description": description,
        "type": kind,
        "visibility": "public" if public else "private",
        "url": url,
        "downloadCount": gen.number(50, 2_000_000) if docker else None,
        "starCount": gen.number(0, 400) if docker else None,
        "artifactCount": 0,
        "lastPushed": None,
        "organization": {"id": organization["id"], "name": owner},
        "changeLog": change_log(created, created),
    }


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    integration_id = integration["id"]
    organizations = _organizations(gen, connector, owner)
    tables["pcr_organizations"][(integration_id,)] = organizations
    # Docker Hub serves images only; GitHub's registry also serves packages
    specs = [spec for spec in REPOSITORIES if connector != "docker_hub" or spec[2] != "package"]
    for organization in organizations:
        repositories = []
        for spec in gen.sample(specs, gen.number(4, 5)):
            repository = _repository(gen, connector, organization, spec)
            artifacts, tags = _artifacts(gen, repository)
            created = parse_iso(repository["changeLog"]["createdDateTime"])
            repository["artifactCount"] = len(artifacts)
            repository["lastPushed"] = artifacts[0]["pushedAt"]
            repository["changeLog"] = change_log(created, parse_iso(artifacts[0]["pushedAt"]))
            scope = (integration_id, organization["id"], repository["id"])
            tables["pcr_artifacts"][scope] = artifacts
            for artifact_id, records in tags.items():
                tables["pcr_tags"][(*scope, artifact_id)] = records
            repositories.append(repository)
        tables["pcr_repositories"][(integration_id, organization["id"])] = repositories


# ---- endpoints ------------------------------------------------------------------------------------------

ORGANIZATION_SORT_FIELDS = frozenset({"id", "name", "changeLog.createdDateTime"})
REPOSITORY_SORT_FIELDS = frozenset(
    {"id", "name", "type", "visibility", "artifactCount", "lastPushed", "changeLog.createdDateTime"}
)
ARTIFACT_SORT_FIELDS = frozenset({"id", "name", "type", "size", "pushedAt"})
TAG_SORT_FIELDS = frozenset({"id", "name", "type", "pushedAt"})

ORGANIZATIONS = Resource(
    kind="pcr_organizations",
    path="/pcr/organizations",
    label="organization",
    sortable=ORGANIZATION_SORT_FIELDS,
    item_param="organizationId",
)
REPOSITORIES_RESOURCE = Resource(
    kind="pcr_repositories",
    path="/pcr/{organizationId}/repositories",
    label="repository",
    sortable=REPOSITORY_SORT_FIELDS,
    item_param="repositoryId",
    parent=ORGANIZATIONS,
)
ARTIFACTS = Resource(
    kind="pcr_artifacts",
    path="/pcr/{organizationId}/repositories/{repositoryId}/artifacts",
    label="artifact",
    sortable=ARTIFACT_SORT_FIELDS,
    item_param="artifactId",
    parent=REPOSITORIES_RESOURCE,
)
TAGS = Resource(
    kind="pcr_tags",
    path="/pcr/{organizationId}/repositories/{repositoryId}/artifacts/{artifactId}/tags",
    label="tag",
    sortable=TAG_SORT_FIELDS,
    item_param="tagId",
    parent=ARTIFACTS,
)

SERVICE = SandboxService(
    name="pcr",
    category="PCR",
    connectors=(("docker_hub", "Docker Hub"), ("github_container_registry", "GitHub Container Registry")),
    path_prefixes=("pcr",),
    generate=generate,
    probe="/pcr/organizations",
    # Fixed segments first: /pcr/organizations/{id} would otherwise match /pcr/{organizationId}/repositories.
    resources=(ORGANIZATIONS, REPOSITORIES_RESOURCE, ARTIFACTS, TAGS),
)
