"""Cells a typed reader would hand over as blanks, found in a worksheet's XML as a stream.

calamine (underneath both of XLPlan's readers) gives an error value (``#N/A``, ``#DIV/0!``)
as a blank, and fastexcel gives a text that pandas calls "not available" (``n/a``, ``NA``,
``null``, ``None``, ``nan``, ``#N/A`` typed as text...) as a blank in a column of numbers,
dates or flags (fastexcel's list, its pull request #182, is pandas' ``read_excel`` default).
Neither is what the cell holds: a planner who typed ``n/a`` as a duty rate did not mean "use
the market's rate". :func:`special_cells` finds such cells, so the reader hands them over as
their text and the parser reports them at their ``Sheet!Cell``, as the UDF port does.

The scan is a byte search over the decompressed XML, chunk by chunk (never held whole): error
cells by ``t="e"``, formula text results by ``t="str"``, inline strings only on a sheet that
has any, shared strings only when the shared-string table holds a "not available" text.
A cell's column comes from its ``r`` or, for cells written without one (as XLPlan and some
other writers do), from its place after the last cell of its row that has one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator

__all__ = [
    "NOT_AVAILABLE",
    "cell_text",
    "not_available_strings",
    "row_cells",
    "shared_strings",
    "special_cells",
]

NOT_AVAILABLE = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
"""The texts fastexcel reads as blank (``""`` is a blank anyway)."""


def _escaped(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


_ALTERNATIVES = b"|".join(re.escape(_escaped(t)) for t in NOT_AVAILABLE if t)
# The inline string's <t> as writers write it (xml:space, any quotes and spacing) is matched
# atomically, so the usual case never falls back to scanning attributes: half the time on a
# sheet of inline strings (XLPlan's own writer and others write every text so).
_INLINE = re.compile(
    rb"<is><t(?>\s+xml:space\s*=\s*[\"'](?:preserve|default)[\"']\s*|\s[^>]*)?>("
    + _ALTERNATIVES
    + rb")</t></is>"
)
_SHARED = re.compile(rb"<si><t(?: [^>]*)?>(" + _ALTERNATIVES + rb")</t></si>")
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_ERROR_OR_FORMULA_TEXT = re.compile(rb't="(e|str)"')
_CELL = re.compile(rb"<c\b([^>]*)>|<c\b([^>]*)/>")
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_ROW = re.compile(rb'<row\b[^>]*?\br="([0-9]+)"')


def not_available_strings(shared_strings: bytes) -> dict[int, str]:
    """Indices in a shared-string table (``xl/sharedStrings.xml``) of the "not available"
    texts, with their text."""
    out: dict[int, str] = {}
    for m in _SHARED.finditer(shared_strings):
        index = shared_strings.count(b"<si>", 0, m.start()) + shared_strings.count(
            b"<si/>", 0, m.start()
        )
        out[index] = _unescape(m.group(1))
    return out


def special_cells(
    chunks: Iterable[bytes], shared: dict[int, str] | None = None
) -> dict[tuple[int, int], str]:
    """The error cells and the "not available" text cells of a worksheet's XML, given in
    chunks: (row, column), both 1-based, -> the cell's text. ``shared``: the "not available"
    texts of the shared-string table by index (:func:`not_available_strings`)."""
    wanted = {str(i).encode(): text for i, text in (shared or {}).items()}
    out: dict[tuple[int, int], str] = {}
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        cut = data.rfind(b"</row>")
        cut = cut + 6 if cut >= 0 else 0
        out.update(_scan(data[:cut], wanted))
        rest = data[cut:]
    out.update(_scan(rest, wanted))
    return out


def _scan(data: bytes, shared: dict[bytes, str]) -> Iterator[tuple[tuple[int, int], str]]:
    """Whole rows of sheet XML: the special cells in them."""
    for typed in _ERROR_OR_FORMULA_TEXT.finditer(data):  # one pass for both kinds
        at = typed.start()
        start = data.rfind(b"<c", 0, at)
        end = data.find(b"</c>", at)
        value = _VALUE.search(data, at, end) if end >= 0 else None
        if start >= 0 and value is not None:
            text = _unescape(value.group(1))
            if typed.group(1) == b"e" or text in NOT_AVAILABLE:
                where = _where(data, start)
                if where is not None:
                    yield where, text
    if b"inlineStr" in data:
        for m in _INLINE.finditer(data):
            start = data.rfind(b"<c", 0, m.start())
            where = _where(data, start) if start >= 0 else None
            if where is not None:
                yield where, _unescape(m.group(1))
    for index, text in shared.items():
        needle = b"<v>" + index + b"</v>"
        at = data.find(needle)
        while at >= 0:
            start = data.rfind(b"<c", 0, at)
            tag = data[start : data.find(b">", start) + 1] if start >= 0 else b""
            if b't="s"' in tag:
                where = _where(data, start)
                if where is not None:
                    yield where, text
            at = data.find(needle, at + len(needle))


def _where(data: bytes, start: int) -> tuple[int, int] | None:
    """(row, column) of the cell whose tag starts at ``start``."""
    tag = _CELL.match(data, start)
    if tag is None:
        return None
    ref = _REF.search(tag.group(1) or tag.group(2) or b"")
    if ref is not None:
        return int(ref.group(2)), _column(ref.group(1))
    row_at = data.rfind(b"<row", 0, start)
    row = _ROW.match(data, row_at) if row_at >= 0 else None
    if row is None:
        return None
    col = 0
    for cell in _CELL.finditer(data, row_at, start):  # the cells before it in its row
        ref = _REF.search(cell.group(1) or cell.group(2) or b"")
        col = _column(ref.group(1)) if ref is not None else col + 1
    return int(row.group(1)), col + 1


def _column(letters: bytes) -> int:
    col = 0
    for ch in letters:
        col = col * 26 + ch - 64
    return col


def _unescape(text: bytes) -> str:
    return html.unescape(text.decode("utf-8", "replace"))


_ROW_END = b"</row>"
_SI = re.compile(rb"<si\b[^>]*?(?:/>|>(.*?)</si>)", re.S)
_T = re.compile(rb"<t(?: [^>]*)?>([^<]*)</t>")


def row_cells(chunks: Iterable[bytes], row: int) -> dict[int, tuple[str, bytes]] | None:
    """The cells of sheet row ``row`` (1-based), read from the start of the sheet's XML and
    no further: column -> (its type, its value's XML: a shared-string index, a number, or an
    inline string's text). None when the row is not there or the sheet writes rows in a way
    this does not read (a prefixed namespace)."""
    data = b""
    want = b'<row r="%d"' % row
    for chunk in chunks:
        data += chunk
        at = data.find(want)
        if at >= 0 and data.find(_ROW_END, at) >= 0:
            end = data.find(_ROW_END, at)
            return _cells_of_row(data[at:end])
        if b"<sheetData/>" in data or b"</sheetData>" in data:
            return None
        # rows come in order: past the wanted row without finding it, it is not there
        last = data.rfind(b"<row ")
        found = _ROW.match(data, last) if last >= 0 else None
        if found is not None and int(found.group(1)) > row:
            return None
    return None


def _cells_of_row(row: bytes) -> dict[int, tuple[str, bytes]]:
    out: dict[int, tuple[str, bytes]] = {}
    col = 0
    for cell in _CELL.finditer(row):
        attrs = cell.group(1) or cell.group(2) or b""
        ref = _REF.search(attrs)
        col = _column(ref.group(1)) if ref is not None else col + 1
        if cell.group(2) is not None:
            continue  # <c .../>: blank
        end = row.find(b"</c>", cell.end())
        body = row[cell.end() : end if end >= 0 else len(row)]
        kind = re.search(rb'\bt="([a-zA-Z]+)"', attrs)
        t = kind.group(1).decode() if kind is not None else "n"
        if t == "inlineStr":
            out[col] = (t, b"".join(_T.findall(body)))
        else:
            value = _VALUE.search(body)
            if value is not None:
                out[col] = (t, value.group(1))
    return out


def shared_strings(data: bytes, indices: set[int]) -> dict[int, str]:
    """The texts of a shared-string table at ``indices`` (rich text runs joined)."""
    out: dict[int, str] = {}
    if not indices:
        return out
    last = max(indices)
    for i, m in enumerate(_SI.finditer(data)):
        if i in indices:
            out[i] = _unescape(b"".join(_T.findall(m.group(1) or b"")))
        if i >= last:
            break
    return out


def cell_text(kind: str, value: bytes, shared: dict[int, str]) -> object:
    """A header cell's value as calamine would give it: text, a number or a flag."""
    if kind == "s":
        return shared.get(int(value), "") if value.isdigit() else ""
    if kind in ("inlineStr", "str", "e"):
        return _unescape(value)
    if kind == "b":
        return value == b"1"
    try:
        return float(value)
    except ValueError:
        return _unescape(value)
