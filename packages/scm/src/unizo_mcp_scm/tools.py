"""The source code management tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import (
    Fields,
    Param,
    Permission,
    ServiceSpec,
    ToolSpec,
    body_param,
    get_tool,
    list_tool,
    path_param,
)

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
ORGANIZATION = Fields(
    summary=("id", "login", "name"),
    more=(
        "type", "description", "url", "twoFactorRequirementEnabled", "membersCanCreatePublicRepositories",
        "avatarUrl", "createdAt", "updatedAt",
    ),
)  # fmt: skip
REPOSITORY = Fields(
    summary=("id", "name", "language", "private", "archived", "updatedAt"),
    more=(
        "fullName", "description", "download", "size", "organization", "url", "defaultBranch", "createdAt",
        "changeLog",
    ),
)  # fmt: skip
BRANCH = Fields(
    summary=("id", "name", "sha", "protected", "committerDate"),
    more=("url", "download", "enabled", "authorName", "authorDate", "committerName"),
)
COMMIT = Fields(
    summary=("id", "message", "author.name", "author.date"),
    more=("sha", "url", "author", "committer", "parents"),
)
PULL_REQUEST = Fields(
    summary=("id", "number", "title", "state", "source", "target", "creator.login"),
    more=("name", "description", "nodeId", "htmlUrl", "creator", "count", "visibility", "changeLog"),
)


ORGS = "/scm/organizations"
ORG = ORGS + "/{organization_id}"
REPOS = ORG + "/repositories"
REPO = REPOS + "/{repository_id}"
PRS = REPO + "/pullRequests"
PR = PRS + "/{pull_request_id}"

# Ids need no description: each comes from the list tool of the same name (scm_list_repositories...).
ORG_ID = path_param("organization_id", resolvable=True)  # may be left out when there is only one
REPO_ID = path_param("repository_id")
BRANCH_ID = path_param("branch_id", "Branch name; may contain '/'.", slash_ok=True)
COMMIT_ID = path_param("commit_id")
PR_ID = path_param("pull_request_id")

PR_STATES = ("opened", "closed", "merged")
VISIBILITIES = ("public", "private")


def _pr_fields(*, create: bool) -> tuple[Param, ...]:
    """The pull request body: required on create, all optional on update (no defaults: a PUT sends
    only what the model gave). Names and enums that explain themselves carry no description."""
    need = {"required": True} if create else {}
    return (
        body_param("title", "string", "", **need),
        body_param("source", "string", "Branch with the changes.", **need),
        body_param("target", "string", "Branch to merge into.", **need),
        body_param("description", "string", "Markdown."),
        body_param("state", "string", "", enum=PR_STATES, **({"default": "opened"} if create else {})),
        body_param(
            "visibility", "string", "", enum=VISIBILITIES, **({"default": "private"} if create else {})
        ),
    )


SERVICE = ServiceSpec(
    name="scm",
    title="Source code management",
    description=(
        "Source code management through Unizo: organizations, repositories, branches and commits "
        "of a Git hosting vendor, and its pull requests, which can be created and updated."
    ),
    package="unizo-mcp-scm",
    version=__version__,
    connectors=("github", "gitlab", "bitbucket", "azure_devops"),
    tools=(
        list_tool(
            "scm_list_organizations",
            "List organizations (accounts, groups, workspaces) visible to the integration.",
            ORGS,
            fields=ORGANIZATION,
        ),
        get_tool("scm_get_organization", "Get one organization.", ORG, ORG_ID),
        list_tool(
            "scm_list_repositories",
            "List the repositories of an organization.",
            REPOS,
            ORG_ID,
            fields=REPOSITORY,
        ),
        get_tool(
            "scm_get_repository",
            "Get one repository (default branch, language, visibility, URLs).",
            REPO,
            ORG_ID,
            REPO_ID,
        ),
        list_tool(
            "scm_list_branches",
            "List the branches of a repository.",
            REPO + "/branches",
            ORG_ID,
            REPO_ID,
            fields=BRANCH,
        ),
        get_tool(
            "scm_get_branch",
            "Get one branch (head commit, author, dates).",
            REPO + "/branches/{branch_id}",
            ORG_ID,
            REPO_ID,
            BRANCH_ID,
        ),
        list_tool(
            "scm_list_commits",
            "List the commits of a repository.",
            REPO + "/commits",
            ORG_ID,
            REPO_ID,
            fields=COMMIT,
        ),
        get_tool(
            "scm_get_commit",
            "Get one commit (author, parents, URL).",
            REPO + "/commits/{commit_id}",
            ORG_ID,
            REPO_ID,
            COMMIT_ID,
        ),
        list_tool(
            "scm_list_pull_requests",
            "List the pull requests of a repository.",
            PRS,
            ORG_ID,
            REPO_ID,
            fields=PULL_REQUEST,
        ),
        get_tool(
            "scm_get_pull_request",
            "Get one pull request.",
            PR,
            ORG_ID,
            REPO_ID,
            PR_ID,
        ),
        ToolSpec(
            "scm_create_pull_request",
            "Open a pull request from a source branch into a target branch.",
            "POST",
            PRS,
            Permission.WRITE,
            (ORG_ID, REPO_ID, *_pr_fields(create=True)),
        ),
        ToolSpec(
            "scm_update_pull_request",
            "Change a pull request; fields not given keep their values (it is read and sent whole).",
            "PUT",
            PR,
            Permission.WRITE,
            (ORG_ID, REPO_ID, PR_ID, *_pr_fields(create=False)),
            read_before_write=True,
        ),
    ),
)
