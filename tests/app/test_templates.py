"""Templates: generated from the schema, committed, identical to a fresh build, usable."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.landed_cost import sheets as landed_cost_sheets
from xlplan.landed_cost.tables import (
    LANDED_COST,
    LANDED_COST_OUTPUT_COLUMNS,
    LANDED_COST_RESULTS,
    LOW_VALUE_OVERRIDES,
    LOW_VALUE_RULES,
    MARKET_OVERRIDES,
    MARKET_RULES,
)
from xlplan.plan.tables import FX, SETTINGS
from xlplan.workbook import schema

REPO = Path(__file__).resolve().parents[2]
WORKBOOKS = REPO / "workbooks"


@pytest.fixture(scope="module", params=templates.LANGS)
def template(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    lang = str(request.param)
    return lang, templates.template_bytes(lang)


def test_committed_templates_match_a_fresh_build() -> None:
    assert templates.check_templates(WORKBOOKS) == []


def test_build_is_reproducible() -> None:
    assert templates.template_bytes("zh") == templates.template_bytes("zh")


def test_check_reports_a_changed_template(tmp_path: Path) -> None:
    templates.build_templates(tmp_path)
    assert templates.check_templates(tmp_path) == []
    path = templates.template_path(tmp_path, "en")
    data = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(data, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "xl/sharedStrings.xml":
                body = body.replace(b"PB-10K", b"PB-20K")
            dst.writestr(item, body)
    path.write_bytes(data.getvalue())
    problems = templates.check_templates(tmp_path)
    assert len(problems) == 1 and "sharedStrings.xml" in problems[0]


def test_sheets_tables_and_names(template: tuple[str, bytes]) -> None:
    lang, data = template
    wb = openpyxl.load_workbook(io.BytesIO(data))
    order = (
        "readme settings landed_cost landed_cost_results scenarios scenario_results "
        "business_map business_map_result "
        "customer_map customer_map_result product_map product_map_result map_proposals "
        "alignment alignment_result calendar monthly_plan actuals tracking kpi kpi_raw "
        "kpi_flags dashboard market_rules lists"
    ).split()
    titles = [CATALOG.sheets[k].title(lang) for k in order]
    assert wb.sheetnames == titles
    tables = {name: ws.title for ws in wb.worksheets for name in ws.tables}
    for table in (
        SETTINGS,
        FX,
        MARKET_OVERRIDES,
        LOW_VALUE_OVERRIDES,
        LANDED_COST,
        LANDED_COST_RESULTS,
        MARKET_RULES,
        LOW_VALUE_RULES,
        *(
            CATALOG.tables[k]
            for k in (
                "target_lines",
                "buckets",
                "events",
                "monthly_plan",
                "actuals",
                "tracking",
                "forecast",
                "gap_drivers",
            )
        ),
    ):
        assert table.name in tables, table.name
        assert tables[table.name] == CATALOG.sheets[table.sheet].title(lang)
    ws = wb[CATALOG.sheets["landed_cost"].title(lang)]
    assert ws.tables["tblLandedCost"].ref.startswith("A6:")
    header = [c.value for c in ws[6]][: len(LANDED_COST.columns)]
    assert header == LANDED_COST.headers(lang)
    other = "en" if lang == "zh" else "zh"
    sub = [c.value for c in ws[5]][: len(LANDED_COST.columns)]
    assert sub[3].startswith(LANDED_COST.column("unit_cost").header(other))
    assert set(wb.defined_names) >= {"RulesDate", "PlanYear", "lstMarkets", "lstCurrencies"}
    assert wb[CATALOG.sheets["lists"].title(lang)].sheet_state == "hidden"


def test_validation_and_number_formats(template: tuple[str, bytes]) -> None:
    lang, data = template
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[CATALOG.sheets["landed_cost"].title(lang)]
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    market = next(dv for ref, dv in rules.items() if ref.startswith("B7"))
    assert market.type == "list" and market.formula1 == "lstMarkets"
    duty = next(dv for ref, dv in rules.items() if ref.startswith("I7"))
    assert duty.type == "decimal" and float(duty.formula2) == 10.0  # duty may exceed 100 %
    vat = next(dv for ref, dv in rules.items() if ref.startswith("K7"))
    assert float(vat.formula2) == 1.0
    assert ws["D7"].number_format == schema.FORMATS[schema.Kind.MONEY]
    assert ws["I7"].number_format == "0.0%"


def test_udf_formula_and_negative_margin_format(template: tuple[str, bytes]) -> None:
    lang, data = template
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet3.xml").decode()
        assert "xl/metadata.xml" in zf.namelist()  # dynamic-array (spilling) formula metadata
    anchor = len(LANDED_COST.columns) + 1
    cell = f"{_col(anchor)}6"
    m = re.search(rf'<c r="{cell}"[^>]*cm="1"[^>]*><f t="array" ref="{cell}">([^<]*)</f>', sheet)
    assert m, "the UDF block is a dynamic-array formula"
    formula = m.group(1).replace("&quot;", '"')
    assert formula == landed_cost_sheets.landed_cost_formula()[1:]
    margin_col = anchor + [c.key for c in LANDED_COST_OUTPUT_COLUMNS].index("contribution_margin")
    assert f'sqref="{_col(margin_col)}7:{_col(margin_col)}' in sheet
    assert 'operator="lessThan"' in sheet


def _col(index0: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return str(xl_col_to_name(index0))


def test_market_rules_sheet_shows_sources_and_uncertainty(template: tuple[str, bytes]) -> None:
    lang, data = template
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[CATALOG.sheets["market_rules"].title(lang)]
    first, last = ws.tables["tblMarketRules"].ref.split(":")
    rows = list(ws.iter_rows(min_row=int(first[1:]), max_row=int(last[1:]), values_only=True))
    header = list(rows[0])
    assert header == MARKET_RULES.headers(lang)
    markets = {r[0] for r in rows[1:]}
    assert {"US", "DE", "GB", "JP", "MX", "BR", "SA"} <= markets
    src = header.index(MARKET_RULES.column("source").header(lang))
    assert all(r[src] for r in rows[1:])


@pytest.mark.soffice
def test_templates_open_and_render_in_libreoffice(soffice: object, tmp_path: Path) -> None:
    paths = templates.build_templates(tmp_path / "wb")
    pdfs = soffice.convert(paths, tmp_path / "pdf")  # type: ignore[attr-defined]
    for pdf in pdfs:
        assert pdf.exists() and pdf.stat().st_size > 20_000, pdf
        assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.soffice
def test_libreoffice_reads_the_template_tables_back(soffice: object, tmp_path: Path) -> None:
    """LibreOffice re-saves the template; XLPlan still finds and reads every table."""
    from xlplan.workbook.io import read_workbook_tables

    src = templates.build_templates(tmp_path / "wb")[1]
    wb = openpyxl.load_workbook(src)  # openpyxl saves formulas without cached values
    ws = wb["Settings"]
    year = next(r for r in ws.iter_rows() if r[0].value == "plan_year")[1]
    year.value = "2031"
    wb.save(src)
    out = soffice.convert([src], tmp_path / "lo", to="xlsx")[0]  # type: ignore[attr-defined]
    tables = read_workbook_tables(out, CATALOG)
    assert set(tables) >= {"settings", "fx", "landed_cost"}
    lines = tables["landed_cost"].frame
    assert lines["sku"].tolist()[:2] == ["PB-10K", "PB-10K"]
    settings = tables["settings"].frame.set_index("setting")["value"]
    # LibreOffice computed the native formula =DATE(PlanYear,1,1); Python reads its result
    assert pd.Timestamp(settings["rules_date"]) == pd.Timestamp(2031, 1, 1)
