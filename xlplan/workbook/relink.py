"""Repair formulas that name XLPlan's add-in functions through a path or an external link.

Excel keeps a function of an add-in (``xlplan.xlam``) as a reference into that file. A workbook
saved on one machine and opened on another, where the add-in sits elsewhere or is not loaded,
shows its formulas path-qualified or as ``#NAME?``:

- formula bar: ``='C:\\Users\\x\\AppData\\Roaming\\Microsoft\\AddIns\\xlplan.xlam'!XLP_X(A2)``
  (or ``=xlplan.xlam!XLP_X(A2)`` while the add-in is open under that name);
- in the file: ``[1]!XLP_X(A2)``, where ``[1]`` is the first ``<externalReference>`` of
  ``xl/workbook.xml``: an ``xl/externalLinks/externalLinkN.xml`` part whose ``externalBook``
  relationship (``externalLinkPath``, or ``xlExternalLinkPath/xlLibrary`` etc. for add-ins found
  in Office's folders) points at the ``.xlam`` path;
- ``_xludf.XLP_X(`` / ``_xll.XLP_X(``: the prefixes Excel writes for a function it did not know.

:func:`relink_formula` rewrites those to the bare ``XLP_X(``, which Excel binds to whichever
loaded add-in defines it. :func:`relink_package` does it for every worksheet formula of a
workbook file and drops the external-link parts that served only add-ins; every other zip
member is copied byte for byte (see :mod:`xlplan.workbook.package`). Pure: bytes in, bytes out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Container
from dataclasses import dataclass
from urllib.parse import unquote

from xlplan.workbook.package import (
    CT_WORKSHEET,
    Package,
    Workbook,
    delete_parts,
    insert_before_close,
    read_rels,
    remove_elements,
)

__all__ = [
    "ADDIN_CONFIG_SHEET",
    "ADDIN_FILE",
    "addin_probe",
    "calls_addin",
    "relink_formula",
    "relink_package",
]

PREFIX = "XLP_"
ADDIN_FILE = "xlplan.xlam"
"""The add-in's file name: Excel knows a loaded add-in by it (``Workbooks("xlplan.xlam")``)."""
ADDIN_CONFIG_SHEET = "myaddin.conf"
"""The add-in's config sheet: xlwings' VBA reads ``<PROJECT_NAME>.conf``, and the ribbon
add-in template xlwings ships names its project ``myaddin``."""
_ADDIN_EXTENSIONS = (".xlam", ".xla")
# Relationship types Excel uses for add-ins it found in Office's own folders.
_ADDIN_REL_TYPES = ("xlExternalLinkPath/xlLibrary", "xlExternalLinkPath/xlStartup")

# A call to one of our functions starts right here: XLP_NAME( (Excel allows no space before "(").
_XLP_CALL = re.compile(rf"{PREFIX}[\w.]*\(", re.IGNORECASE)
# The same, as a whole name (not the tail of MYXLP_X); a qualifier may come before it.
_ADDIN_CALL = re.compile(rf"(?<!\w){PREFIX}[\w.]*\(", re.IGNORECASE)
# Qualifiers in unquoted formula code, at a token boundary, right before an XLP_ call.
_QUALIFIER = re.compile(
    r"(?<![\w.\]])(?:\[(?P<link>\d+)\]!|(?P<book>[\w.-]+\.xlam?)!|_xludf\.|_xll\.)"
    rf"(?={PREFIX}[\w.]*\()",
    re.IGNORECASE,
)


def addin_probe() -> str:
    """A reference into the loaded add-in's own sheet: ``ISREF(INDIRECT(...))`` of it is TRUE
    exactly when ``xlplan.xlam`` is open in this Excel (a formula can tell "add-in not loaded"
    from "loaded, but this formula is not bound to it")."""
    return f"'[{ADDIN_FILE}]{ADDIN_CONFIG_SHEET}'!A1"


def calls_addin(formula: str) -> bool:
    """The formula calls one of XLPlan's ``XLP_`` functions (outside its string literals)."""
    return any(_ADDIN_CALL.search(code) for code in _code_parts(formula))


