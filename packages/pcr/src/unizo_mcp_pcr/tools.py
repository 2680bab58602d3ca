"""The packages and container registries tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import Fields, ServiceSpec, get_tool, list_tool, path_param

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
ORGANIZATION = Fields(summary=("id", "name"), more=("description", "type", "url", "avatarUrl", "changeLog"))
REPOSITORY = Fields(
    summary=("id", "name", "type", "visibility", "lastPushed"),
    more=(
        "fullName", "description", "url", "downloadCount", "starCount", "artifactCount", "organization",
        "changeLog",
    ),
)  # fmt: skip
ARTIFACT = Fields(
    summary=("id", "type", "tags", "pushedAt", "size"),
    more=("name", "digest", "mediaType", "platforms", "repository", "changeLog"),
)
TAG = Fields(
    summary=("id", "name", "type", "pushedAt"), more=("digest", "artifact", "repository", "changeLog")
)

REPOSITORIES = "/pcr/{organization_id}/repositories"
REPOSITORY_PATH = REPOSITORIES + "/{repository_id}"
ARTIFACTS = REPOSITORY_PATH + "/artifacts"
ARTIFACT_PATH = ARTIFACTS + "/{artifact_id}"

# Ids need no description: each comes from the list tool of the same name (pcr_list_repositories...).
# The organization may be left out when the integration has only one.
ORG_ID = path_param("organization_id", resolvable=True)
REPOSITORY_ID = path_param("repository_id")
ARTIFACT_ID = path_param("artifact_id")

SERVICE = ServiceSpec(
    name="pcr",
    title="Packages and container registries",
    description=(
        "Packages and container registries through Unizo: the organizations (namespaces) of a registry, "
        "their repositories, the artifacts pushed to each (images, packages, attached blobs) and their tags."
    ),
    package="unizo-mcp-pcr",
    version=__version__,
    connectors=("docker_hub", "github_container_registry"),
    tools=(
        list_tool(
            "pcr_list_organizations",
            "List the registry's organizations (namespaces).",
            "/pcr/organizations",
            fields=ORGANIZATION,
        ),
        get_tool(
            "pcr_get_organization_details",
            "Get one organization.",
            "/pcr/organizations/{organization_id}",
            ORG_ID,
        ),
        list_tool(
            "pcr_list_repositories",
            "List an organization's repositories (type, visibility, last push).",
            REPOSITORIES,
            ORG_ID,
            fields=REPOSITORY,
        ),
        get_tool(
            "pcr_get_repository_details",
            "Get one repository: URL, downloads, artifact count.",
            REPOSITORY_PATH,
            ORG_ID,
            REPOSITORY_ID,
        ),
        list_tool(
            "pcr_list_artifacts",
            "List a repository's artifacts, newest first (type, tags, push time, size).",
            ARTIFACTS,
            ORG_ID,
            REPOSITORY_ID,
            fields=ARTIFACT,
        ),
        get_tool(
            "pcr_get_artifact_details",
            "Get one artifact: digest, media type, platforms, tags.",
            ARTIFACT_PATH,
            ORG_ID,
            REPOSITORY_ID,
            ARTIFACT_ID,
        ),
        list_tool(
            "pcr_list_tags",
            "List the tags pointing at an artifact (semantic versions, branches, latest).",
            ARTIFACT_PATH + "/tags",
            ORG_ID,
            REPOSITORY_ID,
            ARTIFACT_ID,
            fields=TAG,
        ),
        get_tool(
            "pcr_get_tag_details",
            "Get one tag with its digest.",
            ARTIFACT_PATH + "/tags/{tag_id}",
            ORG_ID,
            REPOSITORY_ID,
            ARTIFACT_ID,
            path_param("tag_id"),
        ),
    ),
)
