"""Cell references the sheet builders write into formulas."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from xlplan.workbook.render import cell_ref, column_letters


@given(st.integers(0, 1_048_575), st.integers(0, 16_383), st.booleans(), st.booleans())
def test_references_are_excels(row: int, col: int, row_abs: bool, col_abs: bool) -> None:
    assert cell_ref(row, col, row_abs, col_abs) == xl_rowcol_to_cell(row, col, row_abs, col_abs)
    assert column_letters(col) == xl_col_to_name(col)


def test_edges() -> None:
    assert cell_ref(0, 0) == "A1"
    assert cell_ref(0, 1, True, True) == "$B$1"
    assert column_letters(25) == "Z" and column_letters(26) == "AA"
    assert cell_ref(1_048_575, 16_383) == "XFD1048576"


def test_a_command_that_writes_no_template_does_not_import_xlsxwriter() -> None:
    # XlsxWriter builds templates; importing it costs every other command ~0.04 s
    code = (
        "import sys, xlplan.app.cli, xlplan.actions, udfs.landed_cost, udfs.kpi; "
        "print('xlsxwriter' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
