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
XML is parsed with the standard library only; expat never fetches external entities.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, unquote
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from xlplan.core.errors import InputError, TemplateError

__all__ = ["write_owned_sheets"]

Source = bytes | BinaryIO | Path | str

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
STRICT_MARK = "purl.oclc.org/ooxml"

RT_OFFICE_DOC = REL_NS + "/officeDocument"
RT_WORKSHEET = REL_NS + "/worksheet"
RT_STYLES = REL_NS + "/styles"
RT_SHARED_STRINGS = REL_NS + "/sharedStrings"
RT_CALC_CHAIN = REL_NS + "/calcChain"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FIXED_EPOCH = (1980, 1, 1, 0, 0, 0)  # new members get a fixed time: same inputs, same bytes

# Order of the top-level children of <styleSheet> (CT_Stylesheet): where to insert a missing one.
_STYLE_ORDER = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def write_owned_sheets(target: Source, owned: Source, sheet_names: Sequence[str]) -> bytes:
    """Return ``target`` with the worksheets named ``sheet_names`` taken from the package ``owned``.

    Parameters
    ----------
    target
        The user's workbook (.xlsx/.xlsm/.xltx): bytes, a binary file object or a path.
    owned
        A complete workbook written by XlsxWriter that holds the sheets XLPlan owns.
    sheet_names
        Names of worksheets in ``owned`` to write. Names match case-insensitively, as in Excel.

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
        ``owned``, or owned content this module cannot transplant (see the module docstring).
    """
    tgt = Package.load(target, "target")
    own = Package.load(owned, "owned")
    twb = _Workbook.read(tgt)
    owb = _Workbook.read(own)
    jobs = [_plan_job(name, twb, owb) for name in _unique(sheet_names)]

    replaced = [job.existing for job in jobs if job.existing is not None]
    _delete_parts(tgt, _parts_freed_by(tgt, [s.part for s in replaced]))
    _check_names(tgt, twb, own, jobs)
    _drop_calc_chain_if_stale(tgt, twb, {s.sheet_id for s in replaced})

    styles = _StyleMerger.create(tgt, twb, own, owb)
    if styles.copy_owned:  # before the sheets: a rerun then lists the parts in the same order
        styles.save(tgt, twb)
    strings = _read_shared_strings(own, owb)
    copier = _PartCopier(tgt, own, styles)
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
        sheet_xml = _transplant_sheet_xml(own.read(job.owned.part), strings, styles)
        copier.copy_sheet(job.owned.part, parts[job.owned.part], sheet_xml)
    if not styles.copy_owned:
        styles.save(tgt, twb)
    return tgt.to_bytes()


# --------------------------------------------------------------------------------------------
# The zip layer: read members raw, write them back raw
# --------------------------------------------------------------------------------------------


@dataclass
class _Member:
    """One zip member: original header fields and compressed bytes, or new content."""

    info: zipfile.ZipInfo
    raw: bytes | None  # original compressed bytes; None once the content changed
    data: bytes | None  # decompressed content, read lazily


class Package:
    """A workbook package held in memory. Part names are compared case-insensitively (OPC)."""

    def __init__(self, label: str, zf: zipfile.ZipFile, blob: bytes) -> None:
        self.label = label
        self._zf = zf
        self._members: dict[str, _Member] = {}
        for info in zf.infolist():
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise _not_workbook(label, "encrypted zip member")
            self._members[info.filename.lower()] = _Member(info, _raw_data(blob, info), None)
        self.content_types = _ContentTypes(self.read("[Content_Types].xml").decode("utf-8"))

    @classmethod
    def load(cls, source: Source, role: str) -> Package:
        blob, label = _read_source(source, role)
        if blob.startswith(_OLE_MAGIC):
            raise InputError(
                f"文件已加密或是旧版 .xls 格式，无法写入：{label}",
                f"the file is encrypted or a legacy .xls workbook, cannot write into it: {label}",
            )
        try:
            zf = zipfile.ZipFile(io.BytesIO(blob))
        except (zipfile.BadZipFile, OSError) as exc:
            raise _not_workbook(label, str(exc)) from exc
        if "[content_types].xml" not in {i.filename.lower() for i in zf.infolist()}:
            raise _not_workbook(label, "no [Content_Types].xml")
        try:
            return cls(label, zf, blob)
        except (zipfile.BadZipFile, OSError, ET.ParseError, UnicodeDecodeError) as exc:
            raise _not_workbook(label, str(exc)) from exc

    def names(self) -> list[str]:
        return [m.info.filename for m in self._members.values()]

    def has(self, part: str) -> bool:
        return part.lower() in self._members

    def read(self, part: str) -> bytes:
        member = self._members.get(part.lower())
        if member is None:
            raise KeyError(part)
        if member.data is None:
            try:
                member.data = self._zf.read(member.info)
            except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
                raise _not_workbook(self.label, f"{part}: {exc}") from exc
        return member.data

    def read_text(self, part: str) -> str:
        return self.read(part).decode("utf-8")

    def write(self, part: str, data: bytes) -> None:
        """Replace a member's content in place, or append a new member at the end."""
        member = self._members.get(part.lower())
        if member is None:
            info = zipfile.ZipInfo(part, _FIXED_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            info.create_system = 0
            self._members[part.lower()] = _Member(info, None, data)
        elif member.data != data or member.raw is None:
            member.raw, member.data = None, data

    def write_text(self, part: str, text: str) -> None:
        self.write(part, text.encode("utf-8"))

    def delete(self, part: str) -> None:
        self._members.pop(part.lower(), None)

    def to_bytes(self) -> bytes:
        self.content_types.save(self)
        return _write_zip(list(self._members.values()))


def _read_source(source: Source, role: str) -> tuple[bytes, str]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), f"<{role} bytes>"
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            return path.read_bytes(), str(path)
        except OSError as exc:
            raise InputError(
                f"无法读取文件：{path}（{exc.strerror}）", f"cannot read {path}: {exc.strerror}"
            ) from exc
    data = source.read()
    name = getattr(source, "name", None)
    return bytes(data), str(name) if isinstance(name, str) else f"<{role} stream>"


