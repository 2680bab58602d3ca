"""The source code management tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import (
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

ORGS = "/scm/organizations"
ORG = ORGS + "/{organization_id}"
REPOS = ORG + "/repositories"
REPO = REPOS + "/{repository_id}"
PRS = REPO + "/pullRequests"
PR = PRS + "/{pull_request_id}"

ORG_ID = path_param("organization_id", "From scm_list_organizations.")
REPO_ID = path_param("repository_id", "From scm_list_repositories.")
BRANCH_ID = path_param("branch_id", "From scm_list_branches.")
COMMIT_ID = path_param("commit_id", "From scm_list_commits.")
PR_ID = path_param("pull_request_id", "From scm_list_pull_requests.")

PR_STATES = ("opened", "closed", "merged")
VISIBILITIES = ("public", "private")


def _pr_fields(*, create: bool) -> tuple[Param, ...]:
    """The pull request body: required on create, all optional on update."""
    need = {"required": True} if create else {}
    return (
        body_param("title", "string", "Pull request title.", **need),
        body_param("source", "string", "Source branch (the changes).", **need),
        body_param("target", "string", "Target branch to merge into.", **need),
        body_param("description", "string", "Pull request body (Markdown)."),
        body_param(
            "state",
            "string",
            "Pull request state.",
            enum=PR_STATES,
            **({"default": "opened"} if create else {}),
        ),
        body_param(
            "visibility",
            "string",
            "Pull request visibility.",
            enum=VISIBILITIES,
            **({"default": "private"} if create else {}),
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
            title="List organizations",
        ),
        get_tool("scm_get_organization", "Get one organization.", ORG, ORG_ID, title="Get organization"),
        list_tool(
            "scm_list_repositories",
            "List the repositories of an organization.",
            REPOS,
            ORG_ID,
            title="List repositories",
        ),
        get_tool(
            "scm_get_repository",
            "Get one repository (default branch, language, visibility, URLs).",
            REPO,
            ORG_ID,
            REPO_ID,
            title="Get repository",
        ),
        list_tool(
            "scm_list_branches",
            "List the branches of a repository.",
            REPO + "/branches",
            ORG_ID,
            REPO_ID,
            title="List branches",
        ),
        get_tool(
            "scm_get_branch",
            "Get one branch (head commit, author, dates).",
            REPO + "/branches/{branch_id}",
            ORG_ID,
            REPO_ID,
            BRANCH_ID,
            title="Get branch",
        ),
        list_tool(
            "scm_list_commits",
            "List the commits of a repository.",
            REPO + "/commits",
            ORG_ID,
            REPO_ID,
            title="List commits",
        ),
        get_tool(
            "scm_get_commit",
            "Get one commit (author, parents, URL).",
            REPO + "/commits/{commit_id}",
            ORG_ID,
            REPO_ID,
            COMMIT_ID,
            title="Get commit",
        ),
        list_tool(
            "scm_list_pull_requests",
            "List the pull requests of a repository.",
            PRS,
            ORG_ID,
            REPO_ID,
            title="List pull requests",
        ),
        get_tool(
            "scm_get_pull_request",
            "Get one pull request.",
            PR,
            ORG_ID,
            REPO_ID,
            PR_ID,
            title="Get pull request",
        ),
        ToolSpec(
            "scm_create_pull_request",
            "Open a pull request from a source branch into a target branch.",
            "POST",
            PRS,
            Permission.WRITE,
            (ORG_ID, REPO_ID, *_pr_fields(create=True)),
            title="Create pull request",
        ),
        ToolSpec(
            "scm_update_pull_request",
            "Change a pull request's title, description, branches, state or visibility.",
            "PUT",
            PR,
            Permission.WRITE,
            (ORG_ID, REPO_ID, PR_ID, *_pr_fields(create=False)),
            title="Update pull request",
        ),
    ),
)
