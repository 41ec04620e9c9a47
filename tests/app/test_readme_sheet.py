"""The in-workbook Read Me (issue 11: it covered only landed cost): the planner's steps in
order, then every sheet of the workbook, in the workbook's order, saying whether the planner
fills it or XLPlan writes it."""

from __future__ import annotations

import io

import openpyxl
import pytest

from xlplan import actions
from xlplan.app import templates


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_read_me_covers_every_sheet_in_order(lang: str) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(templates.template_bytes(lang)))
    readme = wb.worksheets[0]
    rows = [(r[1], r[2]) for r in readme.iter_rows(values_only=True, max_col=3)]
    listed = [name for name, about in rows if name in wb.sheetnames and about]
    assert listed == wb.sheetnames[1:]
    by_title = {s.title(lang): s for s in actions.CATALOG.sheets.values()}
    owned = {"zh": "[XLPlan 写入]", "en": "[written by XLPlan]"}[lang]
    filled = {"zh": "[填写]", "en": "[you fill]"}[lang]
    for name, about in rows:
        if name in wb.sheetnames and about:
            assert about.startswith(owned if by_title[name].owned else filled), name
            assert len(about) > len(owned) + 5, name  # says what the sheet holds
    steps = [about for number, about in rows if str(number or "").rstrip(".").isdigit()]
    assert len(steps) >= 9
    order = ["Settings", "Landed Cost", "Business Map", "Customer Map", "Product Map"]
    if lang == "en":
        firsts = [next(i for i, s in enumerate(steps) if s.startswith(o)) for o in order]
        assert firsts == sorted(firsts)
