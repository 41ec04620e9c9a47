"""The order-file formats by name, and the one function that routes a name to its reader.

A format name is what a user writes in the Customer Map's import table (column ``format``) or
after ``xlplan run --orders FILE:``; :data:`FORMATS` is the one list of them, so the sheet's
validation list, the CLI and the import step cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from xlplan.core.errors import InputError
from xlplan.orders.amazon import (
    read_amazon_orders_report,
    read_amazon_orders_xml,
    read_amazon_settlement_lines,
)
from xlplan.orders.contract import PathLike
from xlplan.orders.generic import parse_mapping, read_orders_csv
from xlplan.orders.shopify import read_shopify_orders


@dataclass(frozen=True)
class OrderFormat:
    """One order-file format.

    ``reader`` returns the order-line contract; it is called as ``reader(path)``, or, when
    ``needs_mapping``, as ``reader(path, mapping, currency=code_or_None)`` with the parsed
    column mapping. ``zh`` and ``en`` name the format for users.
    """

    reader: Callable[..., pd.DataFrame]
    zh: str
    en: str
    needs_mapping: bool = False


FORMATS: dict[str, OrderFormat] = {
    "shopify": OrderFormat(read_shopify_orders, "Shopify 订单导出", "Shopify orders export"),
    "amazon_settlement": OrderFormat(
        read_amazon_settlement_lines,
        "亚马逊结算报告（制表符分隔）",
        "Amazon settlement report (tab-delimited)",
    ),
    "amazon_orders": OrderFormat(
        read_amazon_orders_report, "亚马逊订单报告", "Amazon orders report"
    ),
    "amazon_orders_xml": OrderFormat(
        read_amazon_orders_xml,
        "亚马逊 MWS 订单 XML（ListOrders）",
        "Amazon MWS orders XML (ListOrders)",
    ),
    "generic": OrderFormat(
        read_orders_csv,
        "按列映射读取的任意 CSV",
        "any CSV read through a column mapping",
        needs_mapping=True,
    ),
}


def read_orders(path: PathLike, fmt: str, *, mapping: str = "", currency: str = "") -> pd.DataFrame:
    """Order lines (the contract of :mod:`xlplan.orders.contract`) from one file in format
    ``fmt`` (a key of :data:`FORMATS`).

    ``mapping`` is the column mapping as typed (``key=Header; ...``, see
    :func:`~xlplan.orders.generic.parse_mapping`) and ``currency`` the ISO code of a file without
    a currency column; both are used only by formats that need a mapping. Amounts are in each
    line's ``currency``, as in the file.

    Raises
    ------
    MappingError
        the mapping cannot be used (an :class:`InputError` of its own type).
    InputError
        an unknown format, or what the reader cannot interpret (file, line and column named).
    """
    spec = FORMATS.get(fmt)
    if spec is None:
        raise InputError(
            f"未知的格式 '{fmt}'（可用: {', '.join(FORMATS)}）",
            f"unknown format '{fmt}' (use {', '.join(FORMATS)})",
        )
    if spec.needs_mapping:
        return spec.reader(path, parse_mapping(mapping), currency=currency or None)
    return spec.reader(path)
