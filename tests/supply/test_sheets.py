"""The stock and cash sheets: in the templates (inputs pre-filled, the plans a run gives), the
owned sheets drawn in the workbook's language with their charts, and rendered by LibreOffice."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.supply.tables import CASH_TABLES, INPUT_TABLES, SETUP_TABLES, SHEETS, STOCK_TABLES

SUPPLY_SHEETS = [s.key for s in SHEETS]


@pytest.fixture(scope="module", params=templates.LANGS)
def template(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    lang = str(request.param)
    return lang, templates.template_bytes(lang)


def test_supply_sheets_follow_the_dashboard(template: tuple[str, bytes]) -> None:
    lang, data = template
    wb = openpyxl.load_workbook(io.BytesIO(data))
    names = wb.sheetnames
    at = names.index(CATALOG.sheets["dashboard"].title(lang))
    assert names[at + 1 : at + 5] == [CATALOG.sheets[k].title(lang) for k in SUPPLY_SHEETS]
    for table in (*INPUT_TABLES, *SETUP_TABLES, *STOCK_TABLES, *CASH_TABLES):
        sheet = CATALOG.sheets[table.sheet].title(lang)
        assert table.name in wb[sheet].tables, table.name
    assert CATALOG.sheets["stock_plan"].owned and CATALOG.sheets["cash_plan"].owned
    assert not CATALOG.sheets["supply"].owned and not CATALOG.sheets["supply_setup"].owned


def test_the_template_shows_what_a_run_gives(template: tuple[str, bytes]) -> None:
    lang, data = template
    wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    stock = wb[CATALOG.sheets["stock_plan"].title(lang)]
    ref = stock.tables["tblPurchaseOrders"].ref
    rows = list(stock[ref])
    header = [c.value for c in rows[0]]
    flags = {
        r[header.index("春节前下单" if lang == "zh" else "Before CNY")].value for r in rows[1:]
    }
    assert flags <= {"是", "yes", None} and flags & {"是", "yes"}
    cash = wb[CATALOG.sheets["cash_plan"].title(lang)]
    ref = cash.tables["tblCashLevers"].ref
    first = [r[0].value for r in list(cash[ref])[1:]]
    assert first == (
        ["按计划", "对比付款条件", "全部海运", "全部空运"]
        if lang == "zh"
        else ["As planned", "Other terms", "All by sea", "All by air"]
    )


def test_inputs_carry_their_validation_and_defaults(template: tuple[str, bytes]) -> None:
    lang, data = template
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[CATALOG.sheets["supply"].title(lang)]
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert "lstTransitModes" in " ".join(str(v) for v in lists)
    setup = wb[CATALOG.sheets["supply_setup"].title(lang)]
    ref = setup.tables["tblSupplySettings"].ref
    keys = [r[0].value for r in list(setup[ref])[1:]]
    assert keys[:2] == ["deposit_rate", "balance_days"] and "cny_wind_down_days" in keys
    payouts = setup.tables["tblPayouts"].ref
    channels = [r[0].value for r in list(setup[payouts])[1:]]
    assert "Amazon" in channels and "Mercado Libre" in channels


def test_the_owned_sheets_charts_read_their_own_sheet(template: tuple[str, bytes]) -> None:
    lang, data = template
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        bodies = [
            zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("xl/charts/chart")
        ]
    for key in ("stock_plan", "cash_plan"):
        title = CATALOG.sheets[key].title(lang)
        assert any(f"'{title}'!" in b or f"{title}!" in b for b in bodies), key


def test_the_live_block_sits_beside_the_routes(template: tuple[str, bytes]) -> None:
    lang, data = template
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[CATALOG.sheets["supply"].title(lang)]
    found = [
        c.value.text if hasattr(c.value, "text") else c.value
        for row in ws.iter_rows()
        for c in row
        if str(getattr(c.value, "text", c.value)).startswith("=IFERROR(XLP_STOCK_PLAN(")
    ]
    assert found and "tblSupplyRoutes[#All]" in str(found[0]) and "AsOf" in str(found[0])


@pytest.mark.soffice
def test_the_chinese_sheets_render_in_libreoffice(soffice: object, tmp_path: Path) -> None:
    path = tmp_path / "plan-zh.xlsx"
    path.write_bytes(templates.template_bytes("zh"))
    (pdf,) = soffice.convert([path], tmp_path)  # type: ignore[attr-defined]
    assert pdf.exists()
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=False
    ).stdout
    if not text:
        pytest.skip("pdftotext is not installed")
    for words in ("备货计划", "采购单", "春节停工", "资金计划", "两个杠杆", "资金占用"):
        assert words in text, words
