"""Shopify's *Orders → Export* CSV, read into the order-line contract (:mod:`.contract`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from xlplan.orders.columnar import (
    blank_to_null,
    parse_dates,
    parse_numbers,
    raise_bad_values,
    read_table,
    require_columns,
    text_column,
)
from xlplan.orders.contract import OrderSource, PathLike, order_lines

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
    table, p = read_table(path, encoding=encoding, wanted=SHOPIFY_COLUMNS)
    require_columns(p, table.column_names, SHOPIFY_REQUIRED)
    n = table.num_rows
    lines = np.arange(2, n + 2, dtype=np.int64)
    name = text_column(table, "Name")
    blank_name = np.asarray(pc.equal(name, "").to_numpy(zero_copy_only=False), dtype=bool)
    raise_bad_values(p, blank_name, lines, "Name", name, "为空", "is blank")

    first = np.ones(n, dtype=bool)
    if n > 1:
        changed = pc.not_equal(name.slice(1), name.slice(0, n - 1))
        first[1:] = np.asarray(changed.to_numpy(zero_copy_only=False), dtype=bool)
    group = np.cumsum(first) - 1
    first_idx = np.flatnonzero(first)
    take_first = pa.array(first_idx)
    take_group = pa.array(group)

    def order_level(col: str) -> pa.Array:
        return pc.take(text_column(table, col), take_first)

    first_lines = lines[first_idx]
    for col in ("Created at", "Currency", "Total"):
        vals = order_level(col)
        empty = np.asarray(pc.equal(vals, "").to_numpy(zero_copy_only=False), dtype=bool)
        raise_bad_values(
            p,
            empty,
            first_lines,
            col,
            pc.take(name, take_first),
            "在订单首行为空 (同一订单的各行须相邻)",
            "is blank on the first row of order (an order's rows must be together)",
        )

    total = parse_numbers(p, order_level("Total"), first_lines, "Total", blank=None)
    refunded = parse_numbers(
        p, order_level("Refunded Amount"), first_lines, "Refunded Amount", blank=0
    )
    created = parse_dates(p, order_level("Created at"), first_lines, "Created at")
    ship = pc.utf8_upper(order_level("Shipping Country"))
    bill = pc.utf8_upper(order_level("Billing Country"))
    country = pc.if_else(pc.equal(ship, ""), bill, ship)

    qty = parse_numbers(
        p, text_column(table, "Lineitem quantity"), lines, "Lineitem quantity", blank=None
    )
    if "Lineitem price" in table.column_names:
        price = parse_numbers(
            p, text_column(table, "Lineitem price"), lines, "Lineitem price", blank=0
        )
        disc = parse_numbers(
            p, text_column(table, "Lineitem discount"), lines, "Lineitem discount", blank=0
        )
        weight = np.clip(price * qty - disc, 0.0, None)
    else:
        weight = np.clip(qty, 0.0, None)
    n_orders = len(first_idx)
    wsum = np.bincount(group, weights=weight, minlength=n_orders)[group]
    count = np.bincount(group, minlength=n_orders).astype(float)[group]
    positive = wsum > 0
    share = np.where(positive, weight / np.where(positive, wsum, 1.0), 1.0 / count)
    net = (total - refunded)[group]

    product = text_column(table, "Lineitem name")
    sku = text_column(table, "Lineitem sku")
    frame: dict[str, object] = {
        "source": OrderSource.SHOPIFY.value,
        "line": lines,
        "order_id": name,
        "customer_id": blank_to_null(pc.take(pc.utf8_lower(order_level("Email")), take_group)),
        "order_date": pa.array(created[group]),
        "currency": pc.take(pc.utf8_upper(order_level("Currency")), take_group),
        "amount": net * share,
        "quantity": qty,
        "sku": pc.if_else(pc.equal(sku, ""), product, sku),
        "product": product,
        "country": blank_to_null(pc.take(country, take_group)),
        "channel": "shopify",
        "business": False,
        "status": pc.take(pc.utf8_lower(order_level("Financial Status")), take_group),
    }
    return order_lines(frame, n)
