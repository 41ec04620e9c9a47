"""The types every sheet and table contract is declared with: :class:`Column`, :class:`Table`,
:class:`Sheet`, and :class:`Kind` (how a column's cells are read, checked and formatted).

A capability declares its own tables in its ``tables`` module from the column keys its ``calc``
uses; the same declaration drives template generation (headers in both languages, number formats,
validation), reading (either language's header maps to the key: :meth:`Table.header_map`),
coercion and validation (:func:`xlplan.workbook.coerce.coerce_table`) and error messages.

Glossary of units used in column declarations (:mod:`xlplan.core.units`):
``[market ccy/unit]`` money per unit sold, in the currency of the line's market;
``[cost ccy/unit]`` money per unit in the currency the goods are bought in;
``[fraction]`` a share or rate, 0.15 = 15 %; ``[reporting ccy]`` plan amounts in the
reporting currency (Settings).

This module imports neither openpyxl nor xlwings.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import pandas as pd

from xlplan.core import units
from xlplan.core.errors import Lang, Message
from xlplan.core.memo import derived


class Kind(str, Enum):
    """How a column's cells are read, checked and formatted."""

    TEXT = "text"
    CODE = "code"  # upper-case identifier from a list (market, currency)
    NUMBER = "number"
    MONEY = "money"
    AMOUNT = "amount"  # plan amounts: whole units of the reporting currency
    RATE = "rate"
    BOOL = "bool"
    DATE = "date"
    MONTH = "month"  # 1-12 (a month of the plan year) or a year and month (2027-03, 2027年3月)
    INT = "int"


NUMERIC_KINDS = frozenset({Kind.NUMBER, Kind.MONEY, Kind.AMOUNT, Kind.RATE, Kind.INT})
FORMATS = {
    Kind.MONEY: "#,##0.00;[Red]-#,##0.00",
    Kind.AMOUNT: "#,##0;[Red]-#,##0",
    Kind.RATE: "0.0%",
    Kind.NUMBER: "#,##0.00######",
    Kind.INT: "0",
    Kind.DATE: "yyyy-mm-dd",
    # Excel shows a flag as TRUE/FALSE whatever its format; LibreOffice needs the format to,
    # else a TRUE flag reads "1" beside "FALSE".
    Kind.BOOL: '"TRUE";"TRUE";"FALSE"',
}


@dataclass(frozen=True)
class Column:
    """One column of a table. Ranges are inclusive unless ``*_exclusive``."""

    key: str
    zh: str
    en: str
    kind: Kind
    unit_zh: str = ""
    unit_en: str = ""
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: str | None = None  # a named list of the catalog: "markets", "currencies", ...
    width: float = 13.0
    help_zh: str = ""
    help_en: str = ""

    @property
    def label(self) -> Message:
        return Message(self.zh, self.en)

    def header(self, lang: Lang | str) -> str:
        return self.label.text(lang)

    def unit(self, lang: Lang | str) -> str:
        return Message(self.unit_zh, self.unit_en).text(lang)

    def help(self, lang: Lang | str) -> str:
        return Message(self.help_zh, self.help_en).text(lang)

    @property
    def number_format(self) -> str | None:
        return FORMATS.get(self.kind)

    @property
    def range_text(self) -> Message:
        """The allowed range in words: ``≥ 0 且 ≤ 10`` / ``>= 0 and <= 10``."""
        zh: list[str] = []
        en: list[str] = []
        if self.minimum is not None:
            zh.append(f"{'>' if self.min_exclusive else '≥'} {self.minimum:g}")
            en.append(f"{'>' if self.min_exclusive else '>='} {self.minimum:g}")
        if self.maximum is not None:
            zh.append(f"{'<' if self.max_exclusive else '≤'} {self.maximum:g}")
            en.append(f"{'<' if self.max_exclusive else '<='} {self.maximum:g}")
        return Message(" 且 ".join(zh), " and ".join(en))


