"""Errors: one small exception tree, and problems in the data as values.

Validators never raise for bad input. They return error records, one per bad cell, in a DataFrame
with the columns of :data:`ERROR_COLUMNS`:

``table``   the table key (``landed_cost``, ``fx``, ...)
``row``     the row's position in the table, 0-based, counting data rows only
``column``  the column key (snake_case, as in ``xlplan.workbook.schema``); ``""`` for the whole row
``zh``      the message in 简体中文
``en``      the message in English

The edges turn a record into what the user sees: a cell text in a UDF block, a line
``Sheet!Cell: message`` in the CLI, a row of a report sheet. :func:`format_error` is the one
formatter they share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

ERROR_COLUMNS = ["table", "row", "column", "zh", "en"]


class Lang(str, Enum):
    """Language of user-facing text."""

    ZH = "zh"
    EN = "en"

    @property
    def other(self) -> Lang:
        """The other language (the sub-header under a table shows it)."""
        return Lang.EN if self is Lang.ZH else Lang.ZH


@dataclass(frozen=True)
class Message:
    """One piece of user-facing text in both languages.

    Every error, report line and label is a ``Message``: code never picks a language with
    ``if lang == "zh"``; the edge that shows the text calls :meth:`text` once.
    """

    zh: str
    en: str

    def text(self, lang: Lang | str) -> str:
        """The text in ``lang`` (``zh`` or ``en``), or both joined with ``lang='both'``."""
        if str(lang) == "both":
            return self.both
        return self.zh if Lang(lang) is Lang.ZH else self.en

    @property
    def both(self) -> str:
        """``zh / en`` (the two texts are the same: once)."""
        return self.zh if self.zh == self.en else f"{self.zh} / {self.en}"

    def __str__(self) -> str:
        return self.both

    def __add__(self, other: Message) -> Message:
        return Message(self.zh + other.zh, self.en + other.en)


class XlplanError(Exception):
    """Root of the few exceptions XLPlan raises; each carries a bilingual :class:`Message`."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.both)
        self.message = message

    @property
    def zh(self) -> str:
        return self.message.zh

    @property
    def en(self) -> str:
        return self.message.en

    def text(self, lang: Lang | str = Lang.EN) -> str:
        return self.message.text(lang)


class InputError(XlplanError):
    """The user's input cannot be used at all (missing table, unreadable file, bad option)."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(Message(zh, en))


class FileError(InputError):
    """A file-system operation failed (read, write, rename, copy); the message names the path
    and what to do."""


class FileRefused(InputError):
    """An input file XLPlan will not read any further (hostile XML, over a size limit, not a
    workbook): the whole run stops, where a table one action cannot use stops that action."""


class TemplateError(XlplanError):
    """XLPlan's own template (or xlwings' add-in template) lacks the structure the code
    expects: a fault in the build, not in the user's input."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            Message(
                f"模板结构与预期不符（请报告此问题）: {detail}",
                f"the template's structure is not as expected (please report this): {detail}",
            )
        )


@dataclass(frozen=True)
class ErrorRecord:
    """One problem in one cell (or one row when ``column`` is empty)."""

    table: str
    row: int
    column: str
    zh: str
    en: str

    @property
    def message(self) -> Message:
        return Message(self.zh, self.en)


def empty_errors() -> pd.DataFrame:
    """An error table with no rows and the standard columns (a shallow copy of one made once:
    under copy-on-write a change to it never reaches the original)."""
    return _EMPTY.copy(deep=False)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": pd.Series([], dtype=object),
            "row": pd.Series([], dtype="int64"),
            "column": pd.Series([], dtype=object),
            "zh": pd.Series([], dtype=object),
            "en": pd.Series([], dtype=object),
        }
    )


Texts = str | pd.Series | Callable[[np.ndarray], Sequence[object]]


_EMPTY = _empty()

NO_ERRORS = _empty()
"""The error table with no rows, shared: what :func:`errors_where` and :func:`concat_errors`
return when nothing is wrong (a copy of an empty frame costs ~25 us, and a one-line UDF's
checks find nothing a dozen times a call). Error tables are values: code that changes one
works on its own copy (``errors.copy()``), never in place."""


