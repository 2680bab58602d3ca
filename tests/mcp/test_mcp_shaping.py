"""Lean list results and computed tools: summary fields, `fields`, `["*"]`, unknown fields, paging facts,
and tools the core computes from a list (`Aggregate`)."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st
from mcp import Client
from unizo_mcp_core.execute import aggregate
from unizo_mcp_core.pages import page_decoder
from unizo_mcp_core.responses import KeyInfo, split_envelope
from unizo_mcp_core.server import prepare_server
from unizo_mcp_core.settings import load_settings
from unizo_mcp_core.shaping import field_problems, paging_facts, shape_list, top_level_keys
from unizo_mcp_core.spec import Aggregate, Fields, Param, Permission, ServiceSpec, ToolSpec, list_tool
from unizo_testkit import JSON_VALUES

KEY = "uz_prod_0123abcd_" + "S" * 32
MACHINE = Fields(summary=("id", "name", "os.name", "tags"), more=("owner", "changeLog", "risk"))
RECORDS = [
    {
        "id": "m1",
        "name": "alpha",
        "os": {"name": "Linux", "version": "6.1"},
        "tags": [],
        "owner": {"id": "u1", "email": None},
        "changeLog": {"createdDateTime": "2026-01-01T00:00:00Z"},
        "risk": 7.5,
        "severity": "High",
        "seen": "2026-03-01T10:00:00Z",
    },
    {
        "id": "m2",
        "name": "beta",
        "os": {"name": "Windows", "version": None},
        "tags": ["prod"],
        "owner": None,
        "changeLog": {},
        "risk": 9.1,
        "severity": "critical",
        "seen": "2026-05-01T10:00:00Z",
    },
    {"id": "m3", "name": "", "os": None, "risk": 2.0, "severity": "Low", "seen": "2025-12-31T23:00:00Z"},
]


def test_a_summary_keeps_its_fields_and_drops_empty_values() -> None:
    assert shape_list(RECORDS, MACHINE) == [
        {"id": "m1", "name": "alpha", "os.name": "Linux"},
        {"id": "m2", "name": "beta", "os.name": "Windows", "tags": ["prod"]},
        {"id": "m3"},
    ]


def test_a_summary_keeps_the_declared_order_and_falsy_numbers() -> None:
    fields = Fields(summary=("risk", "os.name", "id", "active", "label=os.version"))
    record = {"id": "m9", "active": False, "risk": 0, "os": {"name": "Linux", "version": "6.1"}}
    (shaped,) = shape_list([record], fields)
    assert list(shaped.items()) == [
        ("risk", 0),
        ("os.name", "Linux"),
        ("id", "m9"),
        ("active", False),
        ("label", "6.1"),
    ]


def test_fields_add_whole_top_level_fields() -> None:
    shaped = shape_list(RECORDS, MACHINE, ["owner", "changeLog"])
    assert shaped[0]["owner"] == {"id": "u1"} and shaped[0]["changeLog"]["createdDateTime"]
    assert "owner" not in shaped[1] and "changeLog" not in shaped[1]  # empty: dropped


def test_star_gives_whole_records_without_empty_values() -> None:
    whole = shape_list(RECORDS, MACHINE, ["*"])
    assert whole[0]["os"] == {"name": "Linux", "version": "6.1"} and "tags" not in whole[0]
    assert whole[1]["os"] == {"name": "Windows"}


def _nones(value: Any) -> int:
    if value is None:
        return 1
    if isinstance(value, dict):
        return sum(_nones(v) for v in value.values())
    if isinstance(value, list):
        return sum(_nones(v) for v in value)
    return 0


@pytest.mark.parametrize("wanted", [None, ["owner", "changeLog"], ["*"]])
def test_a_shaped_page_holds_no_null_so_its_result_is_not_walked_again(wanted: list[str] | None) -> None:
    # success_result(compacted=True) relies on it: a null record, null members and a mapping that is not
    # a dict must all come out without None
    page = [*RECORDS, None, MappingProxyType({"id": "m4", "name": None, "os": {"name": None}})]
    shaped = shape_list(page, MACHINE, wanted)
    assert _nones(shaped) == 0
    assert [record["id"] for record in shaped] == ["m1", "m2", "m3", "m4"]


def test_unknown_fields_are_argument_errors_listing_the_valid_ones() -> None:
    assert field_problems(MACHINE, ["owner", "*"]) == []
    (problem,) = field_problems(MACHINE, ["owner", "nope", "os.version"])
    assert "unknown field 'nope', 'os.version'" in problem
    assert "valid: id, name, os, tags, owner, changeLog, risk" in problem


def test_paging_facts() -> None:
    api = {"total": 56, "offset": 0, "limit": 20, "previous": None, "next": 20}
    assert paging_facts(api, 20) == {"returned": 20, "total": 56, "next_offset": 20}
    assert paging_facts({"total": 3, "next": None}, 3) == {"returned": 3, "total": 3}


def test_fields_must_name_their_records() -> None:
    with pytest.raises(ValueError, match="include 'id'"):
        Fields(summary=("name",))


# --- aggregates -----------------------------------------------------------------------------------------

MACHINES = list_tool("fleet_list_machines", "List machines.", "/fleet/machines", fields=MACHINE)
PLAN = Aggregate(
    source="fleet_list_machines",
    count_by=("severity", "os.name"),
    stats=("risk",),
    top="risk",
    top_n="top_n",
    group_by="group_by",
    match=(("severities", "severity"),),
    at_least=(("min_risk", "risk"),),
    since=(("seen_from", "seen"),),
    until=(("seen_to", "seen"),),
)


def test_counts_figures_and_top_records() -> None:
    answer = aggregate(RECORDS, PLAN, {"top_n": 2}, MACHINES, total=3)
    assert answer["records_read"] == 3 and answer["matching"] == 3 and answer["complete"] is True
    assert answer["by_severity"] == {"High": 1, "critical": 1, "Low": 1}
    assert answer["by_os_name"] == {"Linux": 1, "Windows": 1}
    assert answer["risk"] == {"min": 2.0, "max": 9.1, "mean": 6.2}
    assert [r["id"] for r in answer["top"]] == ["m2", "m1"]
    assert answer["top"][0] == {"id": "m2", "name": "beta", "os.name": "Windows", "tags": ["prod"]}


def test_core_side_filters() -> None:
    picked = aggregate(
        RECORDS, PLAN, {"severities": ["high", "CRITICAL"], "min_risk": 8}, MACHINES, total=None
    )
    assert picked["matching"] == 1 and picked["by_severity"] == {"critical": 1}
    dated = aggregate(RECORDS, PLAN, {"seen_from": "2026-01-01", "seen_to": "2026-04-30"}, MACHINES, total=3)
    assert dated["matching"] == 1 and dated["by_severity"] == {"High": 1}
    grouped = aggregate(RECORDS, PLAN, {"group_by": "severity"}, MACHINES, total=3)
    assert "by_severity" in grouped and "by_os_name" not in grouped


def test_an_incomplete_read_says_so() -> None:
    assert aggregate(RECORDS[:2], PLAN, {}, MACHINES, total=5)["complete"] is False


# --- through a server ------------------------------------------------------------------------------------


class PagedClient:
    """250 machines in pages of at most 100; remembers the requests."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def verify_key(self, category: str | None = None) -> KeyInfo:
        return KeyInfo(valid=True)

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        self.sent.append({"method": method, "path": path, **kw})
        offset, limit = int(kw["params"].get("offset", 0)), int(kw["params"]["limit"])
        rows = [
            {
                "id": f"m{i}",
                "name": f"n{i}",
                "risk": i % 10,
                "severity": "High" if i % 2 else "Low",
                "noise": "x" * 50,
            }
            for i in range(offset, min(offset + limit, 250))
        ]
        following = offset + limit if offset + limit < 250 else None

        class Answer:
            status, headers, correlation_id = 200, {}, None
            data = {
                "data": rows,
                "pagination": {"total": 250, "offset": offset, "limit": limit, "next": following},
            }

        return Answer()

    async def close(self) -> None:
        pass