def _code_parts(formula: str) -> list[str]:
    parts, i, start = [], 0, 0
    while i < len(formula):
        if formula[i] == '"':
            parts.append(formula[start:i])
            i = start = _end_of_quoted(formula, i, '"')
        else:
            i += 1
    parts.append(formula[start:])
    return parts


def relink_formula(text: str, links: Container[int] | None = None) -> str:
    """``text`` with every add-in-qualified call of an ``XLP_`` function made bare.

    Rewritten: ``'<path>\\xlplan.xlam'!XLP_X(`` (quoted, any ``.xlam``/``.xla`` path),
    ``xlplan.xlam!XLP_X(``, ``[N]!XLP_X(`` (only when ``N`` is in ``links``; any ``N`` when
    ``links`` is None: a call through an external link can only be an add-in function),
    ``_xludf.XLP_X(`` and ``_xll.XLP_X(``. String literals, sheet references and other
    functions stay exactly as they were. Works with or without the leading ``=``.
    """
    out: list[str] = []
    i, n = 0, len(text)
    code_start = 0

    def flush(end: int) -> None:
        out.append(_relink_code(text[code_start:end], links))

    while i < n:
        ch = text[i]
        if ch == '"':
            flush(i)
            j = _end_of_quoted(text, i, '"')
            out.append(text[i:j])
            i = code_start = j
        elif ch == "'":
            flush(i)
            j = _end_of_quoted(text, i, "'")
            name = text[i + 1 : j - 1].replace("''", "'")
            if (
                j < n
                and text[j] == "!"
                and _is_addin_path(name)
                and _XLP_CALL.match(text, j + 1) is not None
            ):
                i = code_start = j + 1  # drop 'path'!
            else:
                out.append(text[i:j])
                i = code_start = j
        else:
            i += 1
    flush(n)
    return "".join(out)


def _end_of_quoted(text: str, start: int, quote: str) -> int:
    """Index just past the quoted token starting at ``start`` (doubled quotes escape)."""
    i = start + 1
    while i < len(text):
        if text[i] == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)  # unterminated: the rest is the token


def _relink_code(code: str, links: Container[int] | None) -> str:
    def repl(m: re.Match[str]) -> str:
        link = m.group("link")
        if link is not None and links is not None and int(link) not in links:
            return m.group(0)
        return ""

    return _QUALIFIER.sub(repl, code)


def _is_addin_path(name: str) -> bool:
    return name.strip().lower().endswith(_ADDIN_EXTENSIONS)


# --------------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    index: int  # 1-based position in <externalReferences>: the N of [N]
    rel_id: str  # the workbook's relationship id
    part: str  # xl/externalLinks/externalLinkN.xml ("" when the part is missing)
    addin: bool  # the external book is an .xlam/.xla add-in


# (?<!/)>: a self-closing <f t="shared" si="0"/> has no text and must not open a match
_F_ELEMENT = re.compile(r"<((?:[\w.-]+:)?)f\b([^>]*?)(?<!/)>(.*?)</\1f\s*>", re.S)
_DEFINED_NAME = re.compile(
    r"<((?:[\w.-]+:)?)definedName\b([^>]*?)(?<!/)>(.*?)</\1definedName\s*>", re.S
)
_EXT_REF = re.compile(r"<(?:[\w.-]+:)?externalReference\b[^>]*?/>")
_LINK_REF = re.compile(r"(?<![\w.\]])\[(\d+)\]")


