"""SCM: organizations, repositories, branches, commits and pull requests (GitHub- and GitLab-like);
pull requests can be created and updated too."""

from __future__ import annotations

import secrets
import time

from aiohttp import web

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.context import caller, sandbox_of
from unizo_mcp_sandbox.data.common import Gen, Record, Scope, Tables, change_log, slug
from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.resources import Resource, Route, locate, locate_item
from unizo_mcp_sandbox.routes.common import record_response
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.validation import Field, json_body, one_of, text, validate

REPOSITORIES_PER_ORGANIZATION = 5
COMMITS_PER_REPOSITORY = 16
PULL_REQUESTS_PER_REPOSITORY = 7

ORGANIZATION_SUFFIXES = ("", "-platform", "-labs")
REPOSITORY_SPECS = (
    ("detection-rules", "Sigma and YARA rules for the SOC", "YARA"),
    ("endpoint-connector", "Streams endpoint telemetry into the data lake", "Go"),
    ("threat-intel-pipeline", "Enriches IOCs from commercial and open feeds", "Python"),
    ("web-portal", "Customer-facing security portal", "TypeScript"),
    ("cloud-terraform", "Terraform modules for the AWS landing zone", "HCL"),
    ("api-gateway", "Edge gateway and auth filters", "Go"),
    ("mobile-app", "iOS and Android companion app", "Kotlin"),
    ("oncall-runbooks", "Runbooks and automation for on-call", "Python"),
    ("sso-bridge", "SAML/OIDC bridge for legacy apps", "Java"),
    ("docs", "Engineering handbook", "MDX"),
)
BRANCH_NAMES = (
    "develop", "release-2.4", "release-2.5", "feature-sso-login", "feature-rate-limits", "fix-token-refresh",
    "fix-null-pointer-on-empty-feed", "chore-bump-deps", "hotfix-cve-2026-1337",
)  # fmt: skip
COMMIT_MESSAGES = (
    "Fix race in token refresh", "Add retry with jitter to feed fetcher", "Bump golang.org/x/net to v0.31.0",
    "Refactor detection loader", "Add unit tests for parser edge cases", "Pin base image digest",
    "Handle empty pages from upstream API", "Document the release process", "Remove dead feature flag",
    "Tighten CSP headers", "Speed up CI with cache", "Rotate signing key reference",
)  # fmt: skip
PR_TITLES = (
    "Add SSO login flow", "Rate-limit the public API", "Fix crash on empty alert batch",
    "Upgrade to Python 3.12",
    "Add Sigma rule for LSASS access", "Move secrets to the vault", "Improve pagination performance",
    "Add OpenTelemetry traces", "Drop support for TLS 1.1", "Parallelise feed enrichment",
)  # fmt: skip

ORGANIZATION_SORT_FIELDS = frozenset({"id", "login", "name", "type", "createdAt", "updatedAt"})
REPOSITORY_SORT_FIELDS = frozenset(
    {"id", "name", "fullName", "language", "size", "private", "archived", "createdAt", "updatedAt"}
)
BRANCH_SORT_FIELDS = frozenset({"id", "name", "authorName", "authorDate", "committerName", "committerDate"})
COMMIT_SORT_FIELDS = frozenset({"id", "sha", "message", "author.name", "author.date", "committer.date"})
PULL_REQUEST_SORT_FIELDS = frozenset(
    {
        "id",
        "number",
        "title",
        "state",
        "visibility",
        "changeLog.createdDateTime",
        "changeLog.lastUpdatedDateTime",
    }
)


def _hosts(connector: str) -> tuple[str, str]:
    return (
        ("https://github.com", "https://avatars.githubusercontent.com/u")
        if connector == "github"
        else (
            "https://gitlab.com",
            "https://gitlab.com/uploads/-/system/group/avatar",
        )
    )


def _organization(gen: Gen, connector: str, owner: Organization, suffix: str) -> Record:
    web, avatars = _hosts(connector)
    org_id = gen.digits(8)
    login = slug(owner.name) + suffix
    created = gen.past(1500, 400)
    return {
        "id": org_id,
        "type": "Organization" if connector == "github" else "Group",
        "login": login,
        "name": owner.name + (f" {suffix.strip('-').title()}" if suffix else ""),
        "description": f"{owner.name} {suffix.strip('-') or 'main'} repositories",
        "url": f"{web}/{login}",
        "twoFactorRequirementEnabled": True,
        "membersCanCreatePublicRepositories": gen.chance(0.2),
        "avatarUrl": f"{avatars}/{org_id}?v=4",
        "createdAt": iso(created),
        "updatedAt": iso(gen.after(created, 600)),
    }


def _person(gen: Gen) -> tuple[str, str]:
    first, last = gen.person()
    return f"{first} {last}", f"{first.lower()}.{last.lower()}@example.com"


