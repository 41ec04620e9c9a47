"""Amazon's seller files, read into the order-line contract (:mod:`.contract`).

- the V2 settlement flat file (tab-delimited): :func:`read_amazon_settlement` keeps every
  transaction, :func:`settlement_order_lines` turns its sales into order lines;
- the MWS Orders API ``ListOrders`` response (XML): :func:`read_amazon_orders_xml`;
- the "All Orders" flat-file report (tab-delimited): :func:`read_amazon_orders_report`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import defusedxml
import defusedxml.ElementTree as DefusedET
import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from xlplan.core.errors import InputError
from xlplan.orders.columnar import (
    blank_to_null,
    object_array,
    parse_dates,
    parse_numbers,
    raise_bad_values,
    read_table,
    require_columns,
    text_column,
)
from xlplan.orders.contract import ORDER_LINE_COLUMNS, OrderSource, PathLike, order_lines

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
    table, p = read_table(path, delimiter="\t", encoding=encoding, quoted=False, wanted=wanted)
    require_columns(p, table.column_names, SETTLEMENT_REQUIRED)
    n = table.num_rows
    if n == 0:
        raise InputError(f"{p}: 没有结算汇总行", f"{p}: the settlement header row is missing")
    lines = np.arange(2, n + 2, dtype=np.int64)
    head = table.slice(0, 1)
    head_line = lines[:1]
    total_text = text_column(head, "total-amount")
    if total_text[0].as_py() == "":
        raise InputError(
            f"{p}: 第 2 行应为结算汇总行, 但 “total-amount” 为空",
            f"{p}: line 2 should be the settlement header row but 'total-amount' is blank",
        )
    total = float(
        parse_numbers(p, total_text, head_line, "total-amount", blank=None, comma_decimal=True)[0]
    )
    stamps = {
        c: pd.Timestamp(parse_dates(p, text_column(head, c), head_line, c)[0])
        for c in ("settlement-start-date", "settlement-end-date", "deposit-date")
    }
    body = table.slice(1)
    blines = lines[1:]
    data: dict[str, object] = {"line": blines}
    for c in _SETTLEMENT_TEXT:
        data[_snake(c)] = object_array(text_column(body, c))
    posted = text_column(body, "posted-date")
    posted_blank = np.asarray(pc.equal(posted, "").to_numpy(zero_copy_only=False), dtype=bool)
    if posted_blank.all():
        data["posted_date"] = np.full(len(blines), np.datetime64("NaT"), dtype="datetime64[s]")
    else:
        keep = ~posted_blank
        parsed = np.full(len(blines), np.datetime64("NaT"), dtype="datetime64[s]")
        parsed[keep] = parse_dates(p, posted.filter(pa.array(keep)), blines[keep], "posted-date")
        data["posted_date"] = parsed
    data["quantity"] = parse_numbers(
        p, text_column(body, "quantity-purchased"), blines, "quantity-purchased", blank=0
    )
    amount = np.zeros(len(blines))
    for c in _SETTLEMENT_AMOUNTS:
        vals = parse_numbers(p, text_column(body, c), blines, c, blank=0, comma_decimal=True)
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
        settlement_id=str(text_column(head, "settlement-id")[0].as_py()),
        start=stamps["settlement-start-date"],
        end=stamps["settlement-end-date"],
        deposit_date=stamps["deposit-date"],
        total_amount=total,
        currency=str(text_column(head, "currency")[0].as_py()).upper(),
        transactions=transactions,
    )


def settlement_order_lines(settlement: AmazonSettlement) -> pd.DataFrame:
    """The sales in a settlement as order lines (the contract of :mod:`.contract`).

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
        return order_lines({c: pd.Series([], dtype=object) for c in cols}, 0)
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
    return order_lines(frame, n)


def read_amazon_settlement_lines(path: PathLike, *, encoding: str = "utf-8") -> pd.DataFrame:
    """The sales of an Amazon settlement flat file as order lines: :func:`read_amazon_settlement`
    then :func:`settlement_order_lines` (amounts in the settlement currency)."""
    return settlement_order_lines(read_amazon_settlement(path, encoding=encoding))


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

    These files are small (one API page, at most 100 orders), so the file is parsed whole,
    with ``defusedxml``: the file comes from outside, and a file that declares entities
    (entity expansion, "billion laughs") or refers to external ones (XXE) is refused.

    Raises
    ------
    InputError
        an unreadable or invalid file, a refused entity declaration or external reference,
        an order without ``AmazonOrderId``, or a value that is not a number or a date.
    """
    p = Path(path)
    try:
        root = DefusedET.fromstring(p.read_bytes())
    except OSError as exc:
        raise InputError(
            f"无法打开订单文件 {p}: {exc}", f"cannot open order file {p}: {exc}"
        ) from exc
    except ET.ParseError as exc:
        raise InputError(f"{p}: 不是有效的 XML ({exc})", f"{p}: not valid XML ({exc})") from exc
    except defusedxml.DefusedXmlException as exc:
        raise InputError(
            f"{p}: 出于安全原因拒绝读取: 该 XML 声明了实体或引用了外部资源 ({exc})",
            f"{p}: refused for safety: the XML declares entities or refers to external "
            f"resources ({exc})",
        ) from exc
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
    dates = parse_dates(p, pa.array(rows["order_date"], type=pa.string()), lines, "PurchaseDate")
    missing_cur = np.array([c == "" for c in rows["currency"]], dtype=bool) & (
        np.asarray(rows["amount"], dtype=float) != 0
    )
    raise_bad_values(
        p,
        missing_cur,
        lines,
        "OrderTotal/CurrencyCode",
        np.asarray(rows["order_id"]),
        "缺少币种",
        "is missing for order",
    )
    rows["order_date"] = list(dates)
    out = order_lines(rows, n)
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
    table, p = read_table(path, delimiter="\t", encoding=encoding, quoted=False, wanted=wanted)
    require_columns(p, table.column_names, ORDERS_REPORT_REQUIRED)
    n = table.num_rows
    lines = np.arange(2, n + 2, dtype=np.int64)
    oid = text_column(table, "amazon-order-id")
    raise_bad_values(
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
        amount += parse_numbers(p, text_column(table, col), lines, col, blank=0, comma_decimal=True)
    for col in _ORDERS_REPORT_LESS:
        amount -= np.abs(
            parse_numbers(p, text_column(table, col), lines, col, blank=0, comma_decimal=True)
        )
    item_status = pc.utf8_lower(text_column(table, "item-status"))
    status = pc.if_else(
        pc.equal(item_status, ""), pc.utf8_lower(text_column(table, "order-status")), item_status
    )
    business = pc.is_in(
        pc.utf8_lower(text_column(table, "is-business-order")), pa.array(["true", "1", "yes"])
    )
    frame: dict[str, object] = {
        "source": OrderSource.AMAZON_ORDERS_REPORT.value,
        "line": lines,
        "order_id": oid,
        "customer_id": pa.nulls(n, pa.string()),
        "order_date": pa.array(
            parse_dates(p, text_column(table, "purchase-date"), lines, "purchase-date")
        ),
        "currency": pc.utf8_upper(text_column(table, "currency")),
        "amount": amount,
        "quantity": parse_numbers(p, text_column(table, "quantity"), lines, "quantity", blank=0),
        "sku": text_column(table, "sku"),
        "product": text_column(table, "product-name"),
        "country": blank_to_null(pc.utf8_upper(text_column(table, "ship-country"))),
        "channel": text_column(table, "sales-channel"),
        "business": business,
        "status": status,
    }
    return order_lines(frame, n)
