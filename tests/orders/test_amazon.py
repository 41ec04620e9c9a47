"""Amazon settlement flat file, MWS orders XML and "All Orders" report: real fixtures
(tests/data/orders, see SOURCE.txt) and inline files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from xlplan.core.errors import InputError
from xlplan.orders import (
    ORDER_LINE_COLUMNS,
    read_amazon_orders_report,
    read_amazon_orders_xml,
    read_amazon_settlement,
    settlement_order_lines,
)

DATA = Path(__file__).parents[1] / "data" / "orders"
SETTLEMENT = DATA / "amazon_mws_settlement_flatfile_CA_subscription.tsv"
MWS_ORDERS = DATA / "amazon_mws_orders_list_orders.xml"


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


# --- Amazon settlement ------------------------------------------------------------------------


def test_settlement_fixture_header_and_rows() -> None:
    s = read_amazon_settlement(SETTLEMENT)
    assert s.settlement_id == "12746358451"
    assert s.currency == "CAD"
    assert s.total_amount == pytest.approx(-29.99)
    assert s.start == pd.Timestamp("2020-04-24 07:52:49")
    assert s.deposit_date == pd.Timestamp("2020-05-24 07:52:49")
    t = s.transactions
    assert t["line"].tolist() == [3, 4, 5]
    assert t["transaction_type"].tolist() == [
        "Payable to Amazon",
        "Subscription Fee",
        "Successful charge",
    ]
    # '29.99    ' carries trailing spaces in the file
    assert t["other_amount"].tolist() == pytest.approx([-29.99, -29.99, 29.99])
    assert t["amount"].sum() == pytest.approx(s.total_amount)
    # fees and transfers only: no sales
    assert settlement_order_lines(s).empty
    assert list(settlement_order_lines(s).columns) == ORDER_LINE_COLUMNS


def test_settlement_that_does_not_add_up_is_refused(tmp_path: Path) -> None:
    text = SETTLEMENT.read_text(encoding="utf-8").replace("29.99    ", "19.99")
    with pytest.raises(InputError, match="add up to -39.99.*-29.99"):
        read_amazon_settlement(_write(tmp_path, "s.tsv", text))


SETTLEMENT_HEADER = (
    "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\t"
    "currency\ttransaction-type\torder-id\tmerchant-order-id\tadjustment-id\tshipment-id\t"
    "marketplace-name\tshipment-fee-type\tshipment-fee-amount\torder-fee-type\torder-fee-amount\t"
    "fulfillment-id\tposted-date\torder-item-code\tmerchant-order-item-id\t"
    "merchant-adjustment-item-id\tsku\tquantity-purchased\tprice-type\tprice-amount\t"
    "item-related-fee-type\titem-related-fee-amount\tmisc-fee-amount\tother-fee-amount\t"
    "other-fee-reason-description\tdirect-payment-type\tdirect-payment-amount\tother-amount\n"
)


def _settlement_row(**cells: str) -> str:
    names = SETTLEMENT_HEADER.strip("\n").split("\t")
    return "\t".join(cells.get(n.replace("-", "_"), "") for n in names) + "\n"


def test_settlement_sales_become_order_lines(tmp_path: Path) -> None:
    """A settlement in the real file's layout with two order items, fees and a refund.

    Hand-worked: item A sells 2 units for 40.00 + 5.00 shipping, commission -6.00;
    item B 1 unit for 15.00, commission -2.25, later refunded -15.00.
    Total = 40 + 5 - 6 + 15 - 2.25 - 15 = 36.75."""
    common = {"marketplace_name": "Amazon.com", "fulfillment_id": "AFN"}
    rows = [
        _settlement_row(
            settlement_id="1",
            settlement_start_date="2025-03-01T00:00:00+00:00",
            settlement_end_date="2025-03-15T00:00:00+00:00",
            deposit_date="2025-03-17T00:00:00+00:00",
            total_amount="36.75",
            currency="USD",
        ),
        _settlement_row(
            settlement_id="1", transaction_type="Order", order_id="111-1",
            posted_date="2025-03-02T10:00:00+00:00", order_item_code="A1", sku="SKU-A",
            quantity_purchased="2", price_type="Principal", price_amount="40.00 ", **common,
        ),
        _settlement_row(
            settlement_id="1", transaction_type="Order", order_id="111-1",
            posted_date="2025-03-02T10:00:00+00:00", order_item_code="A1", sku="SKU-A",
            quantity_purchased="2", price_type="Shipping", price_amount="5.00", **common,
        ),
        _settlement_row(
            settlement_id="1", transaction_type="Order", order_id="111-1",
            posted_date="2025-03-02T10:00:00+00:00", order_item_code="A1", sku="SKU-A",
            item_related_fee_type="Commission", item_related_fee_amount="-6.00", **common,
        ),
        _settlement_row(
            settlement_id="1", transaction_type="Order", order_id="111-2",
            posted_date="2025-03-03T10:00:00+00:00", order_item_code="B1", sku="SKU-B",
            quantity_purchased="1", price_type="Principal", price_amount="15.00",
            item_related_fee_type="Commission", item_related_fee_amount="-2.25", **common,
        ),
        _settlement_row(
            settlement_id="1", transaction_type="Refund", order_id="111-2",
            posted_date="2025-03-09T10:00:00+00:00", order_item_code="B1", sku="SKU-B",
            price_type="Principal", price_amount="-15.00", **common,
        ),
    ]  # fmt: skip
    s = read_amazon_settlement(_write(tmp_path, "s.tsv", SETTLEMENT_HEADER + "".join(rows)))
    lines = settlement_order_lines(s)
    assert lines["order_id"].tolist() == ["111-1", "111-2"]
    assert lines["amount"].tolist() == pytest.approx([45.0, 0.0])
    assert lines["quantity"].tolist() == [2.0, 1.0]
    assert lines["sku"].tolist() == ["SKU-A", "SKU-B"]
    assert lines["country"].tolist() == ["US", "US"]
    assert lines["customer_id"].isna().all()
    assert lines["order_date"].tolist() == [
        pd.Timestamp("2025-03-02 10:00"),
        pd.Timestamp("2025-03-03 10:00"),
    ]


def test_settlement_bad_amount_names_line(tmp_path: Path) -> None:
    rows = SETTLEMENT.read_text(encoding="utf-8").replace("-29.99\n", "n/a\n", 1)
    with pytest.raises(InputError, match=r"line 3.*'n/a'|column 'other-amount'"):
        read_amazon_settlement(_write(tmp_path, "s.tsv", rows))


# --- Amazon MWS orders XML --------------------------------------------------------------------


def test_mws_orders_xml_fixture() -> None:
    lines = read_amazon_orders_xml(MWS_ORDERS)
    assert list(lines.columns) == ORDER_LINE_COLUMNS
    # four <Order> elements, the last two share an id: the later one wins
    assert lines["order_id"].tolist() == [
        "902-3159896-1390916",
        "483-3488972-0896720",
        "058-1233752-8214740",
    ]
    assert lines["currency"].tolist() == ["USD", "BRL", "JPY"]
    assert lines["amount"].tolist() == [25.0, 100.0, 1507.0]
    assert lines["business"].tolist() == [True, False, False]
    assert lines["country"].tolist() == ["US", "BR", "IT"]  # the later duplicate ships to IT
    # '2017-02-05T00%3A06%3A07.000Z' is URL-encoded in the response
    assert lines["order_date"].iloc[2] == pd.Timestamp("2017-02-05 00:06:07")
    assert lines["customer_id"].iloc[0] == "5vlhexampleh9h5@marketplace.amazon.com"


def test_mws_orders_not_xml(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid XML"):
        read_amazon_orders_xml(_write(tmp_path, "x.xml", "<ListOrdersResponse>"))


_MWS_ORDER = (
    '<ListOrdersResponse xmlns="https://mws.amazonservices.com/Orders/2013-09-01">'
    "<ListOrdersResult><Orders><Order><AmazonOrderId>111-1</AmazonOrderId>"
    "<PurchaseDate>2025-01-01T00:00:00Z</PurchaseDate><BuyerEmail>{email}</BuyerEmail>"
    "</Order></Orders></ListOrdersResult></ListOrdersResponse>\n"
)
_LOL = "".join(f'  <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">\n' for i in range(1, 10))
HOSTILE_XML = {
    # entity expansion: &lol9; grows to 10^9 "lol"s (about 3 GB) from a file of under 1 kB
    "billion_laughs": '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n  <!ENTITY lol0 "lol">\n'
    + _LOL
    + "]>\n"
    + _MWS_ORDER.format(email="&lol9;"),
    # external entity (XXE): a resolving parser would put a local file into the buyer e-mail
    "xxe": '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + _MWS_ORDER.format(email="&xxe;"),
    # external parameter entity: the DTD itself would be fetched from elsewhere
    "xxe_parameter": '<?xml version="1.0"?>\n'
    '<!DOCTYPE r [<!ENTITY % ext SYSTEM "http://example.invalid/x.dtd"> %ext;]>\n'
    + _MWS_ORDER.format(email="a@b.c"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
def test_mws_orders_hostile_xml_is_refused(tmp_path: Path, kind: str) -> None:
    path = _write(tmp_path, f"{kind}.xml", HOSTILE_XML[kind])
    with pytest.raises(InputError) as info:
        read_amazon_orders_xml(path)
    assert info.value.en.startswith(f"{path}: refused for safety: the XML declares entities")
    assert info.value.zh.startswith(f"{path}: 出于安全原因拒绝读取")


def test_mws_orders_without_entities_still_read(tmp_path: Path) -> None:
    """The same document without the DOCTYPE is an ordinary one-order response."""
    path = _write(tmp_path, "ok.xml", _MWS_ORDER.format(email="A@B.C"))
    lines = read_amazon_orders_xml(path)
    assert lines["order_id"].tolist() == ["111-1"]
    assert lines["customer_id"].tolist() == ["a@b.c"]


# --- Amazon "All Orders" flat-file report -------------------------------------------------------

# The report's 32-column header as Amazon writes it (layout as checked by the
# CaponicaAmazonMwsComplete library, ReportFbaSalesAllByLastUpdateFlatFile::EXPECTED_HEADER).
ALL_ORDERS_HEADER = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\t"
    "fulfillment-channel\tsales-channel\torder-channel\turl\tship-service-level\tproduct-name\t"
    "sku\tasin\titem-status\tquantity\tcurrency\titem-price\titem-tax\tshipping-price\t"
    "shipping-tax\tgift-wrap-price\tgift-wrap-tax\titem-promotion-discount\t"
    "ship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\t"
    "promotion-ids\tis-business-order\tpurchase-order-number\tprice-designation\n"
)


def _all_orders_row(**cells: str) -> str:
    names = ALL_ORDERS_HEADER.strip("\n").split("\t")
    return "\t".join(cells.get(n.replace("-", "_"), "") for n in names) + "\n"


def test_amazon_all_orders_report(tmp_path: Path) -> None:
    """Hand-worked: item 2 x mug set 42.00 + tax 7.98 + shipping 5.99 + shipping tax 1.14 -
    promotion 5.00 = 52.11 EUR; a cancelled item with blank prices = 0."""
    rows = [
        _all_orders_row(
            amazon_order_id="302-1", purchase_date="2025-04-11T14:42:00+00:00",
            order_status="Shipped", sales_channel="Amazon.de", product_name="Stoneware Mug Set",
            sku="MUG-SET-4", item_status="Shipped", quantity="2", currency="EUR",
            item_price="42.00", item_tax="7.98", shipping_price="5.99", shipping_tax="1.14",
            item_promotion_discount="-5.00", ship_country="DE", is_business_order="false",
        ),
        _all_orders_row(
            amazon_order_id="302-2", purchase_date="2025-04-12T08:00:00+00:00",
            order_status="Shipped", sales_channel="Amazon.it", sku="X-1", item_status="Cancelled",
            quantity="1", currency="EUR", ship_country="IT", is_business_order="true",
        ),
    ]  # fmt: skip
    path = _write(tmp_path, "all_orders.txt", ALL_ORDERS_HEADER + "".join(rows))
    lines = read_amazon_orders_report(path)
    assert list(lines.columns) == ORDER_LINE_COLUMNS
    assert lines["amount"].tolist() == pytest.approx([52.11, 0.0])
    assert lines["status"].tolist() == ["shipped", "cancelled"]
    assert lines["business"].tolist() == [False, True]
    assert lines["country"].tolist() == ["DE", "IT"]
    assert lines["customer_id"].isna().all()
    assert lines["order_date"].iloc[0] == pd.Timestamp("2025-04-11 14:42")
    bad = ALL_ORDERS_HEADER + rows[0].replace("42.00", "42.0O")
    with pytest.raises(InputError, match="column 'item-price'.*line 2 '42.0O'"):
        read_amazon_orders_report(_write(tmp_path, "bad.txt", bad))