@dataclass(frozen=True)
class Table:
    """An Excel Table (ListObject) XLPlan reads or writes."""

    key: str
    name: str  # the Excel table name, the same in every language
    zh: str
    en: str
    columns: tuple[Column, ...]
    sheet: str = ""  # key of the sheet it lives on
    help_zh: str = ""
    help_en: str = ""
    _by_key: dict[str, Column] = field(default_factory=dict, repr=False, compare=False)
    _by_header: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update({c.key: c for c in self.columns})

    @property
    def label(self) -> Message:
        return Message(self.zh, self.en)

    def title(self, lang: Lang | str) -> str:
        return self.label.text(lang)

    def help(self, lang: Lang | str) -> str:
        return Message(self.help_zh, self.help_en).text(lang)

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def column(self, key: str) -> Column:
        return self._by_key[key]

    def headers(self, lang: Lang | str) -> list[str]:
        return [c.header(lang) for c in self.columns]

    def header_map(self) -> dict[str, str]:
        """Normalised header text (zh, en or key) -> column key (built once per table: a
        one-line UDF maps its header row on every call)."""
        if not self._by_header:
            for c in self.columns:
                for text in (c.key, c.zh, c.en):
                    self._by_header[normalise_header(text)] = c.key
        return dict(self._by_header)

    def view(self, keys: tuple[str, ...] | list[str], key: str | None = None) -> Table:
        """The same table with only ``keys`` (in that order), e.g. an output block."""
        from dataclasses import replace

        return replace(
            self,
            key=key or self.key,
            columns=tuple(self.column(k) for k in keys),
            _by_key={},
            _by_header={},
        )


@dataclass(frozen=True)
class Sheet:
    """A worksheet of the template; its name differs by language.

    ``heading`` and ``note`` are the title and one-line explanation at its top. ``owned``
    sheets are rewritten by XLPlan on every run; the others belong to the user.
    """

    key: str
    zh: str
    en: str
    owned: bool = False
    heading: Message = Message("", "")
    note: Message = Message("", "")

    @property
    def label(self) -> Message:
        return Message(self.zh, self.en)

    def title(self, lang: Lang | str) -> str:
        return self.label.text(lang)


def normalise_header(text: object) -> str:
    """Header text compared case-, space- and punctuation-insensitively."""
    return _normalised_header(str(text))


@functools.lru_cache(maxsize=4096)
def _normalised_header(text: str) -> str:
    """Cached: a one-line UDF reads the same header row on every call."""
    return re.sub(r"[\s_\-/()（）:：\[\]【】]+", "", text).casefold()


# --------------------------------------------------------------------------------------------
# Column constructors shared by the capabilities' declarations
# --------------------------------------------------------------------------------------------


def text(key: str, zh: str, en: str, width: float = 12.0, **kw: object) -> Column:
    return Column(key, zh, en, Kind.TEXT, width=width, **kw)  # type: ignore[arg-type]


def money(key: str, zh: str, en: str, *, required: bool = False, **kw: object) -> Column:
    """Money per unit sold in the market currency, never negative."""
    return Column(
        key,
        zh,
        en,
        Kind.MONEY,
        units.PER_UNIT.zh,
        units.PER_UNIT.en,
        required=required,
        minimum=0.0,
        **kw,  # type: ignore[arg-type]
    )


def rate(key: str, zh: str, en: str, maximum: float = 1.0, **kw: object) -> Column:
    """A rate between 0 and ``maximum`` (1 = 100 %)."""
    return Column(
        key,
        zh,
        en,
        Kind.RATE,
        units.FRACTION.zh,
        units.FRACTION.en,
        minimum=0.0,
        maximum=maximum,
        **kw,  # type: ignore[arg-type]
    )


def ratio(key: str, zh: str, en: str, width: float = 11.0, **kw: object) -> Column:
    """An output share or ratio shown as a percentage (no range: it is computed)."""
    return Column(
        key,
        zh,
        en,
        Kind.RATE,
        units.FRACTION.zh,
        units.FRACTION.en,
        width=width,
        **kw,  # type: ignore[arg-type]
    )


