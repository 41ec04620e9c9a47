"""Order files as sellers download them, read into one normalised order-line table.

This is the file edge of the customer and product maps, kept apart from the models that use its
table (as pvlib keeps its ``iotools`` apart): every public function that touches a file starts
with ``read_``, and every reader returns the order-line contract documented in
:mod:`xlplan.orders.contract`.

Modules: ``contract`` (the table's columns and their dtypes), ``columnar`` (the pyarrow reading
and parsing the CSV readers share), one module per source: ``shopify``, ``amazon`` (settlement
flat file, MWS orders XML, "All Orders" report), ``generic`` (any CSV through a column mapping),
and ``formats``: :data:`FORMATS` names each format a user can choose and :func:`read_orders`
reads a file by that name.
"""

from xlplan.orders.amazon import (
    AMAZON_MARKETPLACE_COUNTRY,
    ORDERS_REPORT_REQUIRED,
    SETTLEMENT_REQUIRED,
    AmazonSettlement,
    read_amazon_orders_report,
    read_amazon_orders_xml,
    read_amazon_settlement,
    read_amazon_settlement_lines,
    settlement_order_lines,
)
from xlplan.orders.columnar import MAX_QUOTED_LINES
from xlplan.orders.contract import ORDER_LINE_COLUMNS, OrderSource, PathLike
from xlplan.orders.formats import FORMATS, OrderFormat, read_orders
from xlplan.orders.generic import (
    GENERIC_KEYS,
    GENERIC_REQUIRED,
    MappingError,
    parse_mapping,
    read_orders_csv,
)
from xlplan.orders.shopify import SHOPIFY_COLUMNS, SHOPIFY_REQUIRED, read_shopify_orders

__all__ = [
    "AMAZON_MARKETPLACE_COUNTRY",
    "FORMATS",
    "GENERIC_KEYS",
    "GENERIC_REQUIRED",
    "MAX_QUOTED_LINES",
    "ORDERS_REPORT_REQUIRED",
    "ORDER_LINE_COLUMNS",
    "SETTLEMENT_REQUIRED",
    "SHOPIFY_COLUMNS",
    "SHOPIFY_REQUIRED",
    "AmazonSettlement",
    "MappingError",
    "OrderFormat",
    "OrderSource",
    "PathLike",
    "parse_mapping",
    "read_amazon_orders_report",
    "read_amazon_orders_xml",
    "read_amazon_settlement",
    "read_amazon_settlement_lines",
    "read_orders",
    "read_orders_csv",
    "read_shopify_orders",
    "settlement_order_lines",
]
