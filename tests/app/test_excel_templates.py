"""Finding 8 of issue 10: the templates also ship as Excel templates (.xltx), which Excel opens
as a new unsaved copy (so Ctrl+S asks where to save)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from xlplan.app import templates
from xlplan.workbook.package import Package

REPO = Path(__file__).resolve().parents[2]
SHEET_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def _main_type(data: bytes) -> str:
    return Package.load(data, "t").content_types.of("xl/workbook.xml")


@pytest.mark.parametrize("lang", templates.LANGS)
def test_the_excel_template_is_typed_as_a_template_and_otherwise_the_workbook(lang: str) -> None:
    workbook = templates.template_bytes(lang)
    template = templates.as_excel_template(workbook)
    assert _main_type(workbook) == SHEET_MAIN
    assert _main_type(template) == templates.CT_WORKBOOK_TEMPLATE
    with zipfile.ZipFile(io.BytesIO(workbook)) as a, zipfile.ZipFile(io.BytesIO(template)) as b:
        assert a.namelist() == b.namelist()
        changed = [n for n in a.namelist() if a.read(n) != b.read(n)]
    assert changed == ["[Content_Types].xml"]
    wb = openpyxl.load_workbook(io.BytesIO(template))
    assert wb.template is True


def test_templates_build_writes_both_forms_and_check_covers_both(tmp_path: Path) -> None:
    paths = templates.build_templates(tmp_path)
    assert [p.name for p in paths] == [
        "xlplan-template-zh.xlsx",
        "xlplan-template-en.xlsx",
        "xlplan-template-zh.xltx",
        "xlplan-template-en.xltx",
    ]
    assert templates.check_templates(tmp_path) == []
    templates.template_path(tmp_path, "en", ".xltx").unlink()
    assert templates.check_templates(tmp_path) == ["xlplan-template-en.xltx: missing"]


def test_the_committed_excel_templates_are_a_fresh_build() -> None:
    for lang in templates.LANGS:
        path = templates.template_path(REPO / "workbooks", lang, ".xltx")
        assert _main_type(path.read_bytes()) == templates.CT_WORKBOOK_TEMPLATE
    assert templates.check_templates(REPO / "workbooks") == []


def test_a_plan_year_goes_into_the_excel_template() -> None:
    data = templates.excel_template_bytes("en", plan_year=2031)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["Settings"]
    year = next(r for r in ws.iter_rows() if r[0].value == "plan_year")[1].value
    assert int(year) == 2031
