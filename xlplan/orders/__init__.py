"""Order files as sellers download them, read into one normalised order-line table.

This is the file edge of the customer map: every public function that touches a file starts with
``read_``. The readers are columnar (pyarrow CSV reader and pyarrow compute kernels, no Python
loop over rows), tolerant of the quirks real exports have (blank continuation rows, blank cells,
trailing spaces, a byte-order mark) and strict about what they cannot interpret: a value that is
not a number or a date raises :class:`xlplan.errors.InputError` naming the file, the line and the
column, in Chinese and English.

Order-line contract
-------------------
Every reader returns a DataFrame with exactly the columns of :data:`ORDER_LINE_COLUMNS`, one row
per order line (one row per order where the source has no line detail):

``source``       the reader that produced the row (an :class:`OrderSource` value)
``line``         the record's line in the file, 1-based, the header being line 1; counted in
                 records, so a quoted value spanning lines shifts the lines after it (for XML:
                 the order's position, 1-based) [int]
``order_id``     the order's id as in the file (Shopify ``Name``, Amazon order id) [str]
``customer_id``  a stable buyer key: e-mail lower-cased and trimmed for Shopify, ``BuyerEmail``
                 for MWS orders, the mapped column for generic CSV; NA where the file has none
                 (Amazon settlements carry no buyer) [str]
``order_date``   the order's local wall-clock date-time as written in the file, UTC offset
                 dropped (Amazon settlements: the posted date) [datetime64]
``currency``     ISO 4217 code, upper case [str]
``amount``       the line's share of what the buyer paid, net of refunds, in ``currency``
                 (tax and shipping included, as in Shopify's ``Total``; see each reader) [currency]
``quantity``     units on the line [float]
``sku``          SKU, or the product name where the file has no SKU; ``""`` when neither [str]
``product``      product or line-item name; ``""`` when absent [str]
``country``      ISO 3166-1 alpha-2 of the shipping (else billing) address; NA when absent [str]
``channel``      sales channel (``shopify``, ``Amazon.com`` ...) [str]
``business``     the buyer is a business (MWS ``IsBusinessOrder``, or a mapped column) [bool]
``status``       financial or order status as in the file, lower case; ``""`` when absent [str]

Amounts are never rounded here; rounding happens once, at the output boundary.
"""

from __future__ import annotations

import csv
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]

from xlplan.core.errors import InputError

ORDER_LINE_COLUMNS = [
    "source",
    "line",
    "order_id",
    "customer_id",
    "order_date",
    "currency",
    "amount",
    "quantity",
    "sku",
    "product",
    "country",
    "channel",
    "business",
    "status",
]

#: How many offending lines an error message quotes before summarising the rest.
MAX_QUOTED_LINES = 5

PathLike = str | os.PathLike[str]


class OrderSource(str, Enum):
    """Which reader produced an order line."""

    SHOPIFY = "shopify"
    AMAZON_SETTLEMENT = "amazon_settlement"
    AMAZON_ORDERS_XML = "amazon_orders_xml"
    AMAZON_ORDERS_REPORT = "amazon_orders_report"
    GENERIC = "generic"


# --------------------------------------------------------------------------------------------
# Shared columnar helpers


def _read_header(path: Path, delimiter: str, encoding: str) -> list[str]:
    try:
        with path.open("r", encoding=encoding, newline="") as fh:
            first = fh.readline()
    except OSError as exc:
        raise InputError(
            f"无法打开订单文件 {path}: {exc.strerror or exc}",
            f"cannot open order file {path}: {exc.strerror or exc}",
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: 第 1 行不是 {encoding} 编码的文本",
            f"{path}: line 1 is not {encoding} text",
        ) from exc
    first = first.lstrip("\ufeff")
    if not first.strip():
        raise InputError(
            f"{path}: 文件为空或缺少表头行", f"{path}: the file is empty or has no header"
        )
    row = next(csv.reader([first], delimiter=delimiter))
    return [name.strip() for name in row]


