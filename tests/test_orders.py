"""Order-file readers: real fixtures (tests/data/orders, see SOURCE.txt) and inline files."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.core.errors import InputError
from xlplan.orders import (
    ORDER_LINE_COLUMNS,
    read_amazon_orders_report,
    read_amazon_orders_xml,
    read_amazon_settlement,
    read_orders_csv,
    read_shopify_orders,
    settlement_order_lines,
)

DATA = Path(__file__).parent / "data" / "orders"
SHOPIFY = DATA / "shopify_orders_export_subset_sample.csv"
SETTLEMENT = DATA / "amazon_mws_settlement_flatfile_CA_subscription.tsv"
MWS_ORDERS = DATA / "amazon_mws_orders_list_orders.xml"


# --- Shopify export ---------------------------------------------------------------------------


def _shopify_orders_by_csv_module() -> dict[str, tuple[float, str]]:
    """Independent reading of the fixture: order -> (Total - Refunded Amount, Created at)."""
    out: dict[str, tuple[float, str]] = {}
    with SHOPIFY.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["Created at"]:
                out[row["Name"]] = (
                    float(row["Total"]) - float(row["Refunded Amount"] or 0),
                    row["Created at"],
                )
    return out


def test_shopify_fixture_contract_and_totals() -> None:
    lines = read_shopify_orders(SHOPIFY)
    assert list(lines.columns) == ORDER_LINE_COLUMNS
    assert len(lines) == 249  # 250 lines less the header
    assert lines["order_id"].nunique() == 127
    expected = _shopify_orders_by_csv_module()
    got = lines.groupby("order_id")["amount"].sum()
    assert set(got.index) == set(expected)
    for oid, (net, _) in expected.items():
        assert got[oid] == pytest.approx(net, abs=1e-9)
    # the fixture's grand total, net of its partial refunds
    assert lines["amount"].sum() == pytest.approx(sum(v for v, _ in expected.values()))
    assert (lines["currency"] == "USD").all()
    assert (lines["source"] == "shopify").all()


def test_shopify_forward_fills_order_fields() -> None:
    lines = read_shopify_orders(SHOPIFY)
    first = lines[lines["order_id"] == "#1001"]
    # '#1001,customer1@example.com,2025-01-15 17:41:00 -0500,183.50,...' then two blank rows
    assert first["line"].tolist() == [2, 3, 4]
    assert first["customer_id"].tolist() == ["customer1@example.com"] * 3
    assert first["order_date"].tolist() == [pd.Timestamp("2025-01-15 17:41:00")] * 3
    assert first["product"].tolist() == ["Deluxe Bundle", "Blue Widget", "Red Gadget"]
    # no line prices in this export: the total is split by quantity (1 each)
    assert first["amount"].tolist() == pytest.approx([183.5 / 3] * 3)
    assert first["status"].tolist() == ["paid"] * 3


def test_shopify_partial_refund_and_guest_order() -> None:
    lines = read_shopify_orders(SHOPIFY)
    # '#1007,customer7@example.com,...,59.00,29.50,USD,paid,Blue Widget,1'
    assert lines.loc[lines["order_id"] == "#1007", "amount"].sum() == pytest.approx(29.5)
    # '#1020,,2025-02-06 15:04:00 -0500,120.00,...' has no e-mail: a guest checkout
    guest = lines[lines["order_id"] == "#1020"]
    assert guest["customer_id"].isna().all()
    assert guest["amount"].sum() == pytest.approx(120.0)


SHOPIFY_FULL_HEADER = (
    "\ufeffName,Email,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount,"
    "Billing Country,Shipping Country,Refunded Amount\n"
)


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shopify_with_line_prices_splits_by_value(tmp_path: Path) -> None:
    text = SHOPIFY_FULL_HEADER + (
        "#2001,Ann@Example.com ,paid,EUR,100.00,5.00,19.95,124.95,,"
        '2025-03-01 10:00:00 +0100,2,"Shirt, white",20.00,SH-1,0,DE,DE,0\n'
        "#2001,,,,,,,,,,1,Jacket,60.00,JK-1,0,,,\n"
        "#2002,bob@example.com,refunded,EUR,30.00,0,0,30.00,,"
        "2025-03-02 11:00:00 +0100,1,Cap,30.00,,0,FR,,30.00\n"
    )
    lines = read_shopify_orders(_write(tmp_path, "orders_export.csv", text))
    # order #2001: 124.95 split 40 : 60 by price x quantity
    assert lines["amount"].tolist()[:2] == pytest.approx([124.95 * 0.4, 124.95 * 0.6])
    assert lines["customer_id"].tolist()[:2] == ["ann@example.com"] * 2
    assert lines["sku"].tolist() == ["SH-1", "JK-1", "Cap"]  # no SKU: the product name
    assert lines["product"].tolist()[0] == "Shirt, white"
    assert lines["country"].tolist() == ["DE", "DE", "FR"]  # billing when no shipping address
    # fully refunded
    assert lines["amount"].tolist()[2] == pytest.approx(0.0)
    assert lines["status"].tolist()[2] == "refunded"


def test_shopify_bad_total_names_file_line_and_column(tmp_path: Path) -> None:
    text = SHOPIFY_FULL_HEADER + (
        "#3001,a@x.com,paid,USD,10,0,0,12.5O,,2025-01-01 09:00:00 -0500,1,A,10,,0,US,US,0\n"
    )
    path = _write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError) as info:
        read_shopify_orders(path)
    assert "line 2" in info.value.en and "'Total'" in info.value.en and "12.5O" in info.value.en
    assert str(path) in info.value.en
    assert "第 2 行" in info.value.zh and "Total" in info.value.zh


def test_shopify_bad_date_and_missing_column(tmp_path: Path) -> None:
    text = SHOPIFY_FULL_HEADER + (
        "#3001,a@x.com,paid,USD,10,0,0,10,,2025-01-01 09:00:00 -0500,1,A,10,,0,US,US,0\n"
        "#3002,a@x.com,paid,USD,10,0,0,10,,31/01/2025,1,A,10,,0,US,US,0\n"
    )
    with pytest.raises(InputError, match="line 3.*31/01/2025"):
        read_shopify_orders(_write(tmp_path, "bad_date.csv", text))
    with pytest.raises(InputError, match="missing required columns: Lineitem quantity"):
        read_shopify_orders(_write(tmp_path, "cols.csv", "Name,Created at,Currency,Total\n"))


def test_shopify_order_rows_must_be_together(tmp_path: Path) -> None:
    text = SHOPIFY_FULL_HEADER + (
        "#1,a@x.com,paid,USD,10,0,0,10,,2025-01-01 09:00:00 -0500,1,A,10,,0,US,US,0\n"
        "#2,b@x.com,paid,USD,10,0,0,10,,2025-01-01 09:00:00 -0500,1,A,10,,0,US,US,0\n"
        "#1,,,,,,,,,,1,B,10,,0,,,\n"
    )
    with pytest.raises(InputError, match="together.*line 4"):
        read_shopify_orders(_write(tmp_path, "split.csv", text))


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot open"):
        read_shopify_orders(tmp_path / "nope.csv")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),  # lines in the order
            st.decimals(0, 5000, places=2),  # total
            st.decimals(0, 1, places=2),  # refunded fraction
        ),
        min_size=1,
        max_size=20,
    )
)
def test_shopify_lines_add_up_to_order_net(orders: list[tuple[int, object, object]]) -> None:
    rows = [SHOPIFY_FULL_HEADER]
    expected = {}
    for i, (n, total, frac) in enumerate(orders):
        t = float(total)  # type: ignore[arg-type]
        refund = round(t * float(frac), 2)  # type: ignore[arg-type]
        expected[f"#{i}"] = t - refund
        rows.append(
            f"#{i},c{i % 3}@x.com,paid,USD,0,0,0,{t:.2f},,2025-01-01 09:00:00 -0500,"
            f"{i % 3 + 1},P0,{i % 5}.50,,0,US,US,{refund:.2f}\n"
        )
        rows.extend(f"#{i},,,,,,,,,,1,P{k},{k}.25,,0,,,\n" for k in range(1, n))
    with tempfile.TemporaryDirectory() as tmp:
        lines = read_shopify_orders(_write(Path(tmp), "o.csv", "".join(rows)))
    got = lines.groupby("order_id")["amount"].sum()
    for oid, net in expected.items():
        assert got[oid] == pytest.approx(net, abs=1e-6)


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


# --- Generic CSV ------------------------------------------------------------------------------

MAPPING = {
    "order_id": "Order No",
    "customer_id": "Buyer",
    "order_date": "Date",
    "amount": "Net",
    "quantity": "Qty",
    "sku": "Item",
    "business": "B2B",
}


def test_generic_csv_with_mapping(tmp_path: Path) -> None:
    text = (
        "Order No;Buyer;Date;Net;Qty;Item;B2B\n"
        "A-1;acme;2025-04-01;1200,50;3;X;yes\n"
        "A-1;acme;2025-04-01;99,50;;Y;yes\n"
        "A-2;jo;2025-04-03T08:30:00Z;15;1;X;\n"
    )
    lines = read_orders_csv(
        _write(tmp_path, "g.csv", text),
        MAPPING,
        delimiter=";",
        currency="eur",
        channel="b2b-portal",
        comma_decimal=True,
    )
    assert lines["amount"].tolist() == [1200.5, 99.5, 15.0]
    assert lines["quantity"].tolist() == [3.0, 1.0, 1.0]  # blank quantity = 1
    assert lines["currency"].tolist() == ["EUR"] * 3
    assert lines["business"].tolist() == [True, True, False]
    assert lines["channel"].tolist() == ["b2b-portal"] * 3
    assert lines["order_date"].tolist() == [
        pd.Timestamp("2025-04-01"),
        pd.Timestamp("2025-04-01"),
        pd.Timestamp("2025-04-03 08:30"),
    ]


def test_generic_csv_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "g.csv", "Order No,Date,Net\nA,2025-12-01,1\nB,2025-01-02,x\n")
    mapping = {"order_id": "Order No", "order_date": "Date", "amount": "Net"}
    with pytest.raises(InputError, match="lacks required keys: currency"):
        read_orders_csv(path, mapping)
    with pytest.raises(InputError, match="unknown keys in the column mapping: price"):
        read_orders_csv(path, {**mapping, "price": "P"}, currency="USD")
    with pytest.raises(InputError, match="missing required columns: Buyer"):
        read_orders_csv(path, {**mapping, "customer_id": "Buyer"}, currency="USD")
    with pytest.raises(InputError, match="column 'Net' is blank or not a number: line 3 'x'"):
        read_orders_csv(path, mapping, currency="USD")


@pytest.mark.parametrize(
    "value",
    ["2025-13-01", "2025-02-29", "abcdefghijkl", "2025-01-01 25:00:00", "2025-01-01 10:00 +05:00x",
     "01/02/2025", "2025-1-2", ""],
)  # fmt: skip
def test_generic_csv_refuses_impossible_or_unknown_dates(tmp_path: Path, value: str) -> None:
    path = _write(tmp_path, "g.csv", f"id,day,amt\nA,2025-03-01,1\nB,{value},2\n")
    with pytest.raises(InputError, match="column 'day' is (not a date it can read|blank).*line 3"):
        read_orders_csv(path, {"order_id": "id", "order_date": "day", "amount": "amt"},
                        currency="USD")  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-02-29", "2024-02-29 00:00:00"),
        ("2025/03/04 05:06:07", "2025-03-04 05:06:07"),
        ("04.03.2025 05:06:07 UTC", "2025-03-04 05:06:07"),
        ("2025-03-04T05:06:07.123+09:00", "2025-03-04 05:06:07"),
        ("2025-03-04 05:06", "2025-03-04 05:06:00"),
    ],
)
def test_generic_csv_date_layouts(tmp_path: Path, value: str, expected: str) -> None:
    path = _write(tmp_path, "g.csv", f"id,day,amt\nA,{value},1\n")
    lines = read_orders_csv(
        path, {"order_id": "id", "order_date": "day", "amount": "amt"}, currency="USD"
    )
    assert lines["order_date"].iloc[0] == pd.Timestamp(expected)


def test_generic_csv_bad_dates_quoted_up_to_five(tmp_path: Path) -> None:
    body = "".join(f"O{i},2025/02/3{i % 9},1\n" for i in range(8))
    path = _write(tmp_path, "g.csv", "id,day,amt\n" + body)
    with pytest.raises(InputError) as info:
        read_orders_csv(path, {"order_id": "id", "order_date": "day", "amount": "amt"},
                        currency="USD")  # fmt: skip
    # 2025/02/30 .. 2025/02/37 do not exist: five are quoted with their lines, the rest counted
    assert "line 2 '2025/02/30'" in info.value.en
    assert "line 6 '2025/02/34'" in info.value.en
    assert "(and 3 more lines)" in info.value.en
    assert "第 2 行" in info.value.zh and "另有 3 行" in info.value.zh


def test_shopify_extra_columns_multiline_notes_and_unused_duplicates(tmp_path: Path) -> None:
    text = (
        "Name,Email,Notes,Tags,Created at,Currency,Total,Lineitem quantity,Tags\n"
        '#1,a@x.com,"call before\ndelivery",vip,2025-01-01 09:00:00 -0500,usd,10,1,x\n'
        "#2,b@x.com,,,2025-01-02 09:00:00 -0500,USD,20,2,\n"
    )
    lines = read_shopify_orders(_write(tmp_path, "export.csv", text))
    assert lines["order_id"].tolist() == ["#1", "#2"]
    assert lines["currency"].tolist() == ["USD", "USD"]
    assert lines["amount"].tolist() == [10.0, 20.0]
    with pytest.raises(InputError, match="repeated column names in the header: Total"):
        read_shopify_orders(_write(tmp_path, "dup.csv", text.replace("Tags\n", "Total\n", 1)))
