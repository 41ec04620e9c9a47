"""``[Content_Types].xml``: the content type of each part (Default by extension, Override by name).

Read through ElementTree, edited as text (see :mod:`.xmltext`), so the user's entries keep
their bytes and order.
"""

from __future__ import annotations

import posixpath
import re
from typing import Protocol

from xlplan.workbook.package.limits import parse_xml
from xlplan.workbook.package.xmltext import attr, insert_before_close, quoteattr, remove_elements

__all__ = [
    "CONTENT_TYPES_PART",
    "CT_NS",
    "CT_STYLES",
    "CT_TABLE",
    "CT_VML",
    "CT_WORKSHEET",
    "ContentTypes",
    "PartWriter",
]

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
CONTENT_TYPES_PART = "[Content_Types].xml"

CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"


class PartWriter(Protocol):
    """Where :meth:`ContentTypes.save` writes: a package (or a stand-in in tests)."""

    def write_text(self, part: str, text: str) -> None: ...


class ContentTypes:
    """``[Content_Types].xml``: read through ElementTree, edited as text."""

    def __init__(self, text: str, label: str = "<package>") -> None:
        self.text = text
        self.label = label
        self.changed = False
        self._cache: tuple[dict[str, str], dict[str, str]] | None = None

    def _maps(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._cache is None:
            self._cache = self._parse_maps()
        return self._cache

    def _parse_maps(self) -> tuple[dict[str, str], dict[str, str]]:
        root = parse_xml(self.label, CONTENT_TYPES_PART, self.text.encode("utf-8"))
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
        """The content type of ``part`` (no leading slash, any case); "" when none applies."""
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
                self.text = insert_before_close(self.text, "Types", fragment)
        else:
            fragment = (
                f"<Override PartName={quoteattr('/' + part)}"
                f" ContentType={quoteattr(content_type)}/>"
            )
            self.text = insert_before_close(self.text, "Types", fragment)
        self.changed, self._cache = True, None

    def remove(self, part: str) -> None:
        """Drop the Override of ``part``, if any; Defaults stay (other parts may use them)."""

        def keep(tag: str) -> bool:
            name = attr(tag, "PartName") or ""
            return name.lstrip("/").lower() != part.lower()

        new = remove_elements(self.text, "Override", keep)
        if new != self.text:
            self.text, self.changed, self._cache = new, True, None

    def save(self, pkg: PartWriter) -> None:
        """Write the part into ``pkg`` when it changed since it was read or last saved."""
        if self.changed:
            pkg.write_text(CONTENT_TYPES_PART, self.text)
            self.changed = False