def _repository(gen: Gen, connector: str, organization: Record, spec: tuple[str, str, str]) -> Record:
    name, description, language = spec
    web, _ = _hosts(connector)
    full_name = f"{organization['login']}/{name}"
    created = gen.past(900, 100)
    updated = gen.after(created, 900)
    private = gen.chance(0.7)
    return {
        "id": gen.digits(9),
        "name": name,
        "fullName": full_name,
        "description": description,
        "language": language,
        "download": {"url": f"{web}/{full_name}/archive/refs/heads/main.zip", "type": "ONE_STEP_DOWNLOAD"},
        "size": gen.number(120, 250_000),
        "private": private,
        "archived": gen.chance(0.1),
        "organization": {"id": organization["id"], "login": organization["login"]},
        "url": f"{web}/{full_name}",
        "defaultBranch": "main",
        "createdAt": iso(created),
        "updatedAt": iso(updated),
        "changeLog": change_log(created, updated),
    }


def _commits(gen: Gen, repository: Record) -> list[Record]:
    commits: list[Record] = []
    when = gen.past(200, 100)
    for _ in range(COMMITS_PER_REPOSITORY):
        sha = gen.hex(40)
        name, email = _person(gen)
        when = gen.after(when, 6)
        parents = (
            [{"sha": commits[-1]["sha"], "url": commits[-1]["url"], "htmlUrl": commits[-1]["url"]}]
            if (commits)
            else []
        )
        commits.append(
            {
                "id": sha,
                "sha": sha,
                "url": f"{repository['url']}/commit/{sha}",
                "message": gen.pick(COMMIT_MESSAGES),
                "author": {"name": name, "email": email, "date": iso(when)},
                "committer": {"name": name, "email": email, "date": iso(when)},
                "parents": parents,
            }
        )
    commits.reverse()  # newest first, like `git log`
    return commits


def _branches(gen: Gen, repository: Record, commits: list[Record]) -> list[Record]:
    names = ["main", *gen.sample(BRANCH_NAMES, gen.number(3, 6))]
    branches = []
    for name in names:
        commit = commits[0] if name == "main" else gen.pick(commits)
        author = commit["author"]
        branches.append(
            {
                "id": name,
                "name": name,
                "sha": commit["sha"],
                "url": f"{repository['url']}/tree/{name}",
                "download": {
                    "url": f"{repository['url']}/archive/refs/heads/{name}.zip",
                    "type": "ONE_STEP_DOWNLOAD",
                },
                "enabled": True,
                "protected": name == "main" or name.startswith("release"),
                "authorName": author["name"],
                "authorDate": author["date"],
                "committerName": author["name"],
                "committerDate": author["date"],
            }
        )
    return branches


def _pull_requests(gen: Gen, repository: Record, branches: list[Record]) -> list[Record]:
    pulls = []
    sources = [branch["name"] for branch in branches if branch["name"] != "main"]
    for number in range(1, PULL_REQUESTS_PER_REPOSITORY + 1):
        title = gen.pick(PR_TITLES)
        created = gen.past(120)
        login = slug(" ".join(gen.person()))
        pulls.append(
            {
                "id": gen.digits(10),
                "number": number,
                "name": title,
                "title": title,
                "description": f"This change: {title.lower()}.\n\nTested locally and in staging.",
                "state": gen.weighted(("opened", "closed", "merged"), (45, 15, 40)),
                "nodeId": "PR_kwDO" + gen.hex(12),
                "htmlUrl": f"{repository['url']}/pull/{number}",
                "creator": {"id": gen.digits(8), "login": login},
                "count": gen.number(1, 24),
                "visibility": "private" if repository["private"] else "public",
                "source": gen.pick(sources),
                "target": "main",
                "changeLog": change_log(created, gen.after(created, 20)),
            }
        )
    pulls.sort(key=lambda pull: pull["number"], reverse=True)
    return pulls


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    integration_id = integration["id"]
    organizations = [_organization(gen, connector, owner, suffix) for suffix in ORGANIZATION_SUFFIXES]
    tables["scm_organizations"][(integration_id,)] = organizations
    for organization in organizations:
        specs = gen.sample(REPOSITORY_SPECS, REPOSITORIES_PER_ORGANIZATION)
        repositories = [_repository(gen, connector, organization, spec) for spec in specs]
        tables["repositories"][(integration_id, organization["id"])] = repositories
        for repository in repositories:
            scope = (integration_id, organization["id"], repository["id"])
            commits = _commits(gen, repository)
            branches = _branches(gen, repository, commits)
            tables["commits"][scope] = commits
            tables["branches"][scope] = branches
            tables["pull_requests"][scope] = _pull_requests(gen, repository, branches)


# ---- endpoints ------------------------------------------------------------------------------------------

R = "/scm/organizations/{organizationId}/repositories/{repositoryId}"

