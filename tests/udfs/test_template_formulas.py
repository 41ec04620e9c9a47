"""Every XLP_ formula in the shipped templates: a known UDF, the right arity, references that
exist, and the real UDF code evaluated on the template's own tables agrees with the headless run.
"""

from __future__ import annotations

import importlib
import inspect
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

import udfs
from xlplan import actions
from xlplan.actions import CATALOG
from xlplan.app import templates
from xlplan.workbook.io import FilePort

CALL = re.compile(r"(XLP_[A-Z_]+)\(")
UDFS = {
    name: getattr(module, name)
    for module in (importlib.import_module(m) for m in udfs.MODULES)
    for name in dir(module)
    if name.startswith("XLP_")
}
"""Every UDF of every UDF module, by name."""
STRUCTURED = re.compile(r"^(tbl\w+)\[#All\]$")


def _formulas(data: bytes) -> list[tuple[str, str, str]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                text = value.text if isinstance(value, ArrayFormula) else value
                if isinstance(text, str) and text.startswith("=") and "XLP_" in text:
                    found.append((ws.title, cell.coordinate, text))
    return found


def _call(text: str) -> tuple[str, str]:
    """The XLP_ function a formula calls and its argument text (balanced parentheses)."""
    m = CALL.search(text)
    assert m, text
    depth, end = 1, m.end()
    while depth:
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        end += 1
    return m.group(1), text[m.end() : end - 1]


def _split_args(text: str) -> list[str]:
    depth, current, out = 0, "", []
    for ch in text:
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
            continue
        depth += ch in "(["
        depth -= ch in ")]"
        current += ch
    out.append(current.strip())
    return out


def _resolve(wb: Any, arg: str) -> Any:
    """The 2-D values Excel would pass for a table reference or a defined name."""
    m = STRUCTURED.match(arg)
    if m:
        for ws in wb.worksheets:
            if m.group(1) in ws.tables:
                c1, r1, c2, r2 = range_boundaries(ws.tables[m.group(1)].ref)
                return [
                    list(r)
                    for r in ws.iter_rows(
                        min_row=r1, max_row=r2, min_col=c1, max_col=c2, values_only=True
                    )
                ]
        raise AssertionError(f"no table {m.group(1)}")
    name = wb.defined_names[arg]
    ((sheet, ref),) = list(name.destinations)
    value = wb[sheet][ref.replace("$", "")].value
    return value


@pytest.mark.parametrize("lang", templates.LANGS)
def test_template_formulas_call_known_udfs_with_valid_references(lang: str) -> None:
    data = templates.template_bytes(lang)
    formulas = _formulas(data)
    assert formulas, "the template carries its UDF formulas"
    wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    tables = {name for ws in wb.worksheets for name in ws.tables}
    for sheet, cell, text in formulas:
        name, arg_text = _call(text)
        func = UDFS.get(name)
        assert func is not None, f"{sheet}!{cell}: unknown function {name}"
        args = _split_args(arg_text)
        params = inspect.signature(func).parameters.values()
        required = sum(p.default is inspect.Parameter.empty for p in params)
        assert required <= len(args) <= len(list(params)), f"{sheet}!{cell}: arity"
        for arg in args:
            s = STRUCTURED.match(arg)
            if s:
                assert s.group(1) in tables, f"{sheet}!{cell}: no table {s.group(1)}"
            else:
                assert arg in wb.defined_names, f"{sheet}!{cell}: no name {arg}"


@pytest.mark.parametrize("lang", templates.LANGS)
def test_landed_cost_formula_evaluates_like_the_headless_run(lang: str, tmp_path: Path) -> None:
    data = templates.template_bytes(lang)
    wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    ((_, _, text),) = [f for f in _formulas(data) if "XLP_LANDED_COST(" in f[2]]
    args = [_resolve(wb, a) for a in _split_args(_call(text)[1])]
    block = UDFS["XLP_LANDED_COST"](*args)
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)
    port = FilePort(path, CATALOG)
    actions.run(port, date(2026, 11, 21), ["landed_cost"])
    headless = port.written["landed_cost_results"]
    assert len(block) == len(headless) + 1  # header row + one row per line
    header = block[0]
    assert header[-1] in ("错误", "Error")
    for i, row in enumerate(block[1:]):
        assert row[-1] == "", row[-1]
        got = dict(zip(header, row, strict=True))
        col = "落地成本" if lang == "zh" else "Landed cost"
        assert got[col] == pytest.approx(headless["landed_cost"].iloc[i])


@pytest.mark.parametrize("lang", templates.LANGS)
def test_every_template_formula_evaluates_without_an_error_cell(lang: str) -> None:
    data = templates.template_bytes(lang)
    wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    for sheet, cell, text in _formulas(data):
        name, arg_text = _call(text)
        block = UDFS[name](*[_resolve(wb, a) for a in _split_args(arg_text)])
        assert isinstance(block, list) and all(isinstance(r, list) for r in block)
        flat = [str(v) for r in block for v in r]
        assert not any(v.startswith("#XLPLAN!") for v in flat), (sheet, cell, flat[:3])
        assert len({len(r) for r in block}) == 1, (sheet, cell)  # a rectangle Excel can spill
