"""Worksheet parts: transplant an owned sheet's XML and copy the parts that hang off it.

The owned sheets come from a package written by XlsxWriter: default namespace, shared strings,
styles indexed into its own ``styles.xml``. Transplanted cells get inline strings (the target's
shared string table stays byte-identical) and style indices into the target's ``styles.xml``
(see :mod:`.styles`). Tables, drawings, charts, images, comments and their VML are copied under
fresh part names, with table ids and VML shape-id blocks no other part of the target uses.

Not supported in owned sheets: dynamic-array formulas and in-cell pictures (cell/value
metadata, ``cm``/``vm``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from xlplan.core.errors import TemplateError
from xlplan.workbook.package.contenttypes import CT_TABLE, CT_VML, CT_WORKSHEET
from xlplan.workbook.package.relationships import (
    RT_SHARED_STRINGS,
    read_rels,
    relative_target,
    rels_part,
    render_rels,
)
from xlplan.workbook.package.sheetdata import RowBlock, column_name, range_bounds, render_rows
from xlplan.workbook.package.styles import StyleMerger
from xlplan.workbook.package.workbook import MAIN_NS, Workbook
from xlplan.workbook.package.zip import Package, parse_part

__all__ = [
    "PartCopier",
    "TableInfo",
    "read_shared_strings",
    "read_tables",
    "transplant_sheet",
    "transplant_sheet_xml",
]


def read_shared_strings(own: Package, owb: Workbook) -> list[str]:
    """Inner XML of each ``<si>`` of the owned package, to become ``<is>`` content verbatim."""
    rel = owb.rel_of_type(RT_SHARED_STRINGS)
    if rel is None or not own.has(rel.part):
        return []
    items: list[str] = []
    current: list[_Emitter] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "si":
            current.append(_Emitter())
        elif current:
            current[-1].start(name, attrs)

    def end(name: str) -> None:
        if name == "si":
            items.append(current.pop().text_out())
        elif current:
            current[-1].end(name)

    def text(data: str) -> None:
        if current:
            current[-1].text(data)

    _parse(own.read(rel.part), start, end, text)
    return items


class _Emitter:
    """Writes parsed elements back as XML; an element with no content as ``<x/>``."""

    def __init__(self) -> None:
        self.out: list[object] = []  # text pieces, and RowBlocks where their rows go
        self.pending: str | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.flush()
        self.pending = f"<{name}" + "".join(f' {k}="{_attr_escape(v)}"' for k, v in attrs.items())

    def end(self, name: str) -> None:
        if self.pending is not None:
            self.out.append(self.pending + "/>")
            self.pending = None
        else:
            self.out.append(f"</{name}>")

    def text(self, data: str) -> None:
        self.flush()
        self.out.append(_text_escape(data))

    def raw(self, piece: object) -> None:
        self.flush()
        self.out.append(piece)

    def flush(self) -> None:
        if self.pending is not None:
            self.out.append(self.pending + ">")
            self.pending = None

    def text_out(self) -> str:
        self.flush()
        return "".join(str(p) for p in self.out)


def _attr_escape(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def _text_escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _parse(
    data: bytes,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    text: Callable[[str], None],
) -> None:
    """Stream ``data`` through expat (no namespace processing: names as written), refusing
    any DTD."""
    from xml.parsers import expat

    parser = expat.ParserCreate()
    parser.buffer_text = True

    def doctype(*_: object) -> None:
        raise TemplateError("owned part declares a DTD")

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise TemplateError(f"owned part is not well-formed: {exc}") from exc


def transplant_sheet_xml(
    xml: bytes, strings: list[str], styles: StyleMerger, rows: Sequence[RowBlock] = ()
) -> str:
    """Rewrite an owned sheet for the target: inline strings, target style indices.

    See :func:`transplant_sheet` (this is its whole result as text).
    """
    return b"".join(transplant_sheet(xml, strings, styles, rows)).decode("utf-8")


def transplant_sheet(
    xml: bytes, strings: list[str], styles: StyleMerger, rows: Sequence[RowBlock] = ()
) -> Iterator[bytes]:
    """The owned sheet rewritten for the target, streamed in chunks: inline strings, target
    style indices, and ``rows`` (blocks of data rows written straight as XML,
    :mod:`.sheetdata`) in their places among the sheet's own rows.

    The owned sheet (XlsxWriter's, small once its big tables come as ``rows``) is streamed
    through expat and written back element by element; no pattern is matched per cell.

    Parameters
    ----------
    xml
        The owned worksheet part.
    strings
        The owned package's shared strings (:func:`read_shared_strings`).
    styles
        Maps the owned style indices (cells, rows, columns, conditional formats).
    rows
        Data rows to put into the sheet, their cell formats as owned cellXfs indices.

    Raises
    ------
    TemplateError
        The sheet is not in the default namespace, uses cell metadata, refers to a shared
        string or style entry the owned package does not have, or has rows of its own where
        a block's rows go.
    """
    out = _Emitter()
    blocks = sorted(rows, key=lambda b: b.first_row)
    pending = list(blocks)
    shared: dict[str, object] = {}  # the t="s" cell being read: its <v> text

    def put_blocks(before: int | None) -> None:
        while pending and (before is None or pending[0].first_row <= before):
            out.raw(pending.pop(0))

    def start(name: str, attrs: dict[str, str]) -> None:
        if (
            not out.out
            and out.pending is None
            and (name != "worksheet" or attrs.get("xmlns") != MAIN_NS)
        ):
            raise TemplateError("owned sheet is not a worksheet in the default namespace")
        if name == "c":
            if "cm" in attrs or "vm" in attrs:
                raise TemplateError(
                    "owned sheet uses cell metadata (dynamic arrays or in-cell pictures), "
                    "which cannot be transplanted"
                )
            attrs = _mapped(attrs, "s", styles.xf)
            if attrs.get("t") == "s":
                attrs["t"] = "inlineStr"
                shared["cell"], shared["v"] = True, None
                out.start(name, attrs)
                out.flush()
                return
        elif name == "v" and shared.get("cell"):
            shared["v"] = ""
            return
        elif name == "row":
            r = int(attrs.get("r", "0") or 0)
            for block in blocks:
                if block.first_row <= r <= block.last_row:
                    raise TemplateError(f"owned sheet has a row {r} inside a block of data rows")
            put_blocks(r)
            attrs = _mapped(attrs, "s", styles.xf)
        elif name == "col":
            attrs = _mapped(attrs, "style", styles.xf)
        elif name == "cfRule":
            attrs = {
                k: str(styles.dxf(int(v))) if k.lower().endswith("dxfid") and v.isdigit() else v
                for k, v in attrs.items()
            }
        elif name == "sheetView" and attrs.get("tabSelected") in ("1", "true"):
            # Two sheets with tabSelected open as a group in Excel: edits would hit both.
            attrs = {k: v for k, v in attrs.items() if k != "tabSelected"}
        elif name == "dimension" and blocks:
            attrs = {**attrs, "ref": _dimension(attrs.get("ref", "A1"), blocks)}
        out.start(name, attrs)

    def end(name: str) -> None:
        if name == "v" and shared.get("cell"):
            return
        if name == "c" and shared.get("cell"):
            index = str(shared.get("v") or "").strip()
            shared.clear()
            if not index.isdigit() or int(index) >= len(strings):
                raise TemplateError("owned sheet refers to a missing shared string")
            out.raw(f"<is>{strings[int(index)]}</is></c>")
            return
        if name == "sheetData":
            out.flush()
            put_blocks(None)
        out.end(name)

    def text(data: str) -> None:
        if shared.get("cell"):
            if shared.get("v") is not None:
                shared["v"] = str(shared["v"]) + data
            return
        out.text(data)

    _parse(xml, start, end, text)
    out.flush()
    if pending:
        raise TemplateError("owned sheet has no sheetData for its rows")
    # Styles are mapped now, not when the rows are written: the styles part is saved first.
    pieces = [
        _target_styles(item, styles) if isinstance(item, RowBlock) else item for item in out.out
    ]
    return _chunks(pieces)


def _target_styles(block: RowBlock, styles: StyleMerger) -> RowBlock:
    columns = [replace(c, xf=styles.xf(c.xf)) for c in block.columns]
    return replace(block, columns=columns)


def _chunks(pieces: list[object]) -> Iterator[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    text: list[str] = []
    for item in pieces:
        if isinstance(item, RowBlock):
            yield "".join(text).encode("utf-8")
            text = []
            yield from render_rows(item)
        else:
            text.append(str(item))
    yield "".join(text).encode("utf-8")


def _mapped(attrs: dict[str, str], name: str, mapper: Callable[[int], int]) -> dict[str, str]:
    value = attrs.get(name)
    if value is None or not value.isdigit():
        return attrs
    return {**attrs, name: str(mapper(int(value)))}


def _dimension(ref: str, blocks: Sequence[RowBlock]) -> str:
    try:
        c1, r1, c2, r2 = range_bounds(ref)
    except ValueError:
        c1, r1, c2, r2 = 1, 1, 1, 1
    for b in blocks:
        c1, r1 = min(c1, b.first_col), min(r1, b.first_row)
        c2, r2 = max(c2, b.last_col), max(r2, b.last_row)
    return f"{column_name(c1)}{r1}:{column_name(c2)}{r2}"


_DXF_ATTR_RE = re.compile(r'\b(\w*[dD]xfId)="(\d+)"')


@dataclass(frozen=True)
class TableInfo:
    """An Excel Table part: its name, ``id`` and name as formulas see it."""

    part: str
    table_id: int
    name: str


def read_tables(pkg: Package) -> list[TableInfo]:
    """Every table part of ``pkg`` (found by content type), in zip order."""
    out = []
    for part in pkg.names():
        if pkg.content_types.of(part) != CT_TABLE:
            continue
        root = parse_part(pkg, part)
        out.append(
            TableInfo(
                part, int(root.get("id", "0")), root.get("displayName") or root.get("name") or ""
            )
        )
    return out


class PartCopier:
    """Copies an owned sheet and its dependent parts under fresh names into the target."""

    def __init__(
        self,
        tgt: Package,
        own: Package,
        styles: StyleMerger,
        last_rows: dict[str, int] | None = None,
    ) -> None:
        self.tgt, self.own, self.styles = tgt, own, styles
        self.last_rows = last_rows or {}  # table name (casefolded) -> its range's last row
        self.names: dict[str, str] = {}  # owned part (lower) -> target part
        self.next_table_id = max([0, *(t.table_id for t in read_tables(tgt))]) + 1
        self.vml_blocks = _vml_blocks_in_use(tgt)

    def allocate(self, like: str) -> str:
        """The lowest free ``dir/stemN.ext`` modelled on ``like`` (``xl/tables/table1.xml``)."""
        folder, base = posixpath.split(like)
        stem, ext = posixpath.splitext(base)
        stem = stem.rstrip("0123456789") or stem
        taken = {n.lower() for n in self.tgt.names()}
        n = 1
        while posixpath.join(folder, f"{stem}{n}{ext}").lower() in taken:
            n += 1
        part = posixpath.join(folder, f"{stem}{n}{ext}")
        self.tgt.write(part, b"")  # reserve the name
        return part

    def copy_sheet(self, owned_part: str, new_part: str, sheet_xml: str | Iterable[bytes]) -> None:
        """Write ``sheet_xml`` (text, or chunks written as the zip is) as ``new_part``,
        replacing its old relationships with copies of the owned sheet's (and the parts they
        point at)."""
        old_rels = rels_part(new_part)
        self.tgt.delete(old_rels)
        if isinstance(sheet_xml, str):
            self.tgt.write_text(new_part, sheet_xml)
        else:
            self.tgt.write_stream(new_part, sheet_xml)
        self.tgt.content_types.ensure(new_part, CT_WORKSHEET)
        self.names[owned_part.lower()] = new_part
        self._copy_rels(owned_part, new_part)

    def _copy_rels(self, owned_part: str, new_part: str) -> None:
        rels = read_rels(self.own, owned_part)
        if not rels:
            return
        out = []
        for rel in rels:
            if rel.external or not self.own.has(rel.part):
                out.append((rel.id, rel.type, rel.target, rel.external))
                continue
            target = self._copy_part(rel.part)
            out.append((rel.id, rel.type, relative_target(new_part, target), False))
        self.tgt.write_text(rels_part(new_part), render_rels(out))

    def _copy_part(self, owned_part: str) -> str:
        key = owned_part.lower()
        if key in self.names:
            return self.names[key]
        new_part = self.allocate(owned_part)
        self.names[key] = new_part
        content_type = self.own.content_types.of(owned_part)
        data = self.own.read(owned_part)
        if content_type == CT_TABLE:
            data = self._table_xml(data)
        elif content_type == CT_VML:
            data = self._vml(data)
        self.tgt.write(new_part, data)
        self.tgt.content_types.ensure(new_part, content_type)
        self._copy_rels(owned_part, new_part)
        return new_part

    def _table_xml(self, data: bytes) -> bytes:
        text = data.decode("utf-8")
        table_id = self.next_table_id
        self.next_table_id += 1
        text = re.sub(r'(<table\b[^>]*?\sid=)"\d+"', rf'\1"{table_id}"', text, count=1)
        name = re.search(r'<table\b[^>]*?\sname="([^"]*)"', text)
        last = self.last_rows.get(name.group(1).casefold()) if name else None
        if last is not None:  # the range reaches the last of the rows written as XML
            text = re.sub(
                r'(<(?:table|autoFilter)\b[^>]*?\sref="[A-Z]+\d+:[A-Z]+)\d+"',
                rf'\g<1>{last}"',
                text,
                count=2,
            )
        text = _DXF_ATTR_RE.sub(
            lambda m: f'{m.group(1)}="{self.styles.dxf(int(m.group(2)))}"', text
        )
        return text.encode("utf-8")

    def _vml(self, data: bytes) -> bytes:
        """Give legacy VML shapes an id block no other sheet uses (Excel keys comments by it)."""
        text = data.decode("utf-8", errors="surrogateescape")
        m = re.search(r'<o:idmap\b[^>]*\bdata="(\d+)', text)
        if m is None:
            return data
        old = int(m.group(1))
        new = next(n for n in range(1, 10_000) if n not in self.vml_blocks)
        self.vml_blocks.add(new)
        text = re.sub(r'(<o:idmap\b[^>]*\bdata=")[\d,]+', rf"\g<1>{new}", text, count=1)

        # Shape ids are block * 1024 + n: move each into the new block.
        def shape(s: re.Match[str]) -> str:
            return f"_x0000_s{int(s.group(1)) - old * 1024 + new * 1024}"

        text = re.sub(r"_x0000_s(\d+)", shape, text)
        return text.encode("utf-8", errors="surrogateescape")


def _vml_blocks_in_use(pkg: Package) -> set[int]:
    blocks: set[int] = set()
    for part in pkg.names():
        if pkg.content_types.of(part) != CT_VML:
            continue
        text = pkg.read(part).decode("utf-8", errors="replace")
        for m in re.finditer(r'<o:idmap\b[^>]*\bdata="([\d,\s]+)"', text):
            blocks.update(int(x) for x in re.findall(r"\d+", m.group(1)))
    return blocks
