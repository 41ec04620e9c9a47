"""The KPI, KPI Raw, KPI Flags and Dashboard sheets: in the templates, rewritten by a run with
their flag colours and native charts, and rendered by LibreOffice."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.kpi.calc import default_thresholds
from xlplan.kpi.tables import DASHBOARD_TABLES, KPI_TABLES
from xlplan.workbook.io import FilePort
from xlplan.workbook.render import Formats

KPI_SHEETS = ("kpi", "kpi_raw", "kpi_flags", "dashboard")
TABLE_SHEETS = {
    "tblKpiValues": "kpi",
    "tblKpiThresholds": "kpi",
    "tblKpiRaw": "kpi_raw",
    "tblKpiFlags": "kpi_flags",
    **{t.name: "dashboard" for t in DASHBOARD_TABLES},
}


@pytest.fixture(scope="module", params=templates.LANGS)
def template(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    lang = str(request.param)
    return lang, templates.template_bytes(lang)


def test_kpi_sheets_follow_tracking_in_the_template(template: tuple[str, bytes]) -> None:
    lang, data = template
    wb = openpyxl.load_workbook(io.BytesIO(data))
    names = wb.sheetnames
    at = names.index(CATALOG.sheets["tracking"].title(lang))
    assert names[at + 1 : at + 5] == [CATALOG.sheets[k].title(lang) for k in KPI_SHEETS]
    for table, sheet_key in TABLE_SHEETS.items():
        assert table in wb[CATALOG.sheets[sheet_key].title(lang)].tables, table
    assert {t.key for t in KPI_TABLES} <= set(CATALOG.tables)
    assert CATALOG.sheets["kpi_flags"].owned and CATALOG.sheets["dashboard"].owned
    assert not CATALOG.sheets["kpi"].owned and not CATALOG.sheets["kpi_raw"].owned


def test_thresholds_table_starts_from_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(templates.template_bytes("en"))
    table = FilePort(path, CATALOG).read_table("kpi_thresholds")
    assert table is not None
    defaults = default_thresholds()
    catalog = table.iloc[: len(defaults)]
    assert catalog["kpi"].tolist() == defaults["kpi"].tolist()
    assert pd.to_numeric(catalog["green"]).tolist() == defaults["green"].tolist()
    assert pd.to_numeric(catalog["red"]).tolist() == defaults["red"].tolist()
    for bound in ("plausible_min", "plausible_max"):
        got = pd.to_numeric(catalog[bound]).fillna(-999).tolist()
        assert got == defaults[bound].fillna(-999).tolist(), bound
    assert set(catalog["market"].fillna("")) == {""}


def test_template_shows_flags_of_every_colour(template: tuple[str, bytes], tmp_path: Path) -> None:
    """Every colour but "check": the example's figures are all plausible (issue 11)."""
    lang, data = template
    path = tmp_path / f"t-{lang}.xlsx"
    path.write_bytes(data)
    flags = FilePort(path, CATALOG).read_table("kpi_flags")
    assert flags is not None
    words = {
        "zh": {"绿", "黄", "红", "无数据"},
        "en": {"green", "amber", "red", "no data"},
    }
    assert set(flags["flag"]) == words[lang]
    reason = "reason_zh" if lang == "zh" else "reason_en"
    assert flags[reason].notna().all()


