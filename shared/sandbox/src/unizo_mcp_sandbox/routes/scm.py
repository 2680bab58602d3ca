"""SCM: organizations, repositories, branches, commits, and pull requests (created and updated too)."""

from __future__ import annotations

import secrets
import time

from aiohttp import web

from unizo_mcp_sandbox.context import caller, sandbox_of
from unizo_mcp_sandbox.data.common import Record, Scope
from unizo_mcp_sandbox.data.scm import (
    BRANCH_SORT_FIELDS,
    COMMIT_SORT_FIELDS,
    ORGANIZATION_SORT_FIELDS,
    PULL_REQUEST_SORT_FIELDS,
    REPOSITORY_SORT_FIELDS,
)
from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.routes.common import Handler, find, integration_for, list_response, record_response
from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.validation import Field, json_body, one_of, text, validate

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

R = "/api/v1/scm/organizations/{organizationId}/repositories/{repositoryId}"


def _organization_scope(request: web.Request) -> tuple[Record, Scope]:
    integration = integration_for(request, "scm")
    organization_id = request.match_info["organizationId"]
    find(sandbox_of(request), "scm_organizations", (integration["id"],), organization_id, "organization")
    return integration, (integration["id"], organization_id)


def _repository_scope(request: web.Request) -> tuple[Record, Record, Scope]:
    integration, scope = _organization_scope(request)
    repository_id = request.match_info["repositoryId"]
    repository = find(sandbox_of(request), "repositories", scope, repository_id, "repository")
    return integration, repository, (*scope, repository_id)


async def list_organizations(request: web.Request) -> web.Response:
    integration = integration_for(request, "scm")
    records = sandbox_of(request).records.items("scm_organizations", (integration["id"],))
    return list_response(request, records, ORGANIZATION_SORT_FIELDS)


async def get_organization(request: web.Request) -> web.Response:
    integration = integration_for(request, "scm")
    organization_id = request.match_info["organizationId"]
    return record_response(
        find(sandbox_of(request), "scm_organizations", (integration["id"],), organization_id, "organization")
    )


async def list_repositories(request: web.Request) -> web.Response:
    _, scope = _organization_scope(request)
    return list_response(
        request, sandbox_of(request).records.items("repositories", scope), REPOSITORY_SORT_FIELDS
    )


async def get_repository(request: web.Request) -> web.Response:
    _, repository, _ = _repository_scope(request)
    return record_response(repository)


def _child_list(kind: str, sortable: frozenset[str]) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        _, _, scope = _repository_scope(request)
        return list_response(request, sandbox_of(request).records.items(kind, scope), sortable)

    return handler


def _child_get(kind: str, id_name: str, label: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        _, _, scope = _repository_scope(request)
        return record_response(find(sandbox_of(request), kind, scope, request.match_info[id_name], label))

    return handler


def _check_branches(request: web.Request, scope: Scope, fields: dict[str, str]) -> None:
    branches = {branch["name"] for branch in sandbox_of(request).records.items("branches", scope)}
    for name in ("source", "target"):
        if name in fields and fields[name] not in branches:
            raise invalid(name, f"branch '{fields[name]}' does not exist in this repository")


async def create_pull_request(request: web.Request) -> web.Response:
    integration, repository, scope = _repository_scope(request)
    fields = validate(await json_body(request), PR_FIELDS)
    _check_branches(request, scope, fields)
    if fields["source"] == fields["target"]:
        raise invalid("target", "source and target must be different branches")
    sandbox = sandbox_of(request)
    existing = sandbox.records.items("pull_requests", scope)
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
    sandbox.records.insert("pull_requests", scope, pull)
    sandbox.changed()
    sandbox.emit("pull_request:created", integration, _event_data(pull, repository))
    return record_response(pull, status=201)


async def update_pull_request(request: web.Request) -> web.Response:
    integration, repository, scope = _repository_scope(request)
    sandbox = sandbox_of(request)
    pull = find(sandbox, "pull_requests", scope, request.match_info["pullRequestId"], "pull request")
    fields = validate(await json_body(request), PR_UPDATE_FIELDS)
    _check_branches(request, scope, fields)
    updated = {**pull, **fields}
    if "title" in fields:
        updated["name"] = fields["title"]
    if updated["source"] == updated["target"]:
        raise invalid("target", "source and target must be different branches")
    updated["changeLog"] = {**pull["changeLog"], "lastUpdatedDateTime": iso(time.time())}
    sandbox.records.replace("pull_requests", scope, updated)
    sandbox.changed()
    sandbox.emit("pull_request:updated", integration, _event_data(updated, repository))
    return record_response(updated)


def _event_data(pull: Record, repository: Record) -> Record:
    return {**pull, "repository": {"id": repository["id"], "fullName": repository["fullName"]}}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/scm/organizations", list_organizations)
    router.add_get("/api/v1/scm/organizations/{organizationId}", get_organization)
    router.add_get("/api/v1/scm/organizations/{organizationId}/repositories", list_repositories)
    router.add_get(R, get_repository)
    router.add_get(R + "/branches", _child_list("branches", BRANCH_SORT_FIELDS))
    router.add_get(R + "/branches/{branchId}", _child_get("branches", "branchId", "branch"))
    router.add_get(R + "/commits", _child_list("commits", COMMIT_SORT_FIELDS))
    router.add_get(R + "/commits/{commitId}", _child_get("commits", "commitId", "commit"))
    router.add_get(R + "/pullRequests", _child_list("pull_requests", PULL_REQUEST_SORT_FIELDS))
    router.add_post(R + "/pullRequests", create_pull_request)
    router.add_get(
        R + "/pullRequests/{pullRequestId}", _child_get("pull_requests", "pullRequestId", "pull request")
    )
    router.add_put(R + "/pullRequests/{pullRequestId}", update_pull_request)
