"""The order-line table every reader returns.

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

import os
from collections.abc import Mapping
from enum import Enum

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]

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

PathLike = str | os.PathLike[str]


class OrderSource(str, Enum):
    """Which reader produced an order line."""

    SHOPIFY = "shopify"
    AMAZON_SETTLEMENT = "amazon_settlement"
    AMAZON_ORDERS_XML = "amazon_orders_xml"
    AMAZON_ORDERS_REPORT = "amazon_orders_report"
    GENERIC = "generic"


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


def order_lines(frame: Mapping[str, object], n: int) -> pd.DataFrame:
    """The contract table of ``n`` rows from Arrow or numpy columns (or a scalar for a constant
    column), one per key of :data:`ORDER_LINE_COLUMNS`.

    Dtypes are stable whatever the reader built: text is pandas' default string dtype (``str``
    in pandas 3, ``object`` in pandas 2), nulls are NA, ``order_date`` is ``datetime64[ns]``,
    and the index is ``0..n-1``.
    """
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