def relink_package(data: bytes) -> tuple[bytes, int]:
    """The workbook ``data`` with its add-in formulas relinked; and how many formulas changed.

    Rewrites the ``<f>`` elements of every worksheet and the defined names of
    ``xl/workbook.xml`` with :func:`relink_formula`. An external link to an ``.xlam``/``.xla``
    that no formula, defined name or other part refers to afterwards is removed: its part, its
    ``.rels``, its content-type override, its ``<externalReference>`` and workbook
    relationship, and defined names that were only stubs into it (``[N]!NAME``). Links are
    numbered by position, so only trailing ones go (removing one in the middle would renumber
    the others); Excel drops an unused link on its next save anyway. When a formula changed,
    ``calcPr fullCalcOnLoad`` is set so Excel replaces the cached ``#NAME?`` values on open.
    Every other member keeps its original bytes. Raises :class:`xlplan.errors.InputError` for
    a file that is not a transitional OOXML workbook.
    """
    pkg = Package.load(data, "workbook")
    wb = Workbook.read(pkg)
    links = _links(pkg, wb)
    addins = {link.index for link in links if link.addin}
    changed = 0
    sheet_parts = [name for name in pkg.names() if pkg.content_types.of(name) == CT_WORKSHEET]
    for part in sheet_parts:
        text = pkg.read_text(part)
        new, count = _relink_sheet(text, addins)
        if count:
            pkg.write_text(part, new)
            changed += count

    book = pkg.read_text(wb.part)
    book, names_changed = _relink_defined_names(book, addins)
    removable = _removable(pkg, wb, book, links, sheet_parts)
    book = _drop_links(pkg, wb, book, [link for link in links if link.index in removable])
    if changed or names_changed:
        book = _full_calc_on_load(book)
    if book != pkg.read_text(wb.part):
        pkg.write_text(wb.part, book)
    return pkg.to_bytes(), changed


def _links(pkg: Package, wb: Workbook) -> list[_Link]:
    by_id = {r.id: r for r in wb.rels}
    book = pkg.read_text(wb.part)
    out = []
    for index, m in enumerate(_EXT_REF.finditer(book), 1):
        rid = _rid(m.group(0)) or ""
        rel = by_id.get(rid)
        part = rel.part if rel is not None and not rel.external and pkg.has(rel.part) else ""
        out.append(_Link(index, rid, part, bool(part) and _link_is_addin(pkg, part)))
    return out


def _rid(tag: str) -> str | None:
    m = re.search(r'\s(?:[\w.-]+:)?id\s*=\s*(["\'])(.*?)\1', tag)
    return html.unescape(m.group(2)) if m else None


def _link_is_addin(pkg: Package, part: str) -> bool:
    """An externalBook whose relationship points at an add-in file (.xlam/.xla)."""
    text = pkg.read_text(part)
    book = re.search(r"<(?:[\w.-]+:)?externalBook\b[^>]*>", text)
    if book is None:  # DDE or OLE link
        return False
    rid = _rid(book.group(0))
    targets = [r for r in read_rels(pkg, part) if r.id == rid]
    if not targets:
        return False
    rel = targets[0]
    path = unquote(rel.target).replace("\\", "/").rstrip("/")
    return _is_addin_path(path) or any(rel.type.endswith(t) for t in _ADDIN_REL_TYPES)


def _relink_sheet(text: str, addins: Container[int]) -> tuple[str, int]:
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        formula = html.unescape(m.group(3))
        new = relink_formula(formula, addins)
        if new == formula:
            return m.group(0)
        count += 1
        return f"<{m.group(1)}f{m.group(2)}>{_escape(new)}</{m.group(1)}f>"

    return _F_ELEMENT.sub(repl, text), count


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _relink_defined_names(book: str, addins: Container[int]) -> tuple[str, int]:
    count = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal count
        formula = html.unescape(m.group(3))
        new = relink_formula(formula, addins)
        if new == formula:
            return m.group(0)
        count += 1
        return f"<{m.group(1)}definedName{m.group(2)}>{_escape(new)}</{m.group(1)}definedName>"

    return _DEFINED_NAME.sub(repl, book), count


def _stub_of(formula: str) -> int | None:
    """N when a defined name is only ``[N]!NAME`` (Excel's stub for an add-in's name)."""
    m = re.fullmatch(r"\s*=?\s*\[(\d+)\]!\s*[\w.]+\s*", formula)
    return int(m.group(1)) if m else None


