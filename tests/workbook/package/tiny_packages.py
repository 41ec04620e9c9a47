"""Small in-memory packages for the per-part tests: a dict of parts in, a zip or Package out.

Imported by bare name, like ``tests/udfs/xlwings_windows.py`` (pytest puts this folder on the path).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from xlplan.workbook.package import Package

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"

Parts = Mapping[str, str | bytes]


def content_types(*overrides: tuple[str, str]) -> str:
    """A ``[Content_Types].xml`` with the usual Defaults and ``(part, type)`` Overrides."""
    items = "".join(f'<Override PartName="/{p}" ContentType="{t}"/>' for p, t in overrides)
    return (
        f'<Types xmlns="{CT_NS}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
        '.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{items}</Types>"
    )


def rels(*items: tuple[str, str, str]) -> str:
    """A ``.rels`` part from ``(id, type suffix, target)``; the suffix is appended to REL_NS."""
    body = "".join(
        f'<Relationship Id="{rid}" Type="{REL_NS}/{kind}" Target="{target}"/>'
        for rid, kind, target in items
    )
    return f'<Relationships xmlns="{PKG_REL_NS}">{body}</Relationships>'


def workbook_parts(
    sheets: str = '<sheet name="Sheet1" sheetId="1" r:id="rId1"/>', extra: str = ""
) -> dict[str, str | bytes]:
    """The smallest transitional workbook: one sheet, a styles part, nothing else."""
    return {
        "[Content_Types].xml": content_types(
            ("xl/workbook.xml", f"{SML}.sheet.main+xml"),
            ("xl/worksheets/sheet1.xml", f"{SML}.worksheet+xml"),
            ("xl/styles.xml", f"{SML}.styles+xml"),
        ),
        "_rels/.rels": rels(("rId1", "officeDocument", "xl/workbook.xml")),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>{sheets}</sheets>'
            f"{extra}</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": rels(
            ("rId1", "worksheet", "worksheets/sheet1.xml"), ("rId2", "styles", "styles.xml")
        ),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN_NS}"><sheetData/></worksheet>',
        "xl/styles.xml": f'<styleSheet xmlns="{MAIN_NS}"/>',
    }


def zip_of(parts: Parts, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The parts zipped in the given order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def package_of(parts: Parts) -> Package:
    """A :class:`Package` of ``parts`` (a ``[Content_Types].xml`` among them)."""
    return Package.load(zip_of(parts), "test")