def _not_workbook(label: str, why: str) -> InputError:
    return InputError(
        f"文件不是有效的 Excel 工作簿：{label}（{why}）",
        f"not a valid Excel workbook: {label} ({why})",
    )


def _raw_data(blob: bytes, info: zipfile.ZipInfo) -> bytes:
    """The member's compressed bytes exactly as stored, found through its local header."""
    off = info.header_offset
    if blob[off : off + 4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", blob[off + 26 : off + 30])
    start = off + 30 + name_len + extra_len
    return blob[start : start + info.compress_size]


def _write_zip(members: list[_Member]) -> bytes:
    """Write members in order; unchanged ones keep their compressed bytes (no recompression).

    zipfile has no public way to copy compressed data, hence this small writer. No data
    descriptors and no zip64: workbooks over 4 GB are out of scope.
    """
    out = io.BytesIO()
    central: list[bytes] = []
    for member in members:
        info = member.info
        if member.raw is not None:
            raw, method = member.raw, info.compress_type
            crc, size = info.CRC, info.file_size
        else:
            data = member.data or b""
            method = zipfile.ZIP_STORED if info.compress_type == 0 else zipfile.ZIP_DEFLATED
            raw = data if method == zipfile.ZIP_STORED else _deflate(data)
            crc, size = zlib.crc32(data), len(data)
        utf8 = not info.orig_filename.isascii()
        name = info.orig_filename.encode("utf-8" if utf8 else "ascii")
        flags = (info.flag_bits & ~0x08 & ~0x800) | (0x800 if utf8 else 0)
        dos_time, dos_date = _dos_datetime(info.date_time)
        extract = info.extract_version if member.raw is not None else 20
        offset = out.tell()
        common = struct.pack(
            "<HHHHHLLLH", extract, flags, method, dos_time, dos_date, crc, len(raw), size, len(name)
        )
        out.write(b"PK\x03\x04" + common + struct.pack("<H", 0) + name + raw)
        made_by = (info.create_system << 8) | min(info.create_version, 63)
        central.append(
            b"PK\x01\x02"
            + struct.pack("<H", made_by)
            + common
            + struct.pack("<HHHHLL", 0, 0, 0, info.internal_attr, info.external_attr, offset)
            + name
        )
    cd_offset = out.tell()
    for entry in central:
        out.write(entry)
    cd_size = out.tell() - cd_offset
    out.write(
        b"PK\x05\x06"
        + struct.pack("<HHHHLLH", 0, 0, len(central), len(central), cd_size, cd_offset, 0)
    )
    return out.getvalue()


def _deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def _dos_datetime(dt: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = dt
    year = max(year, 1980)
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


# --------------------------------------------------------------------------------------------
# OPC: relationships and content types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rel:
    id: str
    type: str
    target: str
    external: bool
    part: str  # resolved part name (no leading slash); "" when external


def _rels_part(part: str) -> str:
    """``xl/worksheets/sheet1.xml`` -> ``xl/worksheets/_rels/sheet1.xml.rels``; "" -> root rels."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source: str, target: str) -> str:
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _relative(source: str, target: str) -> str:
    return quote(posixpath.relpath(target, posixpath.dirname(source) or "."), safe="/._-~")


def read_rels(pkg: Package, source: str) -> list[_Rel]:
    rels_name = _rels_part(source)
    if not pkg.has(rels_name):
        return []
    root = _parse(pkg, rels_name)
    rels = []
    for el in root.iter(f"{{{PKG_REL_NS}}}Relationship"):
        target = el.get("Target", "")
        external = el.get("TargetMode") == "External"
        rels.append(
            _Rel(
                id=el.get("Id", ""),
                type=el.get("Type", ""),
                target=target,
                external=external,
                part="" if external else _resolve(source, target),
            )
        )
    return rels


def _render_rels(rels: Iterable[tuple[str, str, str, bool]]) -> str:
    items = "".join(
        f"<Relationship Id={quoteattr(rid)} Type={quoteattr(rtype)} Target={quoteattr(target)}"
        + (' TargetMode="External"' if external else "")
        + "/>"
        for rid, rtype, target, external in rels
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{PKG_REL_NS}">{items}</Relationships>'
    )


def _parse(pkg: Package, part: str) -> ET.Element:
    try:
        return ET.fromstring(pkg.read(part))
    except ET.ParseError as exc:
        raise _not_workbook(pkg.label, f"{part}: {exc}") from exc


def _remove_elements(text: str, local_name: str, keep: Callable[[str], bool]) -> str:
    """Drop empty elements ``<x:Name .../>`` whose tag text fails ``keep``."""
    pattern = re.compile(rf"<(?:[\w.-]+:)?{local_name}\b[^>]*?/>")
    return pattern.sub(lambda m: m.group(0) if keep(m.group(0)) else "", text)


def _attr(tag_text: str, name: str) -> str | None:
    m = re.search(rf'\s{re.escape(name)}\s*=\s*(["\'])(.*?)\1', tag_text, re.S)
    return html.unescape(m.group(2)) if m else None


def _insert_before_close(
    text: str, local_name: str, fragment: str, prefix: str | None = None
) -> str:
    """Insert ``fragment`` as the last child of element ``name``; expand ``<name/>``.

    Without ``prefix`` the element is the document root (any prefix, last closing tag). With a
    ``prefix`` it is the first element of that exact qualified name, so a same-named element
    of another namespace inside an ``extLst`` is never hit.
    """
    qname = r"(?:[\w.-]+:)?" if prefix is None else re.escape(prefix)
    if prefix is None:
        closes = list(re.finditer(rf"</({qname}){local_name}\s*>", text))
        close = closes[-1] if closes else None
        opening = None
    else:
        opening = re.search(rf"<({qname}){local_name}\b([^>]*?)(/?)>", text)
        close = None
        if opening is not None and not opening.group(3):
            close = re.compile(rf"</{qname}{local_name}\s*>").search(text, opening.end())
    if close is not None:
        return text[: close.start()] + fragment + text[close.start() :]
    empty = opening or re.search(rf"<({qname}){local_name}\b([^>]*?)(/)>", text)
    if empty is None or not empty.group(3):
        raise TemplateError(f"cannot find element {local_name!r} to extend")
    pre, attrs = empty.group(1), empty.group(2)
    full = f"<{pre}{local_name}{attrs}>{fragment}</{pre}{local_name}>"
    return text[: empty.start()] + full + text[empty.end() :]


class _ContentTypes:
    """``[Content_Types].xml``: read through ElementTree, edited as text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.changed = False
        self._cache: tuple[dict[str, str], dict[str, str]] | None = None

    def _maps(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._cache is None:
            self._cache = self._parse_maps()
        return self._cache

    def _parse_maps(self) -> tuple[dict[str, str], dict[str, str]]:
        root = ET.fromstring(self.text.encode("utf-8"))
        defaults = {
            el.get("Extension", "").lower(): el.get("ContentType", "")
            for el in root.iter(f"{{{CT_NS}}}Default")
        }
        overrides = {
            el.get("PartName", "").lstrip("/").lower(): el.get("ContentType", "")
            for el in root.iter(f"{{{CT_NS}}}Override")
        }
        return defaults, overrides

    def of(self, part: str) -> str:
        defaults, overrides = self._maps()
        if part.lower() in overrides:
            return overrides[part.lower()]
        return defaults.get(posixpath.splitext(part)[1].lstrip(".").lower(), "")

    def ensure(self, part: str, content_type: str) -> None:
        """Give ``part`` its content type: a Default for a new media/VML extension (as Excel
        writes them), otherwise an Override. Existing Defaults never change."""
        if self.of(part) == content_type:
            return
        self.remove(part)
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        defaults = self._maps()[0]
        if ext and ext not in ("xml", "rels") and ext not in defaults and ext.isalnum():
            fragment = (
                f"<Default Extension={quoteattr(ext)} ContentType={quoteattr(content_type)}/>"
            )
            first_override = re.search(r"<(?:[\w.-]+:)?Override\b", self.text)
            if first_override is not None:
                pos = first_override.start()
                self.text = self.text[:pos] + fragment + self.text[pos:]
            else:
                self.text = _insert_before_close(self.text, "Types", fragment)
        else:
            fragment = (
                f"<Override PartName={quoteattr('/' + part)}"
                f" ContentType={quoteattr(content_type)}/>"
            )
            self.text = _insert_before_close(self.text, "Types", fragment)
        self.changed, self._cache = True, None

    def remove(self, part: str) -> None:
        def keep(tag: str) -> bool:
            name = _attr(tag, "PartName") or ""
            return name.lstrip("/").lower() != part.lower()

        new = _remove_elements(self.text, "Override", keep)
        if new != self.text:
            self.text, self.changed, self._cache = new, True, None

    def save(self, pkg: Package) -> None:
        if self.changed:
            pkg.write_text("[Content_Types].xml", self.text)
            self.changed = False


# --------------------------------------------------------------------------------------------
# The workbook part
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sheet:
    name: str
    sheet_id: int
    rel_id: str
    rel_type: str
    part: str


@dataclass
class _Workbook:
    part: str
    sheets: list[_Sheet]
    rels: list[_Rel]
    defined_names: list[str]

    @property
    def base_dir(self) -> str:
        return posixpath.dirname(self.part)

    @classmethod
    def read(cls, pkg: Package) -> _Workbook:
        root_rels = read_rels(pkg, "")
        if any(STRICT_MARK in r.type for r in root_rels):
            raise _strict(pkg.label)
        docs = [r for r in root_rels if r.type == RT_OFFICE_DOC and not r.external]
        if not docs or not pkg.has(docs[0].part):
            raise _not_workbook(pkg.label, "no workbook part")
        part = docs[0].part
        if not part.lower().endswith(".xml"):
            raise InputError(
                f"不支持二进制工作簿 (.xlsb)：{pkg.label}",
                f"binary workbooks (.xlsb) are not supported: {pkg.label}",
            )
        root = _parse(pkg, part)
        if STRICT_MARK in root.tag:
            raise _strict(pkg.label)
        if root.tag != f"{{{MAIN_NS}}}workbook":
            raise _not_workbook(pkg.label, f"unexpected root element {root.tag}")
        rels = read_rels(pkg, part)
        by_id = {r.id: r for r in rels}
        sheets = []
        for el in root.iter(f"{{{MAIN_NS}}}sheet"):
            rel = by_id.get(el.get(f"{{{REL_NS}}}id", ""))
            sheets.append(
                _Sheet(
                    name=el.get("name", ""),
                    sheet_id=int(el.get("sheetId", "0")),
                    rel_id=rel.id if rel else "",
                    rel_type=rel.type if rel else "",
                    part=rel.part if rel else "",
                )
            )
        names = [el.get("name", "") for el in root.iter(f"{{{MAIN_NS}}}definedName")]
        return cls(part, sheets, rels, names)

    def find(self, name: str) -> _Sheet | None:
        return next((s for s in self.sheets if s.name.casefold() == name.casefold()), None)

    def rel_of_type(self, rel_type: str) -> _Rel | None:
        return next((r for r in self.rels if r.type == rel_type and not r.external), None)

    def add_rel(self, pkg: Package, rel_type: str, part: str) -> str:
        """Add a relationship from the workbook part to ``part``; return its fresh id."""
        rels_name = _rels_part(self.part)
        taken = {r.id for r in self.rels}
        rid = next(f"rId{n}" for n in range(1, len(taken) + 2) if f"rId{n}" not in taken)
        target = _relative(self.part, part)
        fragment = (
            f"<Relationship Id={quoteattr(rid)} Type={quoteattr(rel_type)}"
            f" Target={quoteattr(target)}/>"
        )
        text = pkg.read_text(rels_name) if pkg.has(rels_name) else _render_rels([])
        pkg.write_text(rels_name, _insert_before_close(text, "Relationships", fragment))
        self.rels.append(_Rel(rid, rel_type, target, False, part))
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
        pkg.write_text(self.part, _insert_before_close(text, "sheets", fragment, prefix))
        pkg.content_types.ensure(part, CT_WORKSHEET)
        self.sheets.append(_Sheet(name, sheet_id, rid, RT_WORKSHEET, part))

    def remove_rel(self, pkg: Package, rel_id: str) -> None:
        rels_name = _rels_part(self.part)
        text = _remove_elements(
            pkg.read_text(rels_name), "Relationship", lambda tag: _attr(tag, "Id") != rel_id
        )
        pkg.write_text(rels_name, text)
        self.rels = [r for r in self.rels if r.id != rel_id]


def _strict(label: str) -> InputError:
    return InputError(
        f"不支持 Strict Open XML 格式的工作簿，请在 Excel 中另存为“Excel 工作簿 (*.xlsx)”：{label}",
        "Strict Open XML workbooks are not supported; save as 'Excel Workbook (*.xlsx)': " + label,
    )


# --------------------------------------------------------------------------------------------
# Planning and checks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    owned: _Sheet
    existing: _Sheet | None


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.casefold(), name)
    return list(seen.values())


def _plan_job(name: str, twb: _Workbook, owb: _Workbook) -> _Job:
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


@dataclass(frozen=True)
class _TableInfo:
    part: str
    table_id: int
    name: str


def _tables(pkg: Package) -> list[_TableInfo]:
    out = []
    for part in pkg.names():
        if pkg.content_types.of(part) != CT_TABLE:
            continue
        root = _parse(pkg, part)
        out.append(
            _TableInfo(
                part, int(root.get("id", "0")), root.get("displayName") or root.get("name") or ""
            )
        )
    return out


def _check_names(tgt: Package, twb: _Workbook, own: Package, jobs: list[_Job]) -> None:
    """Table names share one namespace with each other and with defined names (Excel rule)."""
    taken = {t.name.casefold(): t.part for t in _tables(tgt)}
    defined = {n.casefold() for n in twb.defined_names}
    for job in jobs:
        for part in _closure(own, [job.owned.part]):
            if own.content_types.of(part) != CT_TABLE:
                continue
            root = _parse(own, part)
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


# --------------------------------------------------------------------------------------------
# Deleting the old parts of replaced sheets
# --------------------------------------------------------------------------------------------


def _closure(pkg: Package, starts: Iterable[str]) -> list[str]:
    """Parts reachable from ``starts`` through relationships (excluding ``starts``), in order."""
    seen: dict[str, None] = {}
    stack = list(starts)
    start_set = {s.lower() for s in stack}
    while stack:
        part = stack.pop(0)
        for rel in read_rels(pkg, part):
            key = rel.part.lower()
            if rel.external or key in start_set or key in {s.lower() for s in seen}:
                continue
            if pkg.has(rel.part):
                seen[rel.part] = None
                stack.append(rel.part)
    return list(seen)


def _parts_freed_by(pkg: Package, sheets: list[str]) -> list[str]:
    """Parts hanging off ``sheets`` that nothing else in the package reaches any more."""
    candidates = _closure(pkg, sheets)
    if not candidates:
        return []
    cut = {s.lower() for s in sheets}
    reachable: set[str] = set()
    stack = [""]
    while stack:
        part = stack.pop()
        if part.lower() in cut:
            continue
        for rel in read_rels(pkg, part):
            key = rel.part.lower()
            if not rel.external and key not in reachable and pkg.has(rel.part):
                reachable.add(key)
                stack.append(rel.part)
    return [p for p in candidates if p.lower() not in reachable]


def _delete_parts(pkg: Package, parts: list[str]) -> None:
    for part in parts:
        pkg.delete(part)
        pkg.delete(_rels_part(part))
        pkg.content_types.remove(part)


def _drop_calc_chain_if_stale(pkg: Package, wb: _Workbook, sheet_ids: set[int]) -> None:
    rel = wb.rel_of_type(RT_CALC_CHAIN)
    if rel is None or not sheet_ids or not pkg.has(rel.part):
        return
    current = 0
    for tag in re.findall(r"<(?:[\w.-]+:)?c\b[^>]*>", pkg.read_text(rel.part)):
        value = _attr(tag, "i")
        current = int(value) if value is not None else current
        if current in sheet_ids:
            _delete_parts(pkg, [rel.part])
            wb.remove_rel(pkg, rel.id)
            return


# --------------------------------------------------------------------------------------------
# Styles
# --------------------------------------------------------------------------------------------


def _q(tag: str) -> str:
    return f"{{{MAIN_NS}}}{tag}"


Canon = tuple[object, ...]


def _canon(el: ET.Element) -> Canon:
    """Structural identity of a style entry, independent of prefixes and attribute order."""
    return (
        el.tag,
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(_canon(child) for child in el),
    )


def _serialize(el: ET.Element) -> str:
    """A style entry as text in the default (spreadsheetml main) namespace."""
    if not el.tag.startswith(f"{{{MAIN_NS}}}") or any("}" in k for k in el.attrib):
        return ET.tostring(el, encoding="unicode", default_namespace=None)
    tag = el.tag.split("}", 1)[1]
    attrs = "".join(f" {k}={quoteattr(v)}" for k, v in el.attrib.items())
    text = el.text if el.text and el.text.strip() else ""
    inner = escape(text) + "".join(_serialize(child) for child in el)
    return f"<{tag}{attrs}>{inner}</{tag}>" if inner else f"<{tag}{attrs}/>"


@dataclass
class _Pool:
    """One indexed style collection of the target: existing entries plus appended ones."""

    name: str
    existing: int
    index: dict[Canon, int]
    added: list[ET.Element] = field(default_factory=list)

    def get(self, el: ET.Element) -> int:
        key = _canon(el)
        if key not in self.index:
            self.index[key] = self.existing + len(self.added)
            self.added.append(el)
        return self.index[key]


class _StyleMerger:
    """Maps owned style indices to the target's ``styles.xml``, appending what is missing."""

    def __init__(self, owned: bytes, target_text: str | None, part: str) -> None:
        self.part = part
        self.target_text = target_text
        self.copy_owned = target_text is None
        self._owned_bytes = owned
        owned_root = ET.fromstring(owned)
        self._own = {name: _entries(owned_root, name) for name in _POOLS}
        self._own_fmts = {
            int(el.get("numFmtId", "0")): el.get("formatCode", "")
            for el in owned_root.iter(_q("numFmt"))
        }
        root = ET.fromstring(target_text.encode("utf-8")) if target_text else ET.Element("x")
        self.pools = {name: self._pool(root, name) for name in _POOLS}
        target_fmts = root.find(_q("numFmts"))
        self.fmt_ids = {
            el.get("formatCode", ""): int(el.get("numFmtId", "0"))
            for el in (target_fmts if target_fmts is not None else [])
        }
        used = {int(el.get("numFmtId", "0")) for el in root.iter(_q("numFmt"))}
        self._next_fmt = max([163, *used]) + 1
        self.new_fmts: list[tuple[int, str]] = []
        self._memo: dict[tuple[str, int], int] = {}

    @staticmethod
    def _pool(root: ET.Element, name: str) -> _Pool:
        entries = _entries(root, name)
        index: dict[Canon, int] = {}
        for i, el in enumerate(entries):
            index.setdefault(_canon(el), i)
        return _Pool(name, len(entries), index)

    @classmethod
    def create(cls, tgt: Package, twb: _Workbook, own: Package, owb: _Workbook) -> _StyleMerger:
        own_rel = owb.rel_of_type(RT_STYLES)
        if own_rel is None or not own.has(own_rel.part):
            raise TemplateError("owned package has no styles part")
        owned = own.read(own_rel.part)
        rel = twb.rel_of_type(RT_STYLES)
        try:
            if rel is not None and tgt.has(rel.part):
                return cls(owned, tgt.read_text(rel.part), rel.part)
            return cls(owned, None, posixpath.join(twb.base_dir, "styles.xml"))
        except ET.ParseError as exc:
            raise _not_workbook(tgt.label, f"styles: {exc}") from exc

    def xf(self, index: int) -> int:
        """Target cellXfs index for owned cellXfs ``index``; Normal (0) stays Normal."""
        if self.copy_owned or index == 0:
            return index
        return self._mapped("cellXfs", index, self._remap_xf)

    def dxf(self, index: int) -> int:
        if self.copy_owned:
            return index
        return self._mapped("dxfs", index, self._remap_dxf)

    def _mapped(self, pool: str, index: int, remap: Callable[[ET.Element], ET.Element]) -> int:
        key = (pool, index)
        if key not in self._memo:
            entries = self._own[pool]
            if index >= len(entries):
                raise TemplateError(f"owned sheet uses missing {pool} entry {index}")
            self._memo[key] = self.pools[pool].get(remap(entries[index]))
        return self._memo[key]

    def _simple(self, pool: str, index: int) -> int:
        return self._mapped(pool, index, _copy)

    def _remap_xf(self, el: ET.Element) -> ET.Element:
        new = _copy(el)
        new.set("numFmtId", str(self._fmt(int(el.get("numFmtId", "0")))))
        new.set("fontId", str(self._simple("fonts", int(el.get("fontId", "0")))))
        new.set("fillId", str(self._simple("fills", int(el.get("fillId", "0")))))
        new.set("borderId", str(self._simple("borders", int(el.get("borderId", "0")))))
        if "xfId" in new.attrib:
            new.set("xfId", "0")  # named cell styles are not carried over
        return new

    def _remap_dxf(self, el: ET.Element) -> ET.Element:
        new = _copy(el)
        for fmt in new.iter(_q("numFmt")):
            fmt.set(
                "numFmtId", str(self._fmt(int(fmt.get("numFmtId", "0")), fmt.get("formatCode")))
            )
        return new

    def _fmt(self, fmt_id: int, code: str | None = None) -> int:
        """Built-in ids (< 164) stay; custom codes reuse the target's id or get a fresh one."""
        if fmt_id < 164:
            return fmt_id
        code = self._own_fmts.get(fmt_id, code or "General")
        if code not in self.fmt_ids:
            self.fmt_ids[code] = self._next_fmt
            self.new_fmts.append((self._next_fmt, code))
            self._next_fmt += 1
        return self.fmt_ids[code]

    def save(self, pkg: Package, wb: _Workbook) -> None:
        if self.copy_owned:
            pkg.write(self.part, self._owned_bytes)
            pkg.content_types.ensure(self.part, CT_STYLES)
            wb.add_rel(pkg, RT_STYLES, self.part)
            return
        assert self.target_text is not None
        text = self.target_text
        numfmts = [_fmt_element(i, code) for i, code in self.new_fmts]
        additions = {"numFmts": numfmts, **{n: p.added for n, p in self.pools.items()}}
        for name, elements in additions.items():
            if elements:
                text = _append_styles(text, name, elements)
        if text != self.target_text:
            pkg.write_text(self.part, text)


_POOLS = ("fonts", "fills", "borders", "cellXfs", "dxfs")


def _entries(root: ET.Element, name: str) -> list[ET.Element]:
    container = root.find(_q(name))
    return list(container) if container is not None else []


def _copy(el: ET.Element) -> ET.Element:
    return ET.fromstring(ET.tostring(el))


def _fmt_element(fmt_id: int, code: str) -> ET.Element:
    return ET.Element(_q("numFmt"), {"numFmtId": str(fmt_id), "formatCode": code})


def _append_styles(text: str, name: str, elements: list[ET.Element]) -> str:
    """Append entries to one collection of styles.xml by text insertion; fix its count."""
    root_tag = re.search(r"<((?:[\w.-]+:)?)styleSheet\b[^>]*>", text)
    if root_tag is None:
        raise TemplateError("styles.xml has no styleSheet element")
    prefix = root_tag.group(1)
    declares_default = f'xmlns="{MAIN_NS}"' in root_tag.group(0)
    frags = [_serialize(el) for el in elements]
    if not declares_default:
        frags = [re.sub(r"^<([\w]+)", rf'<\1 xmlns="{MAIN_NS}"', f, count=1) for f in frags]
    fragment = "".join(frags)
    tag = re.compile(rf"<{re.escape(prefix)}{name}\b([^>]*?)(/?)>")
    m = tag.search(text)
    if m is None:
        new = f'<{prefix}{name} count="{len(elements)}">{fragment}</{prefix}{name}>'
        return _insert_style_container(text, prefix, name, new)
    end = re.compile(rf"</{re.escape(prefix)}{name}\s*>")
    if m.group(2):
        existing = 0
        body_end = m.end()
        closing = f"</{prefix}{name}>"
        head = text[: m.start()] + f"<{prefix}{name}{m.group(1)}>"
        rest = fragment + closing + text[body_end:]
    else:
        close = end.search(text, m.end())
        if close is None:
            raise TemplateError(f"styles.xml: unterminated {name}")
        body = text[m.end() : close.start()]
        existing = len(_children(body))
        head = text[: close.start()]
        rest = fragment + text[close.start() :]
    head = _set_count(head, m.start(), existing + len(elements))
    return head + rest


def _children(body: str) -> list[str]:
    """Top-level element start tags inside a container body (depth-tracked)."""
    depth, tops = 0, []
    for m in re.finditer(r"<(/?)([\w.:-]+)[^>]*?(/?)>", body):
        if m.group(1):
            depth -= 1
        else:
            if depth == 0:
                tops.append(m.group(2))
            if not m.group(3):
                depth += 1
    return tops


def _set_count(text: str, tag_start: int, count: int) -> str:
    tag_end = text.index(">", tag_start)
    tag = text[tag_start:tag_end]
    if re.search(r'\scount\s*=\s*"[^"]*"', tag):
        tag = re.sub(r'(\scount\s*=\s*)"[^"]*"', rf'\1"{count}"', tag, count=1)
    else:
        tag = re.sub(r"^(<[\w.:-]+)", rf'\1 count="{count}"', tag, count=1)
    return text[:tag_start] + tag + text[tag_end:]


def _insert_style_container(text: str, prefix: str, name: str, new: str) -> str:
    later = _STYLE_ORDER[_STYLE_ORDER.index(name) + 1 :]
    for following in later:
        m = re.search(rf"<{re.escape(prefix)}{following}\b", text)
        if m:
            return text[: m.start()] + new + text[m.start() :]
    return _insert_before_close(text, "styleSheet", new)


# --------------------------------------------------------------------------------------------
# Transplanting the sheet XML and its dependent parts
# --------------------------------------------------------------------------------------------


def _read_shared_strings(own: Package, owb: _Workbook) -> list[str]:
    """Inner XML of each ``<si>`` of the owned package, to become ``<is>`` content verbatim."""
    rel = owb.rel_of_type(RT_SHARED_STRINGS)
    if rel is None or not own.has(rel.part):
        return []
    text = own.read_text(rel.part)
    return [m.group(1) or "" for m in re.finditer(r"<si\b[^>]*?(?:/>|>(.*?)</si>)", text, re.S)]


_CELL_RE = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_STYLED_RE = re.compile(r"<(row|col)\b([^>]*?)(/?)>")
_DXF_ATTR_RE = re.compile(r'\b(\w*[dD]xfId)="(\d+)"')


def _transplant_sheet_xml(xml: bytes, strings: list[str], styles: _StyleMerger) -> str:
    """Rewrite an owned sheet for the target: inline strings, target style indices."""
    text = xml.decode("utf-8")
    if not re.search(rf'<worksheet\b[^>]*xmlns="{re.escape(MAIN_NS)}"', text):
        raise TemplateError("owned sheet is not a worksheet in the default namespace")

    def cell(m: re.Match[str]) -> str:
        attrs, body = m.group(1), m.group(2)
        if re.search(r'\s(cm|vm)="', attrs):
            raise TemplateError(
                "owned sheet uses cell metadata (dynamic arrays or in-cell pictures), "
                "which cannot be transplanted"
            )
        attrs = _map_attr(attrs, "s", styles.xf)
        if _attr(attrs, "t") == "s" and body is not None:
            v = re.search(r"<v>\s*(\d+)\s*</v>", body)
            if v is None or int(v.group(1)) >= len(strings):
                raise TemplateError("owned sheet refers to a missing shared string")
            attrs = re.sub(r'(\st=)"s"', r'\1"inlineStr"', attrs)
            return f"<c{attrs}><is>{strings[int(v.group(1))]}</is></c>"
        return f"<c{attrs}/>" if body is None else f"<c{attrs}>{body}</c>"

    def styled(m: re.Match[str]) -> str:
        name = "s" if m.group(1) == "row" else "style"
        return f"<{m.group(1)}{_map_attr(m.group(2), name, styles.xf)}{m.group(3)}>"

    text = _CELL_RE.sub(cell, text)
    text = _STYLED_RE.sub(styled, text)
    text = re.sub(r"<cfRule\b[^>]*>", lambda m: _map_dxf_attrs(m.group(0), styles), text)
    # Two sheets with tabSelected open as a group in Excel: edits would hit both.
    return re.sub(r'(<sheetView\b[^>]*?)\s+tabSelected="(?:1|true)"', r"\1", text)


def _map_attr(attrs: str, name: str, mapper: Callable[[int], int]) -> str:
    def repl(m: re.Match[str]) -> str:
        return f'{m.group(1)}"{mapper(int(m.group(2)))}"'

    return re.sub(rf'(\s{name}=)"(\d+)"', repl, attrs)


def _map_dxf_attrs(tag: str, styles: _StyleMerger) -> str:
    return _DXF_ATTR_RE.sub(lambda m: f'{m.group(1)}="{styles.dxf(int(m.group(2)))}"', tag)


class _PartCopier:
    """Copies an owned sheet and its dependent parts under fresh names into the target."""

    def __init__(self, tgt: Package, own: Package, styles: _StyleMerger) -> None:
        self.tgt, self.own, self.styles = tgt, own, styles
        self.names: dict[str, str] = {}  # owned part (lower) -> target part
        self.next_table_id = max([0, *(t.table_id for t in _tables(tgt))]) + 1
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

    def copy_sheet(self, owned_part: str, new_part: str, sheet_xml: str) -> None:
        old_rels = _rels_part(new_part)
        self.tgt.delete(old_rels)
        self.tgt.write_text(new_part, sheet_xml)
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
            out.append((rel.id, rel.type, _relative(new_part, target), False))
        self.tgt.write_text(_rels_part(new_part), _render_rels(out))

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