ORGANIZATIONS = Resource(
    kind="scm_organizations",
    path="/scm/organizations",
    label="organization",
    sortable=ORGANIZATION_SORT_FIELDS,
    item_param="organizationId",
)
REPOSITORIES = Resource(
    kind="repositories",
    path="/scm/organizations/{organizationId}/repositories",
    label="repository",
    sortable=REPOSITORY_SORT_FIELDS,
    item_param="repositoryId",
    parent=ORGANIZATIONS,
)
BRANCHES = Resource(
    kind="branches",
    path=R + "/branches",
    label="branch",
    sortable=BRANCH_SORT_FIELDS,
    item_param="branchId",
    parent=REPOSITORIES,
)
COMMITS = Resource(
    kind="commits",
    path=R + "/commits",
    label="commit",
    sortable=COMMIT_SORT_FIELDS,
    item_param="commitId",
    parent=REPOSITORIES,
)
PULL_REQUESTS = Resource(
    kind="pull_requests",
    path=R + "/pullRequests",
    label="pull request",
    sortable=PULL_REQUEST_SORT_FIELDS,
    item_param="pullRequestId",
    parent=REPOSITORIES,
)

PR_STATES = ("opened", "closed", "merged")
VISIBILITIES = ("public", "private")
PR_FIELDS = (
    Field("title", text(1, 256), required=True),
    Field("source", text(1, 255), required=True),
    Field("target", text(1, 255), required=True),
    Field("description", text(0, 65_536)),
    Field("state", one_of(*PR_STATES)),
    Field("visibility", one_of(*VISIBILITIES)),
)
PR_UPDATE_FIELDS = tuple(Field(field.name, field.check) for field in PR_FIELDS)


def _check_branches(request: web.Request, scope: Scope, fields: dict[str, str]) -> None:
    branches = {branch["name"] for branch in sandbox_of(request).records.items(BRANCHES.kind, scope)}
    for name in ("source", "target"):
        if name in fields and fields[name] not in branches:
            raise invalid(name, f"branch '{fields[name]}' does not exist in this repository")


def _event_data(pull: Record, repository: Record) -> Record:
    return {**pull, "repository": {"id": repository["id"], "fullName": repository["fullName"]}}


async def create_pull_request(request: web.Request) -> web.Response:
    location = locate(request, PULL_REQUESTS)
    repository, scope = location.owner, location.scope
    fields = validate(await json_body(request), PR_FIELDS)
    _check_branches(request, scope, fields)
    if fields["source"] == fields["target"]:
        raise invalid("target", "source and target must be different branches")
    sandbox = sandbox_of(request)
    existing = sandbox.records.items(PULL_REQUESTS.kind, scope)
    number = max((pull["number"] for pull in existing), default=0) + 1
    key = caller(request)
    now = iso(time.time())
    pull = {
        "id": str(secrets.randbelow(9 * 10**9) + 10**9),
        "number": number,
        "name": fields["title"],
        "title": fields["title"],
        "description": fields.get("description", ""),
        "state": fields.get("state", "opened"),
        "nodeId": "PR_kwDO" + secrets.token_hex(6),
        "htmlUrl": f"{repository['url']}/pull/{number}",
        "creator": {"id": key.id, "login": key.name},
        "count": 1,
        "visibility": fields.get("visibility", "private"),
        "source": fields["source"],
        "target": fields["target"],
        "changeLog": {"createdDateTime": now, "lastUpdatedDateTime": now},
    }
    sandbox.records.insert(PULL_REQUESTS.kind, scope, pull)
    sandbox.changed()
    sandbox.emit("pull_request:created", location.integration, _event_data(pull, repository))
    return record_response(pull, status=201)


async def update_pull_request(request: web.Request) -> web.Response:
    location, pull = locate_item(request, PULL_REQUESTS)
    repository, scope = location.owner, location.scope
    sandbox = sandbox_of(request)
    fields = validate(await json_body(request), PR_UPDATE_FIELDS)
    _check_branches(request, scope, fields)
    updated = {**pull, **fields}
    if "title" in fields:
        updated["name"] = fields["title"]
    if updated["source"] == updated["target"]:
        raise invalid("target", "source and target must be different branches")
    updated["changeLog"] = {**pull["changeLog"], "lastUpdatedDateTime": iso(time.time())}
    sandbox.records.replace(PULL_REQUESTS.kind, scope, updated)
    sandbox.changed()
    sandbox.emit("pull_request:updated", location.integration, _event_data(updated, repository))
    return record_response(updated)


SERVICE = SandboxService(
    name="scm",
    category="SCM",
    connectors=(("github", "GitHub"), ("gitlab", "GitLab")),
    path_prefixes=("scm",),
    generate=generate,
    probe="/scm/organizations",
    resources=(ORGANIZATIONS, REPOSITORIES, BRANCHES, COMMITS, PULL_REQUESTS),
    routes=(
        Route("POST", R + "/pullRequests", create_pull_request),
        Route("PUT", R + "/pullRequests/{pullRequestId}", update_pull_request),
    ),
    events=("pull_request:created", "pull_request:updated"),
)
