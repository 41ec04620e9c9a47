"""The styles part (``xl/styles.xml``): merge the owned package's styles into the target's.

Owned cells carry style indices into the owned package's ``styles.xml``. The target's entries
keep their positions (the user's cells point at them); the owned fonts, fills, borders, number
formats, cell formats and differential formats are appended, or reused when an identical entry
exists, so repeated runs do not grow the part. Named cell styles other than Normal are not
carried over (an owned cell format's ``xfId`` becomes 0).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from xlplan.core.errors import TemplateError
from xlplan.workbook.package.contenttypes import CT_STYLES
from xlplan.workbook.package.limits import parse_xml
from xlplan.workbook.package.relationships import RT_STYLES
from xlplan.workbook.package.workbook import MAIN_NS, Workbook
from xlplan.workbook.package.xmltext import escape, insert_before_close, quoteattr
from xlplan.workbook.package.zip import Package, not_workbook

__all__ = ["StyleMerger"]

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


class StyleMerger:
    """Maps owned style indices to the target's ``styles.xml``, appending what is missing.

    Parameters
    ----------
    owned
        The owned package's ``styles.xml``.
    target_text
        The target's ``styles.xml``, or None when the target has none: the owned part is then
        copied whole and every index stays as it is.
    part
        Name of the target's styles part (where :meth:`save` writes).
    """

    def __init__(
        self, owned: bytes, target_text: str | None, part: str, label: str = "<target>"
    ) -> None:
        self.part = part
        self.target_text = target_text
        self.copy_owned = target_text is None
        self._owned_bytes = owned
        owned_root = parse_xml("<owned>", part, owned)
        self._own = {name: _entries(owned_root, name) for name in _POOLS}
        self._own_fmts = {
            int(el.get("numFmtId", "0")): el.get("formatCode", "")
            for el in owned_root.iter(_q("numFmt"))
        }
        root = (
            parse_xml(label, part, target_text.encode("utf-8")) if target_text else ET.Element("x")
        )
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
    def create(cls, tgt: Package, twb: Workbook, own: Package, owb: Workbook) -> StyleMerger:
        """The merger for the styles parts of target ``tgt`` and owned package ``own``.

        Raises
        ------
        TemplateError
            The owned package has no styles part.
        InputError
            The target's styles part is not well-formed XML.
        """
        own_rel = owb.rel_of_type(RT_STYLES)
        if own_rel is None or not own.has(own_rel.part):
            raise TemplateError("owned package has no styles part")
        owned = own.read(own_rel.part)
        rel = twb.rel_of_type(RT_STYLES)
        try:
            if rel is not None and tgt.has(rel.part):
                return cls(owned, tgt.read_text(rel.part), rel.part, tgt.label)
            return cls(owned, None, posixpath.join(twb.base_dir, "styles.xml"), tgt.label)
        except UnicodeDecodeError as exc:
            raise not_workbook(tgt.label, f"styles: {exc}") from exc

    def xf(self, index: int) -> int:
        """Target cellXfs index for owned cellXfs ``index``; Normal (0) stays Normal."""
        if self.copy_owned or index == 0:
            return index
        return self._mapped("cellXfs", index, self._remap_xf)

    def dxf(self, index: int) -> int:
        """Target dxfs index for owned dxfs ``index`` (conditional formats, table styles)."""
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

    def save(self, pkg: Package, wb: Workbook) -> None:
        """Write the merged styles part into ``pkg`` (the owned part whole if it had none)."""
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
    return insert_before_close(text, "styleSheet", new)