FLEET = ServiceSpec(
    name="fleet",
    title="Fleet",
    description="Machines.",
    tools=(
        MACHINES,
        ToolSpec(
            "fleet_get_risk_summary",
            "Count machines by severity, with the riskiest ones.",
            "GET",
            "/fleet/machines",
            Permission.READ,
            (Param("top_n", "integer", "", default=3, minimum=1, maximum=50),),
            aggregate=Aggregate(
                source="fleet_list_machines",
                count_by=("severity",),
                top="risk",
                top_n="top_n",
                max_records=200,
            ),
        ),
    ),
    package="unizo-mcp-fleet",
    version="0.0.1",
)


async def _session_call(tool: str, args: dict[str, Any]) -> tuple[Any, PagedClient]:
    client = PagedClient()
    settings = load_settings(None, {"UNIZO_API_KEY": KEY, "UNIZO_INTEGRATION_ID": "int-1"})
    server = await prepare_server(settings, [FLEET], client=client)  # type: ignore[arg-type]
    async with Client(server.mcp) as session:
        result = await session.call_tool(tool, args)
    return result, client


async def test_a_list_answers_its_summary_and_paging_facts() -> None:
    result, _ = await _session_call("fleet_list_machines", {"limit": 2})
    assert result.structured_content == {
        "data": [{"id": "m0", "name": "n0"}, {"id": "m1", "name": "n1"}],
        "pagination": {"returned": 2, "total": 250, "next_offset": 2},
    }
    more, _ = await _session_call("fleet_list_machines", {"limit": 1, "fields": ["risk"]})
    assert more.structured_content["data"] == [{"id": "m0", "name": "n0", "risk": 0}]
    bad, client = await _session_call("fleet_list_machines", {"fields": ["noise"]})
    assert bad.is_error and "unknown field 'noise'" in bad.content[0].text and client.sent == []


