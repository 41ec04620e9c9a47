"""What one run may expand, and the hardened XML parsing of every part XLPlan reads.

A workbook comes from outside. Its XML parts are parsed without entity expansion or external
entities (:mod:`defusedxml`; the Open Packaging Conventions forbid DTDs in a package, so a
part that declares one is refused before any parser sees it), and what one run may expand is
capped, so a small hostile file cannot take minutes or gigabytes:

- :data:`Limits.part_mb`: the uncompressed size of one part XLPlan reads (checked against the
  zip directory before anything is decompressed, and again while reading);
- :data:`Limits.cells`: the cells of one table XLPlan reads (rows x columns, checked from the
  table's range before any cell is read).

Both can be raised for a run by the environment (``XLPLAN_MAX_PART_MB``, ``XLPLAN_MAX_CELLS``);
the refusal says so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from xlplan.core.errors import FileRefused

__all__ = [
    "LIMITS",
    "Limits",
    "cells_over_limit",
    "check_prolog",
    "hostile_xml",
    "parse_xml",
    "part_over_limit",
]

PART_ENV = "XLPLAN_MAX_PART_MB"
CELLS_ENV = "XLPLAN_MAX_CELLS"


@dataclass(frozen=True)
class Limits:
    """The defaults hold a 1,048,576-line Landed Cost table (Excel's last row) with room."""

    part_mb: int = 1024
    cells: int = 40_000_000

    @classmethod
    def from_env(cls) -> Limits:
        base = cls()
        return cls(
            part_mb=_env_int(PART_ENV, base.part_mb),
            cells=_env_int(CELLS_ENV, base.cells),
        )

    @property
    def part_bytes(self) -> int:
        return self.part_mb * 2**20


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").replace("_", "").replace(",", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else default


LIMITS = Limits()


def current() -> Limits:
    """The limits in force: the defaults, or what the environment raised them to."""
    return Limits.from_env()


def part_over_limit(label: str, part: str, size: int, limits: Limits) -> FileRefused:
    """The refusal of a part whose uncompressed size exceeds ``limits.part_mb``."""
    mb = size / 2**20
    return FileRefused(
        f"{label} 中的 {part} 解压后有 {mb:,.0f} MB，超过每个部件 {limits.part_mb:,} MB 的上限；"
        f"如确需处理，请设置环境变量 {PART_ENV}（单位 MB）提高上限",
        f"{part} in {label} expands to {mb:,.0f} MB, over the limit of {limits.part_mb:,} MB "
        f"per part; to process it anyway, raise the limit with the environment variable "
        f"{PART_ENV} (in MB)",
    )


def cells_over_limit(label: str, where: str, cells: int, limits: Limits) -> FileRefused:
    """The refusal of a table whose range holds more than ``limits.cells`` cells."""
    return FileRefused(
        f"{label} 中的表 {where} 有 {cells:,} 个单元格，超过每张表 {limits.cells:,} 个的上限；"
        f"请删除多余的空行或空列的格式，或设置环境变量 {CELLS_ENV} 提高上限",
        f"the table {where} in {label} spans {cells:,} cells, over the limit of "
        f"{limits.cells:,} cells per table; clear the formatting of unused rows or columns, or "
        f"raise the limit with the environment variable {CELLS_ENV}",
    )


def hostile_xml(label: str, part: str, why: str) -> FileRefused:
    """The refusal of a part that declares a DTD, entities or external references."""
    return FileRefused(
        f"{label} 中的 {part} 含有 DTD 或实体声明（可能是恶意构造的文件，XLPlan 不会展开）：{why}",
        f"{part} in {label} declares a DTD or entities (possibly a hostile file; XLPlan does "
        f"not expand them): {why}",
    )


_START = re.compile(rb"<(?![?!])")  # the root element's start tag


def check_prolog(label: str, part: str, head: bytes) -> None:
    """Refuse a part whose prolog (before the root element) declares a DTD.

    ``head`` is the beginning of the part; a DTD can only come before the root element.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 (with BOM): look at it as text
        head = head.decode("utf-16", "ignore").encode("utf-8", "ignore")
    else:
        head = head.replace(b"\x00", b"")
    root = _START.search(head)
    prolog = head if root is None else head[: root.start()]
    if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
        raise hostile_xml(label, part, "<!DOCTYPE ...>")


def parse_xml(label: str, part: str, data: bytes) -> Any:
    """The root element of ``data``, parsed without DTDs, entities or external references.

    Raises
    ------
    FileRefused
        The part declares a DTD or entities, or is not well-formed.
    """
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    check_prolog(label, part, data[:4096])
    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise hostile_xml(label, part, type(exc).__name__) from exc
    except ET.ParseError as exc:
        raise FileRefused(
            f"文件不是有效的 Excel 工作簿：{label}（{part}: {exc}）",
            f"not a valid Excel workbook: {label} ({part}: {exc})",
        ) from exc