def amount(key: str, zh: str, en: str, width: float = 15.0, **kw: object) -> Column:
    """A plan amount in whole units of the reporting currency."""
    return Column(
        key,
        zh,
        en,
        Kind.AMOUNT,
        units.REPORTING.zh,
        units.REPORTING.en,
        width=width,
        **kw,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------------------------
# Headers and rows
# --------------------------------------------------------------------------------------------


def map_headers(headers: Sequence[object], table: Table) -> tuple[dict[int, str], list[str]]:
    """Positions of recognised headers -> column keys, and the unknown headers.

    Either language's header (or the key itself) is recognised. A header row met before is
    not read again (a one-line UDF hands over the same row on every call).
    """
    typed = tuple((type(h), h) for h in headers)  # 1 and TRUE are different headers
    try:
        made = _HEADER_ROWS.get((id(table), typed))
    except TypeError:  # a header that cannot be a key: read it as it comes
        return _map_headers(headers, table)
    if made is None or made[0] is not table:  # new, or another table now has that id
        if len(_HEADER_ROWS) >= HEADER_ROWS_KEPT:
            _HEADER_ROWS.clear()
        made = (table, *_map_headers(headers, table))
        _HEADER_ROWS[(id(table), typed)] = made
    return dict(made[1]), list(made[2])


HEADER_ROWS_KEPT = 256
_HEADER_ROWS: dict[tuple[int, tuple[object, ...]], tuple[Table, dict[int, str], list[str]]] = {}
"""The header rows read, by table (identity) and row; the table is kept with its result."""


def _map_headers(headers: Sequence[object], table: Table) -> tuple[dict[int, str], list[str]]:
    lookup = table.header_map()
    found: dict[int, str] = {}
    taken: set[str] = set()
    unknown: list[str] = []
    for i, h in enumerate(headers):
        if h is None or str(h).strip() == "":
            continue
        key = lookup.get(normalise_header(h))
        if key is None:
            unknown.append(str(h))
        elif key not in taken:
            found[i] = key
            taken.add(key)
    return found, unknown


def missing_columns(headers: Sequence[object], table: Table, where: str) -> Message | None:
    """What is wrong with a header row that lacks required columns (None when nothing is), with
    the header that looks like each missing one: ``售价(含税)`` for ``售价`` ("did you mean")."""
    found, unknown = map_headers(headers, table)
    missing = [c for c in table.columns if c.required and c.key not in found.values()]
    if not missing:
        return None
    zh: list[str] = []
    en: list[str] = []
    for col in missing:
        guess = _similar_header(col, unknown)
        zh.append(col.zh + (f"（是否为“{guess}”？）" if guess else ""))
        en.append(col.en + (f" (did you mean '{guess}'?)" if guess else ""))
    return Message(
        f"{where}: 表 {table.zh} 缺少必需列: {'、'.join(zh)}",
        f"{where}: table {table.en} lacks required columns: {', '.join(en)}",
    )


def _similar_header(col: Column, headers: Sequence[str]) -> str:
    """The unknown header that most looks like ``col``'s (either language): one that contains
    it (``售价(含税)``) or is a close spelling (``Prise``); ``""`` when none does."""
    names = [normalise_header(n) for n in (col.zh, col.en, col.key)]
    for header in headers:
        text = normalise_header(header)
        if any(name and (name in text or text in name) for name in names):
            return header
    best = ""
    score = 0.0
    for header in headers:
        text = normalise_header(header)
        ratio = max(difflib.SequenceMatcher(None, text, name).ratio() for name in names)
        if ratio > score:
            best, score = header, ratio
    return best if score >= 0.75 else ""


def frame_from_rows(rows: Sequence[Sequence[object]], table: Table) -> pd.DataFrame:
    """A raw DataFrame (keys as columns, cells untouched) from a header row and data rows.

    Rows that are entirely blank are dropped only at the end of the table (trailing blanks),
    so row positions still match the sheet.
    """
    if not rows:
        return pd.DataFrame(columns=table.keys)
    found, _ = map_headers(rows[0], table)
    body = rows[1:]
    n = len(body)
    while n and all(v is None or str(v).strip() == "" for v in body[n - 1]):
        n -= 1
    block = _rectangle(body[:n], max(found, default=-1) + 1)
    # One block of cells in the table's column order (a missing column is all None), made
    # into a frame at once: a frame built column by column costs ~0.6 ms for one row. Its
    # column keys are an object index: pandas 3 would hold them in Arrow, where every column
    # look-up costs more (a one-line UDF reads ~50 columns of a one-row frame on each call).
    cells = np.full((n, len(table.keys)), None, dtype=object)
    at = {key: j for j, key in enumerate(table.keys)}
    for i, key in found.items():
        if block is not None:
            cells[:, at[key]] = block[:, i]
        else:
            cells[:, at[key]] = [r[i] if i < len(r) else None for r in body[:n]]
    columns = derived(table, "keys", lambda: pd.Index(table.keys, dtype=object))
    return pd.DataFrame(cells, columns=columns, index=pd.RangeIndex(n), dtype=object)


def _rectangle(body: Sequence[Sequence[object]], width: int) -> np.ndarray | None:
    """``body`` as one 2-D object array when its rows are all as long (at least ``width``):
    columns are then sliced at once instead of cell by cell; None for ragged rows."""
    if not body or not width:
        return None
    try:
        block = np.array(body, dtype=object)
    except ValueError:  # ragged rows
        return None
    return block if block.ndim == 2 and block.shape[1] >= width else None
