"""The console's pure parts: filters and their URLs, cookie signing, CSV cells, paths, charts,
the menu, and the direction of imports."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from aiohttp import web

from ivr.store.users import Role
from ivr.web.calls.audio import contained
from ivr.web.calls.export import _cell
from ivr.web.calls.filters import CallFilter, FilterError
from ivr.web.plumbing.menu import Menu
from ivr.web.plumbing.roles import AUDITORS, CASEWORK, SUPERVISORS
from ivr.web.plumbing.routing import Routes
from ivr.web.plumbing.sessions import sign, unsign
from ivr.web.stats.charts import columns, hbars, nice_max


def test_filter_round_trips_through_its_url() -> None:
    flt = CallFilter.parse(
        {"from": "2025-03-01", "to": "2025-03-03", "hotline": "96102", "caller": "138", "page": "2"}
    )
    assert flt.date_from == date(2025, 3, 1) and flt.page == 2
    again = CallFilter.parse(dict(p.split("=") for p in flt.url("/calls").split("?")[1].split("&")))
    assert again == flt
    start, end = flt.query().start, flt.query().end
    assert start is not None and end is not None
    assert start.isoformat() == "2025-02-28T16:00:00+00:00"  # local midnight, in UTC
    assert end.isoformat() == "2025-03-03T16:00:00+00:00"  # the last day included


@pytest.mark.parametrize(
    "params",
    [
        {"hotline": "110"},
        {"outcome": "drop table"},
        {"caller": "13800'--"},
        {"from": "yesterday"},
        {"from": "2025-03-02", "to": "2025-03-01"},
        {"idh": "not-a-hash"},
        {"page": "two"},
        {"page": "0"},
        {"page": "1000001"},
        {"per_page": "201"},
        {"page": "99999999999999999999999"},
        {"to": "9999-12-31"},
        {"hotline": " 12333"},  # the API takes values as described; forms trim what is typed
    ],
)
def test_filter_refuses_what_it_cannot_use(params: dict[str, str]) -> None:
    with pytest.raises(FilterError):
        CallFilter.parse(params)


def test_row_id_parameters_are_digits_checked_before_the_handler() -> None:
    table = Routes()

    @table.get("/things/{thing_id:id}/{name}", public=True)
    async def thing(request: web.Request) -> web.StreamResponse:
        return web.Response()

    (route,) = table
    assert route.path == r"/things/{thing_id:\d+}/{name}" and route.ids == ("thing_id",)


def test_an_id_number_becomes_hash_and_mask_only() -> None:
    flt = CallFilter().with_id_number("11010519491231002x", b"key")
    assert flt.idm == "110105********002X" and len(flt.idh) == 64
    assert "11010519491231002" not in flt.url("/calls") + flt.describe()
    with pytest.raises(FilterError, match="the check character does not match") as caught:
        CallFilter().with_id_number("110105194912310021", b"key")
    assert "110105194912310021" not in str(caught.value)


def test_cookie_signature() -> None:
    value = sign(b"k" * 32, "token")
    assert unsign(b"k" * 32, value) == "token"
    assert unsign(b"x" * 32, value) is None
    assert unsign(b"k" * 32, "token") is None
    assert unsign(b"k" * 32, "other." + value.split(".")[1]) is None


def test_csv_cells_never_start_a_formula() -> None:
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("+8613800000000") == "'+8613800000000"
    assert _cell("-12") == "-12" and _cell("-x") == "'-x" and _cell("12333") == "12333"


def test_paths_stay_in_their_folder(tmp_path: Path) -> None:
    (tmp_path / "data" / "recordings").mkdir(parents=True)
    base = tmp_path / "data"
    assert contained(base, "recordings/a.wav") == (base / "recordings" / "a.wav").resolve()
    assert contained(base, "../x.wav") is None
    assert contained(base, "/etc/passwd") is None
    assert contained(base, "") is None


def test_chart_geometry() -> None:
    assert [nice_max(v) for v in (0, 3, 5, 9, 37, 150)] == [4, 4, 8, 12, 40, 200]
    chart = columns(["a", "b"], {"x": [1, 4], "y": [0, 2]}, width=200, height=100)
    assert len(chart.bars) == 4 and not chart.empty
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.value == 4 and tallest.y == pytest.approx(8.0)  # reaches the top of the plot
    assert all(b.x + b.width <= 200 for b in chart.bars)
    rows = hbars([("main", (3, 1)), ("menu", (0, 0))], ("hung up", "failed"))
    assert [len(r.parts) for r in rows.rows] == [2, 0] and rows.rows[0].total == 4


async def _page(request: web.Request) -> web.Response:
    return web.Response()


def test_the_menu_is_read_off_the_routes_and_every_role_has_a_home() -> None:
    pages = Routes()
    pages.get("/a", roles=SUPERVISORS, menu="A")(_page)
    pages.get("/b", roles=CASEWORK, menu="B")(_page)
    pages.get("/c", roles=CASEWORK)(_page)
    with pytest.raises(ValueError, match="auditor"):
        Menu.from_routes([pages])  # an auditor would land nowhere
    pages.get("/d", roles=AUDITORS, menu="D")(_page)
    menu = Menu.from_routes([pages])
    assert [e.label for e in menu.for_role(Role.SUPERVISOR)] == ["A", "B"]
    assert [e.path for e in menu.for_role(Role.STAFF)] == ["/b"]
    assert menu.home(Role.STAFF) == "/b" and menu.home(Role.AUDITOR) == "/d"
    with pytest.raises(ValueError, match="fixed path"):
        pages.get("/e/{n}", roles=SUPERVISORS, menu="E")
    with pytest.raises(ValueError, match="fixed path"):
        pages.get("/f", public=True, menu="F")


def _imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_imports_point_one_way() -> None:
    """Only the top imports the console (the CLI and the composition root), and the console never
    imports them."""
    package = Path(__file__).resolve().parents[2] / "ivr"
    importers: set[str] = set()
    for path in package.rglob("*.py"):
        where = path.relative_to(package.parent).as_posix()
        found = {m.split(".")[1] for m in _imports(path) if m.startswith("ivr.") and "." in m}
        if where.startswith("ivr/web/"):
            assert not found & {"cli", "stack", "runtime", "ami"}, where
        elif not where.startswith("ivr/cli/") and "web" in found:
            importers.add(where)
    # The composition root starts the console next to the hotline (``hotline up``, ``web``).
    assert importers == {"ivr/stack.py"}