async def test_an_aggregate_pages_within_its_bound() -> None:
    result, client = await _session_call("fleet_get_risk_summary", {"top_n": 2})
    summary = result.structured_content["data"]
    assert summary["records_read"] == 200 and summary["total"] == 250 and summary["complete"] is False
    assert summary["by_severity"] == {"High": 100, "Low": 100}
    assert [r["id"] for r in summary["top"]] == ["m9", "m19"]
    assert [c["params"]["offset"] for c in client.sent] == ["0", "100"]
    assert all(c["path"] == "/fleet/machines" for c in client.sent)


# --- a page decoded only as far as the list shows it (pages.page_decoder) ----------------------------

# records with the fields MACHINE reads and others, any of them missing or of any JSON type
RECORD_KEYS = st.sampled_from(["id", "name", "os", "tags", "owner", "changeLog", "risk", "other", ""])
JSON_RECORDS = st.dictionaries(RECORD_KEYS, JSON_VALUES, max_size=8)
PAGES = st.fixed_dictionaries(
    {"data": st.lists(JSON_RECORDS, max_size=4)}, optional={"pagination": JSON_VALUES}
) | JSON_VALUES.map(lambda value: {"data": value})
WANTED = st.none() | st.lists(st.sampled_from([*MACHINE.names, "other"]), max_size=3)


def _shown(page: Any, wanted: list[str] | None) -> tuple[Any, Any]:
    data, pagination = split_envelope(page)
    return (shape_list(data, MACHINE, wanted) if isinstance(data, list) else data), pagination


@hypothesis.settings(max_examples=200, deadline=None)
@given(page=PAGES, wanted=WANTED)
def test_a_page_decoded_for_its_list_shows_what_the_whole_page_shows(
    page: Any, wanted: list[str] | None
) -> None:
    body = json.dumps(page).encode()
    whole = json.loads(body)
    decoder = page_decoder(MACHINE, wanted)
    assert decoder is not None
    fits = isinstance(whole.get("data"), list) and all(isinstance(r, dict) for r in whole["data"])
    if not fits:  # not a page of records: the client decodes it whole
        with pytest.raises(ValueError):
            decoder(body)
        return
    assert _shown(decoder(body), wanted) == _shown(whole, wanted)


@pytest.mark.parametrize(
    "body",
    [
        b'[{"id": "m1"}]',  # a bare list: another envelope
        b'{"data": [{"id": "m1"}], "meta": {}}',  # a top-level key besides data and pagination
        b'{"pagination": {"total": 0}}',
        b'{"data": [{"id": "m1"}, null]}',  # a record that is not an object
        b'{"data": {"id": "m1"}}',
        b'{"data": [{"id": "m1", "x": "\\ud800"}]}',  # not Unicode, in a field the list does not show
        b'{"data": [{"id": "m1"}]} trailing',
    ],
)
def test_a_page_decoder_refuses_what_is_not_a_page_of_records(body: bytes) -> None:
    decoder = page_decoder(MACHINE, None)
    assert decoder is not None
    with pytest.raises(ValueError):
        decoder(body)


def test_a_page_decoder_keeps_the_top_level_fields_the_list_reads() -> None:
    fields = Fields(summary=("id", "os.name", "updated=changeLog.last"), more=("owner", "risk"))
    assert top_level_keys(fields, None) == {"id", "os", "changeLog"}
    assert top_level_keys(fields, ["risk"]) == {"id", "os", "changeLog", "risk"}
    decoder = page_decoder(fields, ["risk"])
    assert decoder is not None
    record = '{"id": "m1", "os": {"name": "L", "v": 1}, "changeLog": {"last": "t"}, "risk": 2, "x": 3}'
    body = f'{{"data": [{record}]}}'.encode()
    assert decoder(body) == {
        "data": [{"id": "m1", "os": {"name": "L", "v": 1}, "changeLog": {"last": "t"}, "risk": 2}]
    }


def test_whole_records_are_decoded_whole() -> None:
    assert page_decoder(MACHINE, ["*"]) is None
    assert page_decoder(MACHINE, ["owner", "*"]) is None
