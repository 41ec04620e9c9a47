"""Finding 10 of issue 10: an add-in formula tells "add-in not loaded" from "loaded but not
bound -- run Relink", and Relink re-enters every XLP_ formula so Excel binds it again."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from xlplan.actions.relink import run_relink
from xlplan.app import addin, templates
from xlplan.plan.action import Context
from xlplan.plan.settings import default_settings
from xlplan.workbook import render
from xlplan.workbook.relink import ADDIN_CONFIG_SHEET, ADDIN_FILE, addin_probe, calls_addin

CTX = Context(today=date(2027, 1, 1), settings=default_settings(date(2027, 1, 1)))


def test_the_fallback_names_both_causes_in_both_languages() -> None:
    formula = render.udf_formula("XLP_KPI(tblKpi[#All])")
    assert formula.startswith("=IFERROR(XLP_KPI(tblKpi[#All]),IF(ISREF(INDIRECT(")
    texts = re.findall(r'"([^"]*)"', formula)
    assert texts[-2] == render.ADDIN_NOT_BOUND.both and "Relink" in texts[-2]
    assert "修复公式链接" in texts[-2]
    assert texts[-1] == render.ADDIN_NOT_LOADED.both and "not loaded" in texts[-1]
    assert all(len(t) <= 255 for t in texts)  # Excel's limit for a string in a formula
    assert render.ADDIN_MESSAGE == render.ADDIN_NOT_LOADED.both


def test_the_probe_points_at_the_sheet_the_built_add_in_has(tmp_path: object) -> None:
    """The formula probes the add-in by its file name and config sheet: the ones it is built
    with (otherwise "not bound" could never show)."""
    from pathlib import Path

    target = Path(str(tmp_path)) / "xlplan.xlam"
    addin.build_addin(target, excel=False, interpreter="")
    import zipfile

    with zipfile.ZipFile(target) as zf:
        sheets = re.findall(r'<sheet\b[^>]*name="([^"]+)"', zf.read("xl/workbook.xml").decode())
    assert sheets == [ADDIN_CONFIG_SHEET]
    assert addin.ADDIN_NAME == ADDIN_FILE
    assert addin_probe() == f"'[{ADDIN_FILE}]{ADDIN_CONFIG_SHEET}'!A1"


@pytest.mark.parametrize("lang", templates.LANGS)
def test_every_template_anchor_carries_the_two_way_fallback(lang: str) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(templates.template_bytes(lang)))
    anchors = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                text = value.text if isinstance(value, ArrayFormula) else value
                if isinstance(text, str) and text.startswith("=") and calls_addin(text):
                    anchors.append(text)
    assert anchors
    for text in anchors:
        assert render.ADDIN_NOT_BOUND.en in text and render.ADDIN_NOT_LOADED.en in text
        assert addin_probe() in text


@pytest.mark.parametrize(
    ("formula", "calls"),
    [
        ("=XLP_KPI(A1)", True),
        ("=IFERROR(XLP_KPI(A1),0)", True),
        ("='C:\\x\\xlplan.xlam'!XLP_KPI(A1)", True),
        ("=[1]!XLP_KPI(A1)", True),
        ("=_xludf.XLP_KPI(A1)", True),
        ('=CONCAT("XLP_KPI(",A1)', False),  # in a string literal
        ("=MYXLP_KPI(A1)", False),  # another function's name
        ("=SUM(A1:A3)", False),
    ],
)
def test_calls_addin(formula: str, calls: bool) -> None:
    assert calls_addin(formula) is calls


class Formulas:
    """A port with formula access (the live port's FormulaPort)."""

    def __init__(self, cells: dict[tuple[str, str], str]) -> None:
        self.cells = cells
        self.writes: list[tuple[str, str, str]] = []

    def read_table(self, key: str) -> None:
        return None

    def write_table(self, key: str, frame: object) -> None:
        raise AssertionError("relink writes no table")

    def locate(self, record: object) -> str:
        return ""

    def formulas(self) -> list[tuple[str, str, str]]:
        return [(s, c, f) for (s, c), f in self.cells.items()]

    def set_formula(self, sheet: str, cell: str, text: str) -> None:
        self.writes.append((sheet, cell, text))
        self.cells[sheet, cell] = text


def test_relink_re_enters_every_xlp_formula_even_a_bare_one() -> None:
    """A bare ``=XLP_...`` written by XlsxWriter may not be bound: it is entered again."""
    bare = render.udf_formula("XLP_LANDED_COST(tblLandedCost[#All])")
    port = Formulas(
        {
            ("Landed Cost", "T6"): bare,
            ("Plan", "B2"): "='C:\\old\\xlplan.xlam'!XLP_KPI(A2)",
            ("Plan", "B3"): "=SUM(A1:A2)",
        }
    )
    result = run_relink(port, CTX)
    assert port.writes == [
        ("Landed Cost", "T6", bare),
        ("Plan", "B2", "=XLP_KPI(A2)"),
    ]
    assert "re-entered 2 XLP_ formulas" in result.summary[0].en
    assert "重新输入 2 个 XLP_ 公式" in result.summary[0].zh
    again = run_relink(port, CTX)
    assert "no formula needed repair; re-entered 2 XLP_ formulas" in again.summary[0].en


def test_relink_on_a_workbook_without_add_in_formulas_writes_nothing() -> None:
    port = Formulas({("Plan", "B3"): "=SUM(A1:A2)"})
    result = run_relink(port, CTX)
    assert port.writes == []
    assert result.summary[0].en == "relink: no formula needed repair"