def _formula_links(formula: str) -> set[int]:
    """Link numbers ``[N]`` a formula refers to outside its string literals."""
    found: set[int] = set()
    i, n, start = 0, len(formula), 0
    while i < n:
        if formula[i] == '"':
            found |= {int(x) for x in _LINK_REF.findall(formula[start:i])}
            i = start = _end_of_quoted(formula, i, '"')
        elif formula[i] == "'":  # a quoted name stays code: '[1]Sheet 1'!A1
            i = _end_of_quoted(formula, i, "'")
        else:
            i += 1
    return found | {int(x) for x in _LINK_REF.findall(formula[start:])}


def _removable(
    pkg: Package, wb: Workbook, book: str, links: list[_Link], sheet_parts: list[str]
) -> set[int]:
    """Add-in links nothing refers to any more, from the end of the list backwards."""
    used: set[int] = set()
    for m in _DEFINED_NAME.finditer(book):
        formula = html.unescape(m.group(3))
        if _stub_of(formula) is None:
            used |= _formula_links(formula)
    skip = {p.lower() for p in (wb.part, *(link.part for link in links))}
    sheets = {p.lower() for p in sheet_parts}
    for part in pkg.names():
        key = part.lower()
        if key in skip or "sharedstrings" in key or not key.endswith((".xml", ".vml")):
            continue  # shared strings are text; .rels name parts, not formulas
        text = pkg.read(part).decode("utf-8", errors="replace")
        if key in sheets:
            for m in _F_ELEMENT.finditer(text):
                used |= _formula_links(html.unescape(m.group(3)))
            text = _F_ELEMENT.sub("", text)
        # cell values and inline strings are text, not references
        text = re.sub(
            r"<((?:[\w.-]+:)?)(?:v|t|is)\b[^>]*(?<!/)>.*?</\1(?:v|t|is)\s*>", "", text, flags=re.S
        )
        used |= {int(x) for x in _LINK_REF.findall(text)}
    out: set[int] = set()
    for link in reversed(links):
        if not link.addin or link.index in used:
            break
        out.add(link.index)
    return out


def _drop_links(pkg: Package, wb: Workbook, book: str, drop: list[_Link]) -> str:
    if not drop:
        return book
    indices = {link.index for link in drop}
    rel_ids = {link.rel_id for link in drop}

    def keep_name(m: re.Match[str]) -> str:
        return "" if _stub_of(html.unescape(m.group(3))) in indices else m.group(0)

    book = _DEFINED_NAME.sub(keep_name, book)
    book = remove_elements(book, "externalReference", lambda tag: _rid(tag) not in rel_ids)
    book = re.sub(
        r"<((?:[\w.-]+:)?)externalReferences\b[^>]*>\s*</\1externalReferences\s*>", "", book
    )
    book = re.sub(r"<(?:[\w.-]+:)?externalReferences\b[^>]*/>", "", book)
    book = re.sub(r"<((?:[\w.-]+:)?)definedNames\b[^>]*>\s*</\1definedNames\s*>", "", book)
    for link in drop:
        delete_parts(pkg, [link.part])
        wb.remove_rel(pkg, link.rel_id)
    return book


# CT_Workbook children after calcPr: a missing calcPr goes before the first of these.
_AFTER_CALC_PR = (
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)


def _full_calc_on_load(book: str) -> str:
    m = re.search(r"<((?:[\w.-]+:)?)calcPr\b([^>]*?)(/?)>", book)
    if m is not None:
        attrs = m.group(2)
        if re.search(r'\sfullCalcOnLoad\s*=\s*"(?:1|true)"', attrs):
            return book
        attrs = re.sub(r'\sfullCalcOnLoad\s*=\s*"[^"]*"', "", attrs)
        tag = f'<{m.group(1)}calcPr{attrs} fullCalcOnLoad="1"{m.group(3)}>'
        return book[: m.start()] + tag + book[m.end() :]
    root = re.search(r"<((?:[\w.-]+:)?)workbook\b", book)
    prefix = root.group(1) if root else ""
    fragment = f'<{prefix}calcPr fullCalcOnLoad="1"/>'
    for name in _AFTER_CALC_PR:
        later = re.search(rf"<{re.escape(prefix)}{name}\b", book)
        if later is not None:
            return book[: later.start()] + fragment + book[later.start() :]
    return insert_before_close(book, "workbook", fragment)
