"""Any order CSV whose columns are named in a column mapping, read into the order-line contract
(:mod:`.contract`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from xlplan.core.errors import InputError
from xlplan.orders.columnar import (
    blank_to_none,
    object_array,
    parse_dates,
    parse_numbers,
    raise_bad_values,
    read_table,
    require_columns,
    text_column,
)
from xlplan.orders.contract import ORDER_LINE_COLUMNS, OrderSource, PathLike, order_lines

GENERIC_REQUIRED = ("order_id", "order_date", "amount")
GENERIC_KEYS = tuple(c for c in ORDER_LINE_COLUMNS if c not in ("source", "line"))
"""The contract columns a mapping may name (``source`` and ``line`` come from the reader)."""
_TRUE = {"1", "true", "yes", "y", "b2b", "是", "business"}


class MappingError(InputError):
    """The column mapping cannot be used: not ``key=Header`` pairs, an unknown key, or a
    required key missing.

    A type of its own so that callers can point the problem at the mapping the user typed
    rather than at the file, without reading the message.
    """


def parse_mapping(text: str) -> dict[str, str]:
    """``order_id=Order; order_date=Date`` -> ``{"order_id": "Order", ...}``.

    Pairs are separated by ``;`` or new lines; a header may contain commas and spaces.

    Raises
    ------
    MappingError
        a part that is not ``key=Header``.
    """
    out: dict[str, str] = {}
    for part in text.replace("\n", ";").split(";"):
        if not part.strip():
            continue
        key, sep, header = part.partition("=")
        if not sep or not key.strip() or not header.strip():
            raise MappingError(
                f"列映射应写成 键=列名; 键=列名，无法识别: '{part.strip()}'",
                f"write the mapping as key=Header; key=Header, not: '{part.strip()}'",
            )
        out[key.strip()] = header.strip()
    return out


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
    MappingError
        an unknown mapping key, or a required key missing.
    InputError
        a mapped column missing from the file, or a value that is not a number or a date
        (file, line, column named).
    """
    unknown = sorted(set(mapping) - set(GENERIC_KEYS))
    if unknown:
        raise MappingError(
            f"列映射中有未知的键: {', '.join(unknown)}",
            f"unknown keys in the column mapping: {', '.join(unknown)}",
        )
    need = list(GENERIC_REQUIRED) + ([] if currency else ["currency"])
    absent = [k for k in need if k not in mapping]
    if absent:
        raise MappingError(
            f"列映射缺少必需的键: {', '.join(absent)}",
            f"the column mapping lacks required keys: {', '.join(absent)}",
        )
    table, p = read_table(
        path, delimiter=delimiter, encoding=encoding, wanted=set(mapping.values())
    )
    require_columns(p, table.column_names, [mapping[k] for k in mapping])
    n = table.num_rows
    lines = np.arange(2, n + 2, dtype=np.int64)

    def text(key: str) -> pa.Array:
        return (
            text_column(table, mapping[key]) if key in mapping else pa.array([""] * n, pa.string())
        )

    oid = text("order_id")
    raise_bad_values(
        p,
        np.asarray(pc.equal(oid, "").to_numpy(zero_copy_only=False), dtype=bool),
        lines,
        mapping["order_id"],
        oid,
        "为空",
        "is blank",
    )
    amount = parse_numbers(
        p, text("amount"), lines, mapping["amount"], blank=None, comma_decimal=comma_decimal
    )
    qty = (
        parse_numbers(
            p, text("quantity"), lines, mapping["quantity"], blank=1.0, comma_decimal=comma_decimal
        )
        if "quantity" in mapping
        else np.ones(n)
    )
    dates = parse_dates(
        p, text("order_date"), lines, mapping["order_date"], date_format=date_format
    )
    if "currency" in mapping:
        cur = object_array(pc.utf8_upper(text("currency")))
        if currency:
            cur = np.where(cur != "", cur, currency.upper())
        raise_bad_values(p, cur == "", lines, mapping["currency"], cur, "为空", "is blank")
    else:
        cur = np.full(n, (currency or "").upper(), dtype=object)
    cust = object_array(text("customer_id"))
    product = object_array(text("product"))
    sku = object_array(text("sku"))
    ctry = object_array(pc.utf8_upper(text("country")))
    chan = object_array(text("channel"))
    biz = np.isin(object_array(pc.utf8_lower(text("business"))), list(_TRUE))
    frame = {
        "source": np.full(n, OrderSource.GENERIC.value, dtype=object),
        "line": lines,
        "order_id": object_array(oid),
        "customer_id": blank_to_none(cust),
        "order_date": dates,
        "currency": cur,
        "amount": amount,
        "quantity": qty,
        "sku": np.where(sku != "", sku, product),
        "product": product,
        "country": blank_to_none(ctry),
        "channel": np.where(chan != "", chan, channel),
        "business": biz,
        "status": object_array(pc.utf8_lower(text("status"))),
    }
    return order_lines(frame, n)