def _read_table(
    path: PathLike,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    quoted: bool = True,
    wanted: Collection[str] | None = None,
) -> tuple[pa.Table, Path]:
    """The ``wanted`` columns (all when None) as text, header names trimmed; blank cells as
    empty strings. Columns not wanted are skipped by the parser (exports carry 70+)."""
    p = Path(path)
    header = _read_header(p, delimiter, encoding)
    dupes = sorted(
        {h for h in header if header.count(h) > 1 and h and (wanted is None or h in wanted)}
    )
    if dupes:
        raise InputError(
            f"{p}: 表头中列名重复: {', '.join(dupes)}",
            f"{p}: repeated column names in the header: {', '.join(dupes)}",
        )
    seen: set[str] = set()
    names = []
    for i, h in enumerate(header):
        names.append(h if h and h not in seen else f"_column_{i}")
        seen.add(h)
    include = [n for n in names if wanted is None or n in wanted]
    try:
        table = pacsv.read_csv(
            p,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, encoding=encoding, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"' if quoted else False,
                newlines_in_values=quoted,
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=include,
                column_types={n: pa.string() for n in include},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except OSError as exc:
        raise InputError(
            f"无法打开订单文件 {p}: {exc}", f"cannot open order file {p}: {exc}"
        ) from exc
    except pa.ArrowInvalid as exc:
        raise InputError(
            f"{p}: 无法按 CSV 解析 ({exc})", f"{p}: cannot be parsed as delimited text ({exc})"
        ) from exc
    return table, p


def _require(path: Path, present: Sequence[str], required: Sequence[str]) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise InputError(
            f"{path}: 缺少必需的列: {', '.join(missing)}",
            f"{path}: missing required columns: {', '.join(missing)}",
        )


def _text(table: pa.Table, name: str) -> pa.Array:
    """A column as trimmed text; a column the file does not have reads as all blank."""
    if name not in table.column_names:
        return pa.array([""] * table.num_rows, type=pa.string())
    col = table.column(name).combine_chunks()
    return pc.utf8_trim_whitespace(col)


def _raise_bad(
    path: Path,
    bad: np.ndarray,
    lines: np.ndarray,
    column: str,
    values: pa.Array | np.ndarray,
    what_zh: str,
    what_en: str,
) -> None:
    idx = np.flatnonzero(bad)
    if len(idx) == 0:
        return
    vals = values.to_pylist() if isinstance(values, pa.Array) else list(values)
    shown = idx[:MAX_QUOTED_LINES]
    zh = "; ".join(f"第 {int(lines[i])} 行 “{vals[i]}”" for i in shown)
    en = "; ".join(f"line {int(lines[i])} '{vals[i]}'" for i in shown)
    more_zh = f" (另有 {len(idx) - len(shown)} 行)" if len(idx) > len(shown) else ""
    more_en = f" (and {len(idx) - len(shown)} more lines)" if len(idx) > len(shown) else ""
    raise InputError(
        f"{path}: 列 “{column}” {what_zh}: {zh}{more_zh}",
        f"{path}: column '{column}' {what_en}: {en}{more_en}",
    )


_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_COMMA_DECIMAL = r"^[+-]?\d+,\d+$"


def _numbers(
    path: Path,
    values: pa.Array,
    lines: np.ndarray,
    column: str,
    *,
    blank: float | None,
    comma_decimal: bool = False,
) -> np.ndarray:
    """Parse trimmed text to float64; ``blank`` is the value for empty cells (None: empty is an
    error). Thousands separators are not accepted (exports do not write them)."""
    vals = values
    if comma_decimal:
        is_comma = pc.match_substring_regex(vals, _COMMA_DECIMAL)
        vals = pc.if_else(is_comma, pc.replace_substring(vals, ",", "."), vals)
    empty = pc.equal(vals, "")
    ok = pc.match_substring_regex(vals, _NUMBER)
    bad = ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
    is_empty = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    if blank is not None:
        bad &= ~is_empty
    _raise_bad(
        path,
        bad,
        lines,
        column,
        values,
        "不是数字" if blank is not None else "为空或不是数字",
        "is not a number" if blank is not None else "is blank or not a number",
    )
    filled = pc.if_else(empty, "0", vals)
    out = np.array(pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    if blank is not None and blank != 0.0:
        out[is_empty] = blank
    return out


# Date layouts read without a ``date_format``: ISO dates with a time (``T`` or space, seconds
# optional) or without, ``YYYY/MM/DD`` and ``DD.MM.YYYY``. A UTC offset or zone name after the
# time is dropped: the wall-clock time as written is kept.
_DATE_TAIL = r"^(\.\d+)?(Z| ?[+-]\d{2}:?\d{2}| ?UTC| ?GMT| ?PST| ?PDT)?$"
_CANONICAL = "%Y-%m-%d %H:%M:%S"
_FAST_DATE = r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z| ?[+-]\d{2}:?\d{2}| ?UTC| ?GMT)?$"


def _same_day(parsed: pa.Array, head: pa.Array) -> pa.Array:
    text = pc.utf8_slice_codeunits(head, 8, 10)
    text = pc.if_else(pc.match_substring_regex(text, r"^\d\d$"), text, "0")
    written = pc.cast(text, pa.int64())
    return pc.equal(pc.day(parsed), written)


def _dates(
    path: Path,
    values: pa.Array,
    lines: np.ndarray,
    column: str,
    *,
    date_format: str | None = None,
) -> np.ndarray:
    """Parse trimmed text to datetime64[s] wall-clock time (offset dropped). Empty is an error.

    Without ``date_format`` every value is rewritten to ``YYYY-MM-DD HH:MM:SS`` and parsed;
    the parsed day of month must equal the written one, because pyarrow's parser rolls
    impossible days over into the next month (``2025-02-30`` would become March 2).
    """
    if date_format is not None:
        parsed = pc.strptime(values, format=date_format, unit="s", error_is_null=True)
        bad = np.asarray(pc.is_null(parsed).to_numpy(zero_copy_only=False), dtype=bool)
    elif len(values) and pc.all(pc.match_substring_regex(values, _FAST_DATE)).as_py():
        # every value is ISO with seconds (Shopify, Amazon): one parse, no rewriting
        head = pc.replace_substring(pc.utf8_slice_codeunits(values, 0, 19), "T", " ")
        parsed = pc.strptime(head, format=_CANONICAL, unit="s", error_is_null=True)
        bad = ~np.asarray(
            pc.fill_null(_same_day(parsed, head), False).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
    else:
        iso = pc.replace_substring_regex(values, r"^(\d{4})/(\d{2})/(\d{2})", r"\1-\2-\3")
        iso = pc.replace_substring_regex(iso, r"^(\d{2})\.(\d{2})\.(\d{4})", r"\3-\2-\1")
        iso = pc.replace_substring_regex(iso, r"^(\d{4}-\d{2}-\d{2})T", r"\1 ")
        full = pc.match_substring_regex(iso, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
        minutes = pc.match_substring_regex(iso, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
        day = pc.match_substring_regex(iso, r"^\d{4}-\d{2}-\d{2}")
        head = pc.if_else(
            full,
            pc.utf8_slice_codeunits(iso, 0, 19),
            pc.if_else(
                minutes,
                pc.binary_join_element_wise(pc.utf8_slice_codeunits(iso, 0, 16), ":00", ""),
                pc.binary_join_element_wise(pc.utf8_slice_codeunits(iso, 0, 10), " 00:00:00", ""),
            ),
        )
        tail = pc.if_else(
            full,
            pc.utf8_slice_codeunits(iso, 19),
            pc.if_else(minutes, pc.utf8_slice_codeunits(iso, 16), pc.utf8_slice_codeunits(iso, 10)),
        )
        parsed = pc.strptime(head, format=_CANONICAL, unit="s", error_is_null=True)
        good = pc.and_kleene(
            pc.and_kleene(day, pc.match_substring_regex(tail, _DATE_TAIL)),
            _same_day(parsed, head),
        )
        bad = ~np.asarray(pc.fill_null(good, False).to_numpy(zero_copy_only=False), dtype=bool)
    _raise_bad(path, bad, lines, column, values, "不是可识别的日期", "is not a date it can read")
    return np.asarray(parsed.to_numpy(zero_copy_only=False), dtype="datetime64[s]")


def _or_none(values: np.ndarray) -> np.ndarray:
    """Blank text as None (the contract's NA), as an object array."""
    out = np.asarray(values, dtype=object).copy()
    out[out == ""] = None
    return out


def _blank_null(values: pa.Array) -> pa.Array:
    """Blank text as null (the contract's NA), staying in Arrow."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


_CONTRACT_TYPES = {
    "source": pa.string(),
    "line": pa.int64(),
    "order_id": pa.string(),
    "customer_id": pa.string(),
    "order_date": pa.timestamp("ns"),
    "currency": pa.string(),
    "amount": pa.float64(),
    "quantity": pa.float64(),
    "sku": pa.string(),
    "product": pa.string(),
    "country": pa.string(),
    "channel": pa.string(),
    "business": pa.bool_(),
    "status": pa.string(),
}


def _finish(frame: Mapping[str, object], n: int) -> pd.DataFrame:
    """Assemble the contract table from Arrow or numpy columns (or a scalar for a constant
    column) with stable dtypes: text is pandas' default string dtype (``str`` in pandas 3,
    ``object`` in pandas 2), nulls are NA, ``order_date`` is ``datetime64[ns]``."""
    arrays = []
    for col in ORDER_LINE_COLUMNS:
        typ = _CONTRACT_TYPES[col]
        v = frame[col]
        if isinstance(v, (str, bool, int, float)):
            arr = pa.repeat(pa.scalar(v, typ), n)
        elif isinstance(v, (pa.Array, pa.ChunkedArray)):
            arr = v
        else:
            arr = pa.array(np.asarray(v) if not isinstance(v, pd.Series) else v, from_pandas=True)
        if arr.type != typ:
            arr = arr.cast(typ)
        arrays.append(arr)
    table = pa.Table.from_arrays(arrays, names=ORDER_LINE_COLUMNS)
    out: pd.DataFrame = table.to_pandas()
    for col in ("order_id", "sku", "product", "channel", "status", "currency", "source"):
        if out[col].dtype == object:  # pandas 2
            out[col] = out[col].astype(str)
    out["order_date"] = out["order_date"].astype("datetime64[ns]")
    out.index = pd.RangeIndex(n)
    return out


def _np_str(values: pa.Array) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)


# --------------------------------------------------------------------------------------------
# Shopify orders export


SHOPIFY_REQUIRED = ["Name", "Created at", "Currency", "Total", "Lineitem quantity"]
SHOPIFY_COLUMNS = {
    *SHOPIFY_REQUIRED,
    "Email",
    "Refunded Amount",
    "Financial Status",
    "Lineitem name",
    "Lineitem sku",
    "Lineitem price",
    "Lineitem discount",
    "Shipping Country",
    "Billing Country",
}


def read_shopify_orders(path: PathLike, *, encoding: str = "utf-8") -> pd.DataFrame:
    """Read Shopify's *Orders → Export* CSV into the order-line contract.

    The export has one row per line item; order-level fields (e-mail, dates, currency, totals,
    refunds, status, addresses) are filled only on the first row of each order and are carried
    down to the order's other rows here. An order's rows must be together (they are in every
    export); a later row of an order that is not next to its first row is reported because its
    order fields are blank.

    Amount: the order's ``Total`` minus ``Refunded Amount`` [order currency], split over its
    lines in proportion to ``Lineitem price`` x ``Lineitem quantity`` - ``Lineitem discount``
    where the file has prices, otherwise in proportion to quantity (equally where all are 0).
    The lines of an order therefore add up to what the buyer paid net of refunds, tax and
    shipping included.

    Required columns: ``Name``, ``Created at``, ``Currency``, ``Total``, ``Lineitem quantity``.
    Optional: ``Email``, ``Refunded Amount``, ``Financial Status``, ``Lineitem name``,
    ``Lineitem sku``, ``Lineitem price``, ``Lineitem discount``, ``Shipping Country``,
    ``Billing Country``.

    Raises
    ------
    InputError
        missing columns, or a value that is not a number or a date (file, line, column named).
    """
    table, p = _read_table(path, encoding=encoding, wanted=SHOPIFY_COLUMNS)
    _require(p, table.column_names, SHOPIFY_REQUIRED)
    n = table.num_rows
    lines = np.arange(2, n + 2, dtype=np.int64)
    name = _text(table, "Name")
    blank_name = np.asarray(pc.equal(name, "").to_numpy(zero_copy_only=False), dtype=bool)
    _raise_bad(p, blank_name, lines, "Name", name, "为空", "is blank")

    first = np.ones(n, dtype=bool)
    if n > 1:
        changed = pc.not_equal(name.slice(1), name.slice(0, n - 1))
        first[1:] = np.asarray(changed.to_numpy(zero_copy_only=False), dtype=bool)
    group = np.cumsum(first) - 1
    first_idx = np.flatnonzero(first)
    take_first = pa.array(first_idx)
    take_group = pa.array(group)

    def order_level(col: str) -> pa.Array:
        return pc.take(_text(table, col), take_first)

    first_lines = lines[first_idx]
    for col in ("Created at", "Currency", "Total"):
        vals = order_level(col)
        empty = np.asarray(pc.equal(vals, "").to_numpy(zero_copy_only=False), dtype=bool)
        _raise_bad(
            p,
            empty,
            first_lines,
            col,
            pc.take(name, take_first),
            "在订单首行为空 (同一订单的各行须相邻)",
            "is blank on the first row of order (an order's rows must be together)",
        )

    total = _numbers(p, order_level("Total"), first_lines, "Total", blank=None)
    refunded = _numbers(p, order_level("Refunded Amount"), first_lines, "Refunded Amount", blank=0)
    created = _dates(p, order_level("Created at"), first_lines, "Created at")
    ship = pc.utf8_upper(order_level("Shipping Country"))
    bill = pc.utf8_upper(order_level("Billing Country"))
    country = pc.if_else(pc.equal(ship, ""), bill, ship)

    qty = _numbers(p, _text(table, "Lineitem quantity"), lines, "Lineitem quantity", blank=None)
    if "Lineitem price" in table.column_names:
        price = _numbers(p, _text(table, "Lineitem price"), lines, "Lineitem price", blank=0)
        disc = _numbers(p, _text(table, "Lineitem discount"), lines, "Lineitem discount", blank=0)
        weight = np.clip(price * qty - disc, 0.0, None)
    else:
        weight = np.clip(qty, 0.0, None)
    n_orders = len(first_idx)
    wsum = np.bincount(group, weights=weight, minlength=n_orders)[group]
    count = np.bincount(group, minlength=n_orders).astype(float)[group]
    positive = wsum > 0
    share = np.where(positive, weight / np.where(positive, wsum, 1.0), 1.0 / count)
    net = (total - refunded)[group]

    product = _text(table, "Lineitem name")
    sku = _text(table, "Lineitem sku")
    frame: dict[str, object] = {
        "source": OrderSource.SHOPIFY.value,
        "line": lines,
        "order_id": name,
        "customer_id": _blank_null(pc.take(pc.utf8_lower(order_level("Email")), take_group)),
        "order_date": pa.array(created[group]),
        "currency": pc.take(pc.utf8_upper(order_level("Currency")), take_group),
        "amount": net * share,
        "quantity": qty,
        "sku": pc.if_else(pc.equal(sku, ""), product, sku),
        "product": product,
        "country": _blank_null(pc.take(country, take_group)),
        "channel": "shopify",
        "business": False,
        "status": pc.take(pc.utf8_lower(order_level("Financial Status")), take_group),
    }
    return _finish(frame, n)


# --------------------------------------------------------------------------------------------
# Amazon settlement flat file (V2)


_SETTLEMENT_AMOUNTS = [
    "shipment-fee-amount",
    "order-fee-amount",
    "price-amount",
    "item-related-fee-amount",
    "misc-fee-amount",
    "other-fee-amount",
    "promotion-amount",
    "direct-payment-amount",
    "other-amount",
]
_SETTLEMENT_TEXT = [
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "shipment-fee-type",
    "order-fee-type",
    "fulfillment-id",
    "order-item-code",
    "merchant-order-item-id",
    "sku",
    "price-type",
    "item-related-fee-type",
    "promotion-type",
    "other-fee-reason-description",
    "direct-payment-type",
]
SETTLEMENT_REQUIRED = [
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "posted-date",
]

#: Marketplace names in settlement files -> ISO country of the marketplace.
AMAZON_MARKETPLACE_COUNTRY = {
    "amazon.com": "US",
    "amazon.ca": "CA",
    "amazon.com.mx": "MX",
    "amazon.com.br": "BR",
    "amazon.co.uk": "GB",
    "amazon.de": "DE",
    "amazon.fr": "FR",
    "amazon.it": "IT",
    "amazon.es": "ES",
    "amazon.nl": "NL",
    "amazon.se": "SE",
    "amazon.pl": "PL",
    "amazon.com.be": "BE",
    "amazon.co.jp": "JP",
    "amazon.com.au": "AU",
    "amazon.sg": "SG",
    "amazon.ae": "AE",
    "amazon.sa": "SA",
    "amazon.com.tr": "TR",
    "amazon.in": "IN",
}


@dataclass(frozen=True)
class AmazonSettlement:
    """One Amazon settlement flat file.

    ``transactions`` has one row per transaction row of the file (the header total row
    excluded): ``line`` [int], one snake_case text column per text field of the file
    (``transaction_type``, ``order_id``, ``sku``, ``price_type``, ...), ``posted_date``
    [datetime64, NaT where blank], ``quantity`` [units, 0 where blank], one float column per
    amount field (``price_amount``, ``item_related_fee_amount``, ``other_amount``, ... 0 where
    blank) [currency], and ``amount``, the row's total over all amount fields [currency].
    """

    settlement_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    deposit_date: pd.Timestamp
    total_amount: float
    currency: str
    transactions: pd.DataFrame


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def read_amazon_settlement(
    path: PathLike, *, encoding: str = "utf-8", tolerance: float = 0.005
) -> AmazonSettlement:
    """Read an Amazon ``_GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_`` (tab-delimited).

    The first data row carries the settlement header (id, period, deposit date, total amount,
    currency) and nothing else; the rows after it are transactions with most cells blank.
    Cells are trimmed (Amazon pads some amounts with trailing spaces); blank amounts are 0.
    Amounts may use a decimal comma (European marketplaces). Dates are ISO 8601 or
    ``DD.MM.YYYY HH:MM:SS UTC``.

    The transactions must add up to the header's ``total-amount`` within ``tolerance``
    [currency]; a file that does not is truncated or misread and is refused.

    Raises
    ------
    InputError
        missing columns, an unreadable number or date (file, line, column named), no header
        row, or transactions that do not add up to the total.
    """
    wanted = {*SETTLEMENT_REQUIRED, *_SETTLEMENT_TEXT, *_SETTLEMENT_AMOUNTS, "quantity-purchased"}
    table, p = _read_table(path, delimiter="\t", encoding=encoding, quoted=False, wanted=wanted)
    _require(p, table.column_names, SETTLEMENT_REQUIRED)
    n = table.num_rows
    if n == 0:
        raise InputError(f"{p}: 没有结算汇总行", f"{p}: the settlement header row is missing")
    lines = np.arange(2, n + 2, dtype=np.int64)
    head = table.slice(0, 1)
    head_line = lines[:1]
    total_text = _text(head, "total-amount")
    if total_text[0].as_py() == "":
        raise InputError(
            f"{p}: 第 2 行应为结算汇总行, 但 “total-amount” 为空",
            f"{p}: line 2 should be the settlement header row but 'total-amount' is blank",
        )
    total = float(
        _numbers(p, total_text, head_line, "total-amount", blank=None, comma_decimal=True)[0]
    )
    stamps = {
        c: pd.Timestamp(_dates(p, _text(head, c), head_line, c)[0])
        for c in ("settlement-start-date", "settlement-end-date", "deposit-date")
    }
    body = table.slice(1)
    blines = lines[1:]
    data: dict[str, object] = {"line": blines}
    for c in _SETTLEMENT_TEXT:
        data[_snake(c)] = _np_str(_text(body, c))
    posted = _text(body, "posted-date")
    posted_blank = np.asarray(pc.equal(posted, "").to_numpy(zero_copy_only=False), dtype=bool)
    if posted_blank.all():
        data["posted_date"] = np.full(len(blines), np.datetime64("NaT"), dtype="datetime64[s]")
    else:
        keep = ~posted_blank
        parsed = np.full(len(blines), np.datetime64("NaT"), dtype="datetime64[s]")
        parsed[keep] = _dates(p, posted.filter(pa.array(keep)), blines[keep], "posted-date")
        data["posted_date"] = parsed
    data["quantity"] = _numbers(
        p, _text(body, "quantity-purchased"), blines, "quantity-purchased", blank=0
    )
    amount = np.zeros(len(blines))
    for c in _SETTLEMENT_AMOUNTS:
        vals = _numbers(p, _text(body, c), blines, c, blank=0, comma_decimal=True)
        data[_snake(c)] = vals
        amount += vals
    data["amount"] = amount
    transactions = pd.DataFrame(data)
    for c in _SETTLEMENT_TEXT:
        transactions[_snake(c)] = transactions[_snake(c)].astype(str)
    transactions["posted_date"] = transactions["posted_date"].astype("datetime64[ns]")
    if abs(float(amount.sum()) - total) > tolerance:
        raise InputError(
            f"{p}: 各交易行合计 {amount.sum():.2f} 与第 2 行的 total-amount {total:.2f} 不符",
            f"{p}: the transactions add up to {amount.sum():.2f}, "
            f"not the total-amount {total:.2f} on line 2",
        )
    return AmazonSettlement(
        settlement_id=str(_text(head, "settlement-id")[0].as_py()),
        start=stamps["settlement-start-date"],
        end=stamps["settlement-end-date"],
        deposit_date=stamps["deposit-date"],
        total_amount=total,
        currency=str(_text(head, "currency")[0].as_py()).upper(),
        transactions=transactions,
    )


def settlement_order_lines(settlement: AmazonSettlement) -> pd.DataFrame:
    """The sales in a settlement as order lines (contract above).

    One line per (order id, order item code): ``amount`` is the sum of the ``price-amount``
    cells of the item's ``Order`` and ``Refund`` rows (principal, shipping, tax, gift wrap;
    refunds negative) [settlement currency] - what the buyer paid net of refunds, before
    Amazon's fees. ``quantity`` is the ``quantity-purchased`` of the item's ``Order``
    ``Principal`` row. ``order_date`` is the earliest posted date (a settlement has no purchase
    date); ``customer_id`` is NA (a settlement names no buyer); ``country`` comes from the
    marketplace name. Fees, transfers and subscription rows are not sales and are left out.
    """
    t = settlement.transactions
    kind = t["transaction_type"].str.lower()
    sales = t[kind.isin(["order", "refund"]) & (t["order_id"] != "")]
    cols = ORDER_LINE_COLUMNS
    if sales.empty:
        return _finish({c: pd.Series([], dtype=object) for c in cols}, 0)
    principal_qty = sales["quantity"].where(
        (sales["transaction_type"].str.lower() == "order")
        & (sales["price_type"].str.lower() == "principal"),
        0.0,
    )
    work = sales.assign(principal_qty=principal_qty)
    g = work.groupby(["order_id", "order_item_code"], sort=False)
    agg = g.agg(
        line=("line", "min"),
        order_date=("posted_date", "min"),
        amount=("price_amount", "sum"),
        quantity=("principal_qty", "max"),
        sku=("sku", "first"),
        channel=("marketplace_name", "first"),
    ).reset_index()
    n = len(agg)
    country = agg["channel"].str.lower().map(AMAZON_MARKETPLACE_COUNTRY)
    frame = {
        "source": [OrderSource.AMAZON_SETTLEMENT.value] * n,
        "line": agg["line"],
        "order_id": agg["order_id"],
        "customer_id": [None] * n,
        "order_date": agg["order_date"],
        "currency": [settlement.currency] * n,
        "amount": agg["amount"],
        "quantity": agg["quantity"],
        "sku": agg["sku"],
        "product": [""] * n,
        "country": country.astype(object).where(country.notna(), None),
        "channel": agg["channel"],
        "business": [False] * n,
        "status": [""] * n,
    }
    return _finish(frame, n)


# --------------------------------------------------------------------------------------------
# Amazon MWS ListOrders XML


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(elem: ET.Element, *names: str) -> ET.Element | None:
    cur: ET.Element | None = elem
    for name in names:
        if cur is None:
            return None
        cur = next((c for c in cur if _local(c.tag) == name), None)
    return cur


def _child_text(elem: ET.Element, *names: str) -> str:
    found = _child(elem, *names)
    return (found.text or "").strip() if found is not None else ""


def read_amazon_orders_xml(path: PathLike) -> pd.DataFrame:
    """Read an Amazon MWS ``ListOrders`` response (XML) into the order-line contract.

    One line per order (``ListOrders`` has no item detail): ``amount`` is ``OrderTotal``
    [its ``CurrencyCode``], 0 for orders without a total (pending or cancelled orders);
    ``quantity`` = items shipped + unshipped; ``customer_id`` = ``BuyerEmail`` (Amazon's
    anonymised, per-buyer address); ``business`` = ``IsBusinessOrder``; ``channel`` =
    ``SalesChannel`` (else the marketplace id). URL-encoded dates (``%3A``), which MWS
    sometimes returns, are decoded. When an order id occurs more than once (overlapping
    pages), the last occurrence wins. ``line`` is the order's position in the file.

    These files are small (one API page, at most 100 orders), so the standard library XML
    parser is used.
    """
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except OSError as exc:
        raise InputError(
            f"无法打开订单文件 {p}: {exc}", f"cannot open order file {p}: {exc}"
        ) from exc
    except ET.ParseError as exc:
        raise InputError(f"{p}: 不是有效的 XML ({exc})", f"{p}: not valid XML ({exc})") from exc
    orders = [e for e in root.iter() if _local(e.tag) == "Order"]
    rows: dict[str, list[object]] = {c: [] for c in ORDER_LINE_COLUMNS}
    for pos, order in enumerate(orders, start=1):
        oid = _child_text(order, "AmazonOrderId")
        if not oid:
            raise InputError(
                f"{p}: 第 {pos} 个订单缺少 AmazonOrderId", f"{p}: order {pos} has no AmazonOrderId"
            )
        date_text = unquote(_child_text(order, "PurchaseDate"))
        amount_text = _child_text(order, "OrderTotal", "Amount")
        currency = _child_text(order, "OrderTotal", "CurrencyCode").upper()
        shipped = _child_text(order, "NumberOfItemsShipped") or "0"
        unshipped = _child_text(order, "NumberOfItemsUnshipped") or "0"
        try:
            amount = float(amount_text) if amount_text else 0.0
        except ValueError:
            raise InputError(
                f"{p}: 订单 {oid} 的 OrderTotal/Amount 不是数字: “{amount_text}”",
                f"{p}: order {oid}: OrderTotal/Amount is not a number: '{amount_text}'",
            ) from None
        try:
            quantity = float(shipped) + float(unshipped)
        except ValueError:
            raise InputError(
                f"{p}: 订单 {oid} 的商品件数不是数字",
                f"{p}: order {oid}: NumberOfItemsShipped/Unshipped is not a number",
            ) from None
        rows["source"].append(OrderSource.AMAZON_ORDERS_XML.value)
        rows["line"].append(pos)
        rows["order_id"].append(oid)
        rows["customer_id"].append(_child_text(order, "BuyerEmail").lower() or None)
        rows["order_date"].append(date_text)
        rows["currency"].append(currency)
        rows["amount"].append(amount)
        rows["quantity"].append(quantity)
        rows["sku"].append("")
        rows["product"].append("")
        rows["country"].append(_child_text(order, "ShippingAddress", "CountryCode").upper() or None)
        rows["channel"].append(
            _child_text(order, "SalesChannel") or _child_text(order, "MarketplaceId")
        )
        rows["business"].append(_child_text(order, "IsBusinessOrder").lower() == "true")
        rows["status"].append(_child_text(order, "OrderStatus").lower())
    n = len(rows["line"])
    lines = np.asarray(rows["line"], dtype=np.int64)
    dates = _dates(p, pa.array(rows["order_date"], type=pa.string()), lines, "PurchaseDate")
    missing_cur = np.array([c == "" for c in rows["currency"]], dtype=bool) & (
        np.asarray(rows["amount"], dtype=float) != 0
    )
    _raise_bad(
        p,
        missing_cur,
        lines,
        "OrderTotal/CurrencyCode",
        np.asarray(rows["order_id"]),
        "缺少币种",
        "is missing for order",
    )
    rows["order_date"] = list(dates)
    out = _finish(rows, n)
    out = out.drop_duplicates("order_id", keep="last").reset_index(drop=True)
    return out


# --------------------------------------------------------------------------------------------
# Amazon "All Orders" flat-file report

ORDERS_REPORT_REQUIRED = ["amazon-order-id", "purchase-date", "currency", "item-price", "quantity"]
_ORDERS_REPORT_ADD = ["item-price", "item-tax", "shipping-price", "shipping-tax", "gift-wrap-price",
                      "gift-wrap-tax"]  # fmt: skip
_ORDERS_REPORT_LESS = ["item-promotion-discount", "ship-promotion-discount"]
_ORDERS_REPORT_TEXT = ["sku", "product-name", "ship-country", "sales-channel", "order-status",
                       "item-status", "is-business-order"]  # fmt: skip


def read_amazon_orders_report(path: PathLike, *, encoding: str = "utf-8") -> pd.DataFrame:
    """Read Amazon's "All Orders" flat-file report (``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE``
    or ``..._BY_LAST_UPDATE``, tab-delimited, one row per order item) into the contract.

    ``amount`` = item price + item tax + shipping price + shipping tax + gift wrap price +
    gift wrap tax - the promotion discounts (item and shipping; taken as their absolute value,
    since reports write them with either sign) [``currency``]. ``item-price`` in this report is
    the line's total, not a unit price. Blank amounts are 0 (cancelled items carry none).
    ``status`` is ``item-status`` when given, else ``order-status`` (``cancelled`` lines are
    left out of the customer map by default). The report names no buyer: ``customer_id`` is NA,
    so it feeds the product map (SKU x month), not the customer tiers. ``country`` =
    ``ship-country``, ``channel`` = ``sales-channel``, ``business`` = ``is-business-order``.

    Raises
    ------
    InputError
        missing columns, or a value that is not a number or a date (file, line, column named).
    """
    wanted = {*ORDERS_REPORT_REQUIRED, *_ORDERS_REPORT_ADD, *_ORDERS_REPORT_LESS,
              *_ORDERS_REPORT_TEXT}  # fmt: skip
    table, p = _read_table(path, delimiter="\t", encoding=encoding, quoted=False, wanted=wanted)
    _require(p, table.column_names, ORDERS_REPORT_REQUIRED)
    n = table.num_rows
    lines = np.arange(2, n + 2, dtype=np.int64)
    oid = _text(table, "amazon-order-id")
    _raise_bad(
        p,
        np.asarray(pc.equal(oid, "").to_numpy(zero_copy_only=False), dtype=bool),
        lines,
        "amazon-order-id",
        oid,
        "为空",
        "is blank",
    )
    amount = np.zeros(n)
    for col in _ORDERS_REPORT_ADD:
        amount += _numbers(p, _text(table, col), lines, col, blank=0, comma_decimal=True)
    for col in _ORDERS_REPORT_LESS:
        amount -= np.abs(_numbers(p, _text(table, col), lines, col, blank=0, comma_decimal=True))
    item_status = pc.utf8_lower(_text(table, "item-status"))
    status = pc.if_else(
        pc.equal(item_status, ""), pc.utf8_lower(_text(table, "order-status")), item_status
    )
    business = pc.is_in(
        pc.utf8_lower(_text(table, "is-business-order")), pa.array(["true", "1", "yes"])
    )
    frame: dict[str, object] = {
        "source": OrderSource.AMAZON_ORDERS_REPORT.value,
        "line": lines,
        "order_id": oid,
        "customer_id": pa.nulls(n, pa.string()),
        "order_date": pa.array(_dates(p, _text(table, "purchase-date"), lines, "purchase-date")),
        "currency": pc.utf8_upper(_text(table, "currency")),
        "amount": amount,
        "quantity": _numbers(p, _text(table, "quantity"), lines, "quantity", blank=0),
        "sku": _text(table, "sku"),
        "product": _text(table, "product-name"),
        "country": _blank_null(pc.utf8_upper(_text(table, "ship-country"))),
        "channel": _text(table, "sales-channel"),
        "business": business,
        "status": status,
    }
    return _finish(frame, n)


# --------------------------------------------------------------------------------------------
# Generic CSV with a column mapping

GENERIC_REQUIRED = ("order_id", "order_date", "amount")
GENERIC_KEYS = tuple(c for c in ORDER_LINE_COLUMNS if c not in ("source", "line"))
"""The contract columns a mapping may name (``source`` and ``line`` come from the reader)."""
_TRUE = {"1", "true", "yes", "y", "b2b", "是", "business"}


def read_orders_csv(
    path: PathLike,
    mapping: Mapping[str, str],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    date_format: str | None = None,
    currency: str | None = None,
    channel: str = "generic",
    comma_decimal: bool = False,
) -> pd.DataFrame:
    """Read any order CSV whose columns are named in ``mapping`` (contract key -> file header).

    Required keys: ``order_id``, ``order_date``, ``amount``, and ``currency`` unless the
    ``currency`` argument gives one code for the whole file. Optional keys: ``customer_id``,
    ``quantity`` (blank or absent = 1), ``sku``, ``product``, ``country``, ``channel`` (absent =
    the ``channel`` argument), ``business`` (``1/true/yes/y/b2b/是``), ``status``. ``amount`` is
    the line's net amount in its currency, taken as is. One row per order line; rows of one
    order need not be together.

    ``date_format`` is a ``strptime`` layout; without it ISO dates (with or without time, ``T``
    or space, an offset which is dropped), ``YYYY/MM/DD`` and ``DD.MM.YYYY`` are read.

    Raises
    ------
    InputError
        an unknown mapping key, a mapped column missing from the file, or a value that is not
        a number or a date (file, line, column named).
    """
    unknown = sorted(set(mapping) - set(GENERIC_KEYS))
    if unknown:
        raise InputError(
            f"列映射中有未知的键: {', '.join(unknown)}",
            f"unknown keys in the column mapping: {', '.join(unknown)}",
        )
    need = list(GENERIC_REQUIRED) + ([] if currency else ["currency"])
    absent = [k for k in need if k not in mapping]
    if absent:
        raise InputError(
            f"列映射缺少必需的键: {', '.join(absent)}",
            f"the column mapping lacks required keys: {', '.join(absent)}",
        )
    table, p = _read_table(
        path, delimiter=delimiter, encoding=encoding, wanted=set(mapping.values())
    )
    _require(p, table.column_names, [mapping[k] for k in mapping])
    n = table.num_rows
    lines = np.arange(2, n + 2, dtype=np.int64)

    def text(key: str) -> pa.Array:
        return _text(table, mapping[key]) if key in mapping else pa.array([""] * n, pa.string())

    oid = text("order_id")
    _raise_bad(
        p,
        np.asarray(pc.equal(oid, "").to_numpy(zero_copy_only=False), dtype=bool),
        lines,
        mapping["order_id"],
        oid,
        "为空",
        "is blank",
    )
    amount = _numbers(
        p, text("amount"), lines, mapping["amount"], blank=None, comma_decimal=comma_decimal
    )
    qty = (
        _numbers(
            p, text("quantity"), lines, mapping["quantity"], blank=1.0, comma_decimal=comma_decimal
        )
        if "quantity" in mapping
        else np.ones(n)
    )
    dates = _dates(p, text("order_date"), lines, mapping["order_date"], date_format=date_format)
    if "currency" in mapping:
        cur = _np_str(pc.utf8_upper(text("currency")))
        if currency:
            cur = np.where(cur != "", cur, currency.upper())
        _raise_bad(p, cur == "", lines, mapping["currency"], cur, "为空", "is blank")
    else:
        cur = np.full(n, (currency or "").upper(), dtype=object)
    cust = _np_str(text("customer_id"))
    product = _np_str(text("product"))
    sku = _np_str(text("sku"))
    ctry = _np_str(pc.utf8_upper(text("country")))
    chan = _np_str(text("channel"))
    biz = np.isin(_np_str(pc.utf8_lower(text("business"))), list(_TRUE))
    frame = {
        "source": np.full(n, OrderSource.GENERIC.value, dtype=object),
        "line": lines,
        "order_id": _np_str(oid),
        "customer_id": _or_none(cust),
        "order_date": dates,
        "currency": cur,
        "amount": amount,
        "quantity": qty,
        "sku": np.where(sku != "", sku, product),
        "product": product,
        "country": _or_none(ctry),
        "channel": np.where(chan != "", chan, channel),
        "business": biz,
        "status": _np_str(pc.utf8_lower(text("status"))),
    }
    return _finish(frame, n)
