"""The maps' sheets in the templates: order, tables, sample data, defaults, LibreOffice."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from xlplan import actions
from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.maps import tables as schema_maps
from xlplan.maps.action import MODELS, model_from_table
from xlplan.maps.calc.customer import B2C_TIERS
from xlplan.planning.tables import TARGET_LINES
from xlplan.reference import market_macro
from xlplan.workbook import schema
from xlplan.workbook.io import FilePort, read_workbook_tables

MAP_SHEET_KEYS = [s.key for s in schema_maps.MAP_SHEETS]
TODAY = date(2026, 11, 21)


def workbook(lang: str) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(templates.template_bytes(lang)))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_maps_sheets_sit_between_landed_cost_results_and_alignment(lang: str) -> None:
    names = workbook(lang).sheetnames
    titles = [CATALOG.sheets[k].title(lang) for k in MAP_SHEET_KEYS]
    start = names.index(titles[0])
    assert names[start : start + len(titles)] == titles  # together, in order
    assert names.index(CATALOG.sheets["landed_cost_results"].title(lang)) < start
    assert names[start + len(titles)] == CATALOG.sheets["alignment"].title(lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_maps_table_is_on_its_sheet_with_its_headers(lang: str) -> None:
    wb = workbook(lang)
    for table in schema_maps.MAP_TABLES:
        ws = wb[CATALOG.sheets[table.sheet].title(lang)]
        assert table.name in ws.tables, table.name
        header = next(iter(ws[ws.tables[table.name].ref]))
        assert [c.value for c in header] == table.headers(lang)
    owned = {s.key for s in schema_maps.MAP_SHEETS if s.owned}
    assert owned == {
        "business_map_result",
        "customer_map_result",
        "product_map_result",
        "map_proposals",
    }


def test_map_proposals_have_the_alignment_columns() -> None:
    proposals = schema_maps.MAP_PROPOSALS
    assert proposals.keys == TARGET_LINES.keys
    for lang in ("zh", "en"):
        assert proposals.headers(lang) == TARGET_LINES.headers(lang)


def test_settings_tables_start_at_the_domain_defaults(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(templates.template_bytes("zh"))
    port = FilePort(path, CATALOG)
    for key, model in MODELS.items():
        built, _, errors = model_from_table(port.read_table(key), key, model)
        assert errors.empty, errors
        assert built == model(), key
    # rates are shown as percentages, amounts whole
    ws = openpyxl.load_workbook(path)["业务地图"]
    cells = {r[0].value: r[1] for r in ws[ws.tables["tblBusinessSettings"].ref]}
    assert "%" in cells["threshold_margin"].number_format
    assert cells["incremental_pool"].number_format == schema.FORMATS[schema.Kind.AMOUNT]


def test_sample_data_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(templates.template_bytes("en"))
    tables = read_workbook_tables(path, CATALOG, [t.key for t in schema_maps.MAP_TABLES])
    sales = tables["product_sales"].frame
    assert len(sales) == 7 * 24 and sales["line"].nunique() == 7
    assert len(tables["product_economics"].frame) == 7
    markets = tables["business_markets"].frame.set_index("market")
    macro = market_macro().set_index("market")
    for m in ("US", "MX", "SA"):
        assert markets.loc[m, "gdp_per_capita_usd"] == macro.loc[m, "gdp_per_capita_usd"]
    assert len(tables["tier_assumptions"].frame) == 8
    assert tables["map_proposals"].frame.empty
    ws = openpyxl.load_workbook(path)["Customer Map"]
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert any("amazon_settlement" in (f or "") for f in lists)


def _computed(tmp_path: Path, lang: str) -> Path:
    src = tmp_path / f"plan-{lang}.xlsx"
    src.write_bytes(templates.template_bytes(lang))
    shopify = (
        Path(__file__).parents[1] / "data" / "orders" / "shopify_orders_export_subset_sample.csv"
    )
    wb = openpyxl.load_workbook(src)
    ws = wb[CATALOG.sheets["customer_map"].title(lang)]
    ref = ws.tables["tblOrderImports"].ref
    first = list(ws[ref])[1]
    first[0].value, first[1].value = str(shopify.resolve()), "shopify"
    wb.save(src)
    port = FilePort(src, CATALOG)
    actions.run(port, TODAY, ["landed_cost", "business", "customers", "products"])
    out = tmp_path / f"out-{lang}.xlsx"
    port.save(out)
    return out


@pytest.mark.soffice
def test_computed_maps_render_and_read_back_in_libreoffice(soffice: object, tmp_path: Path) -> None:
    outs = [_computed(tmp_path, lang) for lang in ("zh", "en")]
    pdfs = soffice.convert(outs, tmp_path / "pdf")  # type: ignore[attr-defined]
    for pdf in pdfs:
        assert pdf.exists() and pdf.stat().st_size > 50_000, pdf
    resaved = soffice.convert(outs[:1], tmp_path / "lo", to="xlsx")[0]  # type: ignore[attr-defined]
    tables = read_workbook_tables(resaved, CATALOG)
    proposals = tables["map_proposals"].frame
    assert set(proposals["map"]) == {"business", "customer", "product"}
    # a Shopify store in auto mode: the five B2C tiers, not three rows of B2B zeros
    assert tables["customer_tiers"].frame["tier"].tolist() == [t.value for t in B2C_TIERS]
    assert len(tables["product_lines"].frame) == 7
    assert tables["business_screening"].frame["market"].tolist()[:2] == ["MX", "SA"]
