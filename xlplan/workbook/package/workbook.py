"""The workbook part (``xl/workbook.xml``): its sheets, defined names and relationships.

Read through ElementTree; appending a sheet or a relationship edits the text only, so the
user's sheets, defined names and extensions keep their bytes. Also owns the calculation chain
(``xl/calcChain.xml``), which hangs off the workbook part.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from xlplan.core.errors import FileRefused
from xlplan.workbook.package.contenttypes import CT_WORKSHEET
from xlplan.workbook.package.relationships import (
    REL_NS,
    RT_CALC_CHAIN,
    RT_OFFICE_DOC,
    RT_WORKSHEET,
    Rel,
    delete_parts,
    read_rels,
    relative_target,
    rels_part,
    render_rels,
)
from xlplan.workbook.package.xmltext import attr, insert_before_close, quoteattr, remove_elements
from xlplan.workbook.package.zip import Package, not_workbook, parse_part

__all__ = ["MAIN_NS", "STRICT_MARK", "Sheet", "Workbook", "drop_calc_chain_if_stale"]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MARK = "purl.oclc.org/ooxml"  # in every Strict Open XML namespace and relationship type


@dataclass(frozen=True)
class Sheet:
    """One ``<sheet>`` of the workbook and the part its relationship points at."""

    name: str
    sheet_id: int
    rel_id: str
    rel_type: str
    part: str


@dataclass
class Workbook:
    """The workbook part of a package: where it is, its sheets, relationships and names."""

    part: str
    sheets: list[Sheet]
    rels: list[Rel]
    defined_names: list[str]

    @property
    def base_dir(self) -> str:
        return posixpath.dirname(self.part)

    @classmethod
    def read(cls, pkg: Package) -> Workbook:
        """The workbook part of ``pkg``, found through the package's officeDocument relationship.

        Raises
        ------
        FileRefused
            No workbook part, a binary (.xlsb) or Strict Open XML workbook, or an unexpected
            root element.
        """
        root_rels = read_rels(pkg, "")
        if any(STRICT_MARK in r.type for r in root_rels):
            raise _strict(pkg.label)
        docs = [r for r in root_rels if r.type == RT_OFFICE_DOC and not r.external]
        if not docs or not pkg.has(docs[0].part):
            raise not_workbook(pkg.label, "no workbook part")
        part = docs[0].part
        if not part.lower().endswith(".xml"):
            raise FileRefused(
                f"不支持二进制工作簿 (.xlsb)：{pkg.label}",
                f"binary workbooks (.xlsb) are not supported: {pkg.label}",
            )
        root = parse_part(pkg, part)
        if STRICT_MARK in root.tag:
            raise _strict(pkg.label)
        if root.tag != f"{{{MAIN_NS}}}workbook":
            raise not_workbook(pkg.label, f"unexpected root element {root.tag}")
        rels = read_rels(pkg, part)
        by_id = {r.id: r for r in rels}
        sheets = []
        for el in root.iter(f"{{{MAIN_NS}}}sheet"):
            rel = by_id.get(el.get(f"{{{REL_NS}}}id", ""))
            sheets.append(
                Sheet(
                    name=el.get("name", ""),
                    sheet_id=int(el.get("sheetId", "0")),
                    rel_id=rel.id if rel else "",
                    rel_type=rel.type if rel else "",
                    part=rel.part if rel else "",
                )
            )
        names = [el.get("name", "") for el in root.iter(f"{{{MAIN_NS}}}definedName")]
        return cls(part, sheets, rels, names)

    def find(self, name: str) -> Sheet | None:
        """The sheet named ``name``, compared case-insensitively as Excel does."""
        return next((s for s in self.sheets if s.name.casefold() == name.casefold()), None)

    def rel_of_type(self, rel_type: str) -> Rel | None:
        return next((r for r in self.rels if r.type == rel_type and not r.external), None)

    def add_rel(self, pkg: Package, rel_type: str, part: str) -> str:
        """Add a relationship from the workbook part to ``part``; return its fresh id."""
        rels_name = rels_part(self.part)
        taken = {r.id for r in self.rels}
        rid = next(f"rId{n}" for n in range(1, len(taken) + 2) if f"rId{n}" not in taken)
        target = relative_target(self.part, part)
        fragment = (
            f"<Relationship Id={quoteattr(rid)} Type={quoteattr(rel_type)}"
            f" Target={quoteattr(target)}/>"
        )
        text = pkg.read_text(rels_name) if pkg.has(rels_name) else render_rels([])
        pkg.write_text(rels_name, insert_before_close(text, "Relationships", fragment))
        self.rels.append(Rel(rid, rel_type, target, False, part))
        return rid

    def append_sheet(self, pkg: Package, name: str, part: str) -> None:
        """Add ``<sheet>`` after the last tab and its relationship, editing the text only."""
        rid = self.add_rel(pkg, RT_WORKSHEET, part)
        text = pkg.read_text(self.part)
        root_tag = re.search(r"<((?:[\w.-]+:)?)workbook\b[^>]*>", text)
        prefix = root_tag.group(1) if root_tag else ""
        r_prefix = re.search(
            rf'xmlns:([\w.-]+)\s*=\s*"{re.escape(REL_NS)}"', root_tag.group(0) if root_tag else ""
        )
        sheet_id = max((s.sheet_id for s in self.sheets), default=0) + 1
        rid_attr = (
            f"{r_prefix.group(1)}:id={quoteattr(rid)}"
            if r_prefix
            else f'xmlns:r="{REL_NS}" r:id={quoteattr(rid)}'
        )
        fragment = f'<{prefix}sheet name={quoteattr(name)} sheetId="{sheet_id}" {rid_attr}/>'
        pkg.write_text(self.part, insert_before_close(text, "sheets", fragment, prefix))
        pkg.content_types.ensure(part, CT_WORKSHEET)
        self.sheets.append(Sheet(name, sheet_id, rid, RT_WORKSHEET, part))

    def remove_rel(self, pkg: Package, rel_id: str) -> None:
        """Drop relationship ``rel_id`` of the workbook part (the target part stays)."""
        rels_name = rels_part(self.part)
        text = remove_elements(
            pkg.read_text(rels_name), "Relationship", lambda tag: attr(tag, "Id") != rel_id
        )
        pkg.write_text(rels_name, text)
        self.rels = [r for r in self.rels if r.id != rel_id]


def drop_calc_chain_if_stale(pkg: Package, wb: Workbook, sheet_ids: set[int]) -> None:
    """Delete ``xl/calcChain.xml`` when it lists cells of the sheets ``sheet_ids``.

    Excel rebuilds a missing chain, but "repairs" a file whose chain points at cells that no
    longer hold formulas. A chain listing only other sheets stays byte-identical.
    """
    rel = wb.rel_of_type(RT_CALC_CHAIN)
    if rel is None or not sheet_ids or not pkg.has(rel.part):
        return
    current = 0  # a <c> without i="" is on the sheet of the entry before it
    for tag in re.findall(r"<(?:[\w.-]+:)?c\b[^>]*>", pkg.read_text(rel.part)):
        value = attr(tag, "i")
        current = int(value) if value is not None else current
        if current in sheet_ids:
            delete_parts(pkg, [rel.part])
            wb.remove_rel(pkg, rel.id)
            return


def _strict(label: str) -> FileRefused:
    return FileRefused(
        f"不支持 Strict Open XML 格式的工作簿，请在 Excel 中另存为“Excel 工作簿 (*.xlsx)”：{label}",
        "Strict Open XML workbooks are not supported; save as 'Excel Workbook (*.xlsx)': " + label,
    )