def errors_where(
    mask: pd.Series | np.ndarray,
    *,
    table: str,
    column: str,
    zh: Texts,
    en: Texts,
    positions: np.ndarray | None = None,
) -> pd.DataFrame:
    """Error records for every row where ``mask`` is true.

    Vectorised: one call checks a whole column. ``zh`` / ``en`` are one message for all rows, a
    Series aligned with ``mask``, or (cheapest for messages that quote the row's value) a
    function of the positions of the failing rows that returns their messages, so no text is
    built for the rows that pass. ``positions`` maps mask positions to row positions (defaults
    to 0..n-1).
    """
    flags = np.asarray(mask, dtype=bool)
    idx = np.flatnonzero(flags)
    rows = idx if positions is None else np.asarray(positions)[idx]

    def pick(msg: Texts) -> list[str]:
        if isinstance(msg, str):
            return [msg] * len(idx)
        if callable(msg):
            return [str(v) for v in msg(idx)] if len(idx) else []
        return [str(v) for v in np.asarray(msg, dtype=object)[idx]]

    if len(idx) == 0:
        return NO_ERRORS
    return pd.DataFrame(
        {
            "table": [table] * len(idx),
            "row": rows.astype("int64"),
            "column": [column] * len(idx),
            "zh": pick(zh),
            "en": pick(en),
        }
    )


def concat_errors(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Stack error tables, ordered by row then by the order the checks ran."""
    parts = [f for f in frames if len(f)]
    if not parts:
        return NO_ERRORS
    out = pd.concat(parts, ignore_index=True)
    out["_order"] = np.arange(len(out))
    out = out.sort_values(["row", "_order"], kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


def records(errors: pd.DataFrame) -> list[ErrorRecord]:
    """The error table as a list of :class:`ErrorRecord`."""
    return [
        ErrorRecord(str(t), int(r), str(c), str(z), str(e))
        for t, r, c, z, e in errors[ERROR_COLUMNS].itertuples(index=False, name=None)
    ]


Locator = Callable[[ErrorRecord], str]


def format_error(
    record: ErrorRecord, lang: Lang | str = Lang.EN, locate: Locator | None = None
) -> str:
    """``Where: message`` in one language, or both with ``lang='both'``.

    ``locate`` turns the record into a place the user can find (``Landed Cost!D7`` in a
    workbook, ``line 7, column duty_rate`` in a CSV); without it the place is
    ``table row N, column``.
    """
    where = locate(record) if locate else _default_place(record)
    return f"{where}: {record.message.text(lang)}"


def _default_place(record: ErrorRecord) -> str:
    col = f", {record.column}" if record.column else ""
    return f"{record.table} row {record.row + 1}{col}"


def row_messages(
    errors: pd.DataFrame, n_rows: int, labels: Mapping[str, Message] | None = None
) -> pd.Series:
    """Per row, the bilingual messages joined with ``; `` (``""`` where the row is clean).

    This is what the ``error`` column of an output table shows. ``labels`` names the columns
    as the sheet's headers do (``市场：未知的市场 'XX' / Market: unknown market 'XX'``); a column
    without a label shows its key; a message that starts with the column's name has no prefix.
    """
    out = np.full(n_rows, "", dtype=object)
    if len(errors):
        names = labels or {}
        col = errors["column"].astype(str)
        zh_name = col.map(lambda c: names[c].zh if c in names else c)
        en_name = col.map(lambda c: names[c].en if c in names else c)
        blank = col == ""
        # no prefix where the message already starts with the column's name
        zh_named = [m.startswith(n) for m, n in zip(errors["zh"], zh_name, strict=True)]
        en_named = [
            m.lower().startswith(n.lower()) for m, n in zip(errors["en"], en_name, strict=True)
        ]
        zh = (zh_name + "：").where(~blank & ~np.array(zh_named, dtype=bool), "") + errors["zh"]
        en = (en_name + ": ").where(~blank & ~np.array(en_named, dtype=bool), "") + errors["en"]
        text = zh + " / " + en
        joined = text.groupby(errors["row"].to_numpy()).agg("; ".join)
        out[joined.index.to_numpy(dtype=np.int64)] = joined.to_numpy(dtype=object)
    return pd.Series(out, dtype=object)
