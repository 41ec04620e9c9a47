"""Write XLPlan's own sheets into a user's workbook at the zip (OPC package) level.

openpyxl rewrites every part it loads and silently drops what it does not model (charts, images,
VBA, pivot caches, slicers, custom XML, ...), so it must never save a user's file. Instead
:func:`write_owned_sheets` treats the .xlsx/.xlsm as a zip of parts and changes only:

- the worksheet parts XLPlan owns and what hangs off them through their ``.rels`` (tables,
  drawings, charts, images, comments and their VML);
- ``xl/workbook.xml`` (one ``<sheet>`` per appended sheet), ``xl/_rels/workbook.xml.rels``,
  ``[Content_Types].xml`` and ``xl/styles.xml`` -- by inserting or deleting text, so every
  byte of the user's own entries stays where it was;
- ``xl/calcChain.xml``, deleted only when it lists cells of a replaced sheet (Excel rebuilds the
  chain; a chain that points at cells which no longer hold formulas makes Excel "repair" the file).

Every other zip member is copied with its original compressed bytes, compression method and
position. ``docProps/app.xml`` is left alone: its sheet list (TitlesOfParts) is informative and
both Excel and LibreOffice ignore a stale one.

The owned sheets come from a package written by XlsxWriter: default namespace, shared strings,
styles indexed into its own ``styles.xml``. Transplanted cells get inline strings (the target's
shared string table stays byte-identical) and style indices into the target's ``styles.xml``,
where the owned fonts, fills, borders, number formats, cell formats and differential formats
are appended (or reused when an identical entry exists, so repeated runs do not grow it).

Not supported in owned sheets: dynamic-array formulas and in-cell pictures (cell/value
metadata, ``cm``/``vm``), named cell styles other than Normal (mapped to Normal), custom table
styles, and workbook-level defined names of the owned package (print areas, filter ranges).
Every XML part read from a user's package is parsed without DTDs, entities or external
references (defusedxml; a part that declares a DTD is refused, as the Open Packaging
Conventions forbid them) and within the size limits of :mod:`.limits`. The owned sheets
(XlsxWriter's) are streamed through expat and written back element by element; the big tables'
rows come as blocks written straight as XML (:mod:`.sheetdata`).

One module per part, each readable and testable alone:

- :mod:`.zip` -- the zip layer: members read and written raw, refusals of non-workbooks;
- :mod:`.contenttypes` -- ``[Content_Types].xml``;
- :mod:`.relationships` -- ``.rels`` parts and the part graph they form;
- :mod:`.workbook` -- ``xl/workbook.xml`` (sheets, defined names) and ``xl/calcChain.xml``;
- :mod:`.styles` -- merging ``xl/styles.xml``;
- :mod:`.sheets` -- transplanting worksheets and copying their tables, drawings and VML;
- :mod:`.sheetdata` -- worksheet rows written straight as XML, a whole table at once;
- :mod:`.limits` -- hardened XML parsing and the caps on what one run may expand;
- :mod:`.xmltext` -- the text-level XML edits the parts share;
- :mod:`.packager` -- :func:`write_owned_sheets`, which plans and calls the parts in order.
"""

from __future__ import annotations

from xlplan.workbook.package.contenttypes import (
    CT_NS,
    CT_STYLES,
    CT_TABLE,
    CT_VML,
    CT_WORKSHEET,
    ContentTypes,
)
from xlplan.workbook.package.packager import write_owned_sheets
from xlplan.workbook.package.relationships import (
    PKG_REL_NS,
    REL_NS,
    RT_CALC_CHAIN,
    RT_OFFICE_DOC,
    RT_SHARED_STRINGS,
    RT_STYLES,
    RT_WORKSHEET,
    Rel,
    delete_parts,
    read_rels,
)
from xlplan.workbook.package.workbook import MAIN_NS, STRICT_MARK, Sheet, Workbook
from xlplan.workbook.package.xmltext import insert_before_close, remove_elements
from xlplan.workbook.package.zip import Package, Source

__all__ = [
    "CT_NS",
    "CT_STYLES",
    "CT_TABLE",
    "CT_VML",
    "CT_WORKSHEET",
    "MAIN_NS",
    "PKG_REL_NS",
    "REL_NS",
    "RT_CALC_CHAIN",
    "RT_OFFICE_DOC",
    "RT_SHARED_STRINGS",
    "RT_STYLES",
    "RT_WORKSHEET",
    "STRICT_MARK",
    "ContentTypes",
    "Package",
    "Rel",
    "Sheet",
    "Source",
    "Workbook",
    "delete_parts",
    "insert_before_close",
    "read_rels",
    "remove_elements",
    "write_owned_sheets",
]
