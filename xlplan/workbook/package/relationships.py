"""Relationships (``_rels/*.rels``): how parts point at each other, and the graph they form.

A part's relationships live in ``<folder>/_rels/<name>.rels``; targets are relative to the
part's folder (or absolute from the package root) and percent-encoded. The graph decides which
parts hang off a sheet and which of them nothing else reaches any more.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from xlplan.workbook.package.xmltext import quoteattr
from xlplan.workbook.package.zip import Package, parse_part

__all__ = [
    "PKG_REL_NS",
    "REL_NS",
    "RT_CALC_CHAIN",
    "RT_OFFICE_DOC",
    "RT_SHARED_STRINGS",
    "RT_STYLES",
    "RT_WORKSHEET",
    "Rel",
    "delete_parts",
    "parts_freed_by",
    "reachable_parts",
    "read_rels",
    "relative_target",
    "rels_part",
    "render_rels",
]

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

RT_OFFICE_DOC = REL_NS + "/officeDocument"
RT_WORKSHEET = REL_NS + "/worksheet"
RT_STYLES = REL_NS + "/styles"
RT_SHARED_STRINGS = REL_NS + "/sharedStrings"
RT_CALC_CHAIN = REL_NS + "/calcChain"


@dataclass(frozen=True)
class Rel:
    """One relationship of a source part."""

    id: str
    type: str
    target: str
    external: bool
    part: str  # resolved part name (no leading slash); "" when external


def rels_part(part: str) -> str:
    """``xl/worksheets/sheet1.xml`` -> ``xl/worksheets/_rels/sheet1.xml.rels``; "" -> root rels."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source: str, target: str) -> str:
    target = unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def relative_target(source: str, target: str) -> str:
    """The ``Target`` attribute by which part ``source`` refers to part ``target``."""
    return quote(posixpath.relpath(target, posixpath.dirname(source) or "."), safe="/._-~")


def read_rels(pkg: Package, source: str) -> list[Rel]:
    """The relationships of part ``source`` ("" for the package root), in document order."""
    rels_name = rels_part(source)
    if not pkg.has(rels_name):
        return []
    root = parse_part(pkg, rels_name)
    rels = []
    for el in root.iter(f"{{{PKG_REL_NS}}}Relationship"):
        target = el.get("Target", "")
        external = el.get("TargetMode") == "External"
        rels.append(
            Rel(
                id=el.get("Id", ""),
                type=el.get("Type", ""),
                target=target,
                external=external,
                part="" if external else _resolve(source, target),
            )
        )
    return rels


def render_rels(rels: Iterable[tuple[str, str, str, bool]]) -> str:
    """A whole ``.rels`` part from ``(id, type, target, external)`` tuples."""
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


def reachable_parts(pkg: Package, starts: Iterable[str]) -> list[str]:
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


def parts_freed_by(pkg: Package, sheets: list[str]) -> list[str]:
    """Parts hanging off ``sheets`` that nothing else in the package reaches any more."""
    candidates = reachable_parts(pkg, sheets)
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


def delete_parts(pkg: Package, parts: list[str]) -> None:
    """Delete each part with its own ``.rels`` and its content-type Override."""
    for part in parts:
        pkg.delete(part)
        pkg.delete(rels_part(part))
        pkg.content_types.remove(part)