def _sheet_parts(data: bytes, sheet: str) -> tuple[str, list[str]]:
    """The worksheet XML of ``sheet`` and the chart XML parts its drawing holds."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        book = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet name="{re.escape(sheet)}" sheetId="\d+" r:id="(rId\d+)"', book)
        assert rid, sheet
        target = re.search(rf'Id="{rid.group(1)}" Type="[^"]+" Target="([^"]+)"', rels)
        assert target
        part = "xl/" + target.group(1).lstrip("/").removeprefix("xl/")
        xml = zf.read(part).decode()
        sheet_rels = zf.read(part.replace("worksheets/", "worksheets/_rels/") + ".rels").decode()
        drawing = re.search(r'Target="\.\./drawings/(drawing\d+\.xml)"', sheet_rels)
        assert drawing, "the sheet has no drawing"
        drels = zf.read(f"xl/drawings/_rels/{drawing.group(1)}.rels").decode()
        charts = [
            zf.read("xl/charts/" + c).decode() for c in re.findall(r"charts/(chart\d+\.xml)", drels)
        ]
    return xml, charts


def test_dashboard_charts_read_their_own_sheet(template: tuple[str, bytes]) -> None:
    lang, data = template
    sheet = CATALOG.sheets["dashboard"].title(lang)
    _, charts = _sheet_parts(data, sheet)
    assert len(charts) == 4  # months, markets, traffic lights, waterfall
    for chart in charts:
        refs = re.findall(r"<c:f>([^<]*)</c:f>", chart)
        assert refs and all(re.match(rf"'?{sheet}'?!\$", r) for r in refs), refs
    assert "<c:barChart>" in "".join(charts)


def test_flag_cells_carry_conditional_fills(template: tuple[str, bytes]) -> None:
    lang, data = template
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheets = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    # KPI Flags and the Dashboard's attention list, keyed on the flag in either language
    flagged = [
        s for s in sheets if '"amber"' in s and '"黄"' in s and "<conditionalFormatting" in s
    ]
    assert len(flagged) == 2
    # an implausible figure has its own word and fill, not a health colour
    assert all('"check"' in s and '"请核实"' in s for s in flagged)


@pytest.mark.parametrize("lang", templates.LANGS)
def test_dashboard_counts_and_tiles_show_figures_to_check(lang: str) -> None:
    from xlplan.kpi import sheets as kpi_sheets
    from xlplan.kpi.tables import DASH_KPI_COUNTS, DASH_KPIS

    counts = pd.DataFrame(
        {"market": ["US"], "green": [3], "amber": [1], "red": [0], "check": [2], "no_data": [0]}
    )
    kpis = pd.DataFrame(
        {"market": ["US"], "month": ["2027-03"], "name_zh": ["库存周转"],
         "name_en": ["inventory turnover"], "flag": ["check"],
         "reason_zh": ["库存周转 72.6 次/年 > 24：数值存疑，请核实"],
         "reason_en": ["inventory turnover 72.6 /yr > 24: implausible, check it"]}
    )  # fmt: skip
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    kpi_sheets.write_dashboard_sheet(
        wb, Formats(wb), [(DASH_KPI_COUNTS, counts), (DASH_KPIS, kpis)], lang
    )
    wb.close()
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).worksheets[0]
    cells = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    word = "请核实" if lang == "zh" else "check"
    assert word in cells  # the attention list shows the flag in words
    assert ("待核实 KPI" if lang == "zh" else "KPIs to check") in cells
    tile = cells.index("待核实 KPI" if lang == "zh" else "KPIs to check")
    assert 2 in cells[tile:]  # the tile's count


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.soffice
@pytest.mark.parametrize("lang", templates.LANGS)
def test_run_output_dashboard_renders_in_libreoffice(
    soffice: object, tmp_path: Path, lang: str
) -> None:
    src = tmp_path / f"plan-{lang}.xlsx"
    src.write_bytes(templates.template_bytes(lang))
    out = tmp_path / f"out-{lang}.xlsx"
    assert main(["run", str(src), "-o", str(out), "--date", "2026-11-21"]) == 0
    pdf = soffice.convert([out], tmp_path / "pdf")[0]  # type: ignore[attr-defined]
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    try:
        text = _pdf_text(pdf)
    except FileNotFoundError:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    heading = CATALOG.sheets["dashboard"].heading.text(lang)
    assert heading in text
    months = "月度目标与实际" if lang == "zh" else "Plan vs actual by month"
    assert months in text
    assert ("客户满意度 72.0% < 76%" if lang == "zh" else "CSAT 72.0% < 76%") in text


def test_dashboard_tables_fit_left_of_the_charts() -> None:
    """Every table the Dashboard shows sits in the columns before the narrow gap and the charts
    (the flag counts grew a column for check; its last column must not land in the gap)."""
    from xlplan.kpi import sheets as kpi_sheets

    frames = kpi_sheets._dashboard_frames([], "en")
    widest = max(len(table.columns) for table, _ in frames.values())
    assert widest <= kpi_sheets.TABLE_COLS < kpi_sheets.CHART_COL
