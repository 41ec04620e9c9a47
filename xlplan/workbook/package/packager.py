"""Write owned sheets into a target package: plan, check, then call each part's writer.

The parts do the work (:mod:`.zip`, :mod:`.contenttypes`, :mod:`.relationships`,
:mod:`.workbook`, :mod:`.styles`, :mod:`.sheets`); this module decides which sheets are
replaced or appended, refuses requests that clash with the target, and keeps the order of
the steps, on which the output bytes depend.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from xlplan.core.errors import TemplateError
from xlplan.workbook.package.contenttypes import CT_TABLE
from xlplan.workbook.package.relationships import (
    RT_WORKSHEET,
    delete_parts,
    parts_freed_by,
    reachable_parts,
)
from xlplan.workbook.package.sheetdata import RowBlock
from xlplan.workbook.package.sheets import (
    PartCopier,
    read_shared_strings,
    read_tables,
    transplant_sheet,
)
from xlplan.workbook.package.styles import StyleMerger
from xlplan.workbook.package.workbook import Sheet, Workbook, drop_calc_chain_if_stale
from xlplan.workbook.package.zip import Package, Source, parse_part

__all__ = ["write_owned_sheets"]


def write_owned_sheets(
    target: Source, owned: Source, sheet_names: Sequence[str], rows: Sequence[RowBlock] = ()
) -> bytes:
    """Return ``target`` with the worksheets named ``sheet_names`` taken from the package ``owned``.

    Parameters
    ----------
    target
        The user's workbook (.xlsx/.xlsm/.xltx): bytes, a binary file object or a path.
    owned
        A complete workbook written by XlsxWriter that holds the sheets XLPlan owns.
    sheet_names
        Names of worksheets in ``owned`` to write. Names match case-insensitively, as in Excel.
    rows
        Blocks of data rows to write into the owned sheets (by the owned sheet's name), straight
        as XML (:mod:`.sheetdata`): the big tables, which XlsxWriter would take minutes over.

    A sheet that already exists in ``target`` is replaced in place: its tab position,
    ``sheetId``, relationship id and name (spelling as in the target) stay, its old tables,
    drawings, charts and comments are deleted when nothing else refers to them. Other sheets
    are appended after the last tab. ``xl/calcChain.xml`` is deleted (part, content type and
    workbook relationship) only when it lists cells of a replaced sheet; Excel rebuilds it.

    Returns the new package as bytes; the inputs are not modified.

    Raises
    ------
    InputError
        A file is not a readable transitional OOXML workbook (not a zip, encrypted, .xls,
        .xlsb, Strict Open XML).
    TemplateError
        The request clashes with the workbook's structure: a sheet name used by a chartsheet,
        a table or defined name of the same name elsewhere in the target, a sheet missing from
        ``owned``, or owned content this module cannot transplant (see the package docstring).
    """
    tgt = Package.load(target, "target")
    own = Package.load(owned, "owned")
    twb = Workbook.read(tgt)
    owb = Workbook.read(own)
    jobs = [_plan_job(name, twb, owb) for name in _unique(sheet_names)]

    replaced = [job.existing for job in jobs if job.existing is not None]
    delete_parts(tgt, parts_freed_by(tgt, [s.part for s in replaced]))
    _check_names(tgt, twb, own, jobs)
    drop_calc_chain_if_stale(tgt, twb, {s.sheet_id for s in replaced})

    styles = StyleMerger.create(tgt, twb, own, owb)
    if styles.copy_owned:  # before the sheets: a rerun then lists the parts in the same order
        styles.save(tgt, twb)
    strings = read_shared_strings(own, owb)
    last_rows = {b.table.casefold(): b.last_row for b in rows if b.table}
    copier = PartCopier(tgt, own, styles, last_rows)
    # Sheet parts first, dependents after: a rerun, which keeps the sheets, lists parts alike.
    parts: dict[str, str] = {}
    for job in jobs:
        if job.existing is not None:
            parts[job.owned.part] = job.existing.part
        else:
            parts[job.owned.part] = copier.allocate(
                posixpath.join(twb.base_dir, "worksheets/sheet1.xml")
            )
            twb.append_sheet(tgt, job.owned.name, parts[job.owned.part])
    for job in jobs:
        name = job.owned.name.casefold()
        blocks = [b for b in rows if b.sheet.casefold() == name]
        sheet_xml = transplant_sheet(own.read(job.owned.part), strings, styles, blocks)
        copier.copy_sheet(job.owned.part, parts[job.owned.part], sheet_xml)
    if not styles.copy_owned:
        styles.save(tgt, twb)
    return tgt.to_bytes()


@dataclass(frozen=True)
class _Job:
    owned: Sheet
    existing: Sheet | None


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def _plan_job(name: str, twb: Workbook, owb: Workbook) -> _Job:
    owned = owb.find(name)
    if owned is None or owned.rel_type != RT_WORKSHEET:
        raise TemplateError(f"owned package has no worksheet named {name!r}")
    existing = twb.find(name)
    if existing is not None and existing.rel_type != RT_WORKSHEET:
        raise TemplateError(
            f"sheet {existing.name!r} in the workbook is not a worksheet (a chartsheet?); "
            "rename it so XLPlan can write its own sheet"
        )
    return _Job(owned, existing)


def _check_names(tgt: Package, twb: Workbook, own: Package, jobs: list[_Job]) -> None:
    """Table names share one namespace with each other and with defined names (Excel rule)."""
    taken = {t.name.casefold(): t.part for t in read_tables(tgt)}
    defined = {n.casefold() for n in twb.defined_names}
    for job in jobs:
        for part in reachable_parts(own, [job.owned.part]):
            if own.content_types.of(part) != CT_TABLE:
                continue
            root = parse_part(own, part)
            for name in {root.get("name", ""), root.get("displayName", "")} - {""}:
                if name.casefold() in taken:
                    raise TemplateError(
                        f"table {name!r} already exists in the workbook ({taken[name.casefold()]}) "
                        f"on a sheet XLPlan does not own; rename that table"
                    )
                if name.casefold() in defined:
                    raise TemplateError(
                        f"the workbook has a defined name {name!r}, which is also the name of "
                        "XLPlan's table; rename the defined name"
                    )
