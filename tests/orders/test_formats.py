"""Format names routed to their readers: ``FORMATS`` and ``read_orders`` on the real fixtures
(tests/data/orders, see SOURCE.txt) and an inline generic CSV."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from xlplan.core.errors import InputError
from xlplan.orders import (
    FORMATS,
    ORDER_LINE_COLUMNS,
    MappingError,
    parse_mapping,
    read_amazon_orders_xml,
    read_amazon_settlement,
    read_orders,
    read_shopify_orders,
    settlement_order_lines,
)

DATA = Path(__file__).parents[1] / "data" / "orders"
SHOPIFY = DATA / "shopify_orders_export_subset_sample.csv"
SETTLEMENT = DATA / "amazon_mws_settlement_flatfile_CA_subscription.tsv"
MWS_ORDERS = DATA / "amazon_mws_orders_list_orders.xml"


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def test_format_names_and_labels() -> None:
    assert list(FORMATS) == [
        "shopify",
        "amazon_settlement",
        "amazon_orders",
        "amazon_orders_xml",
        "generic",
    ]
    assert [k for k, f in FORMATS.items() if f.needs_mapping] == ["generic"]
    for f in FORMATS.values():
        assert f.zh and f.en
    with pytest.raises(dataclasses.FrozenInstanceError):
        FORMATS["shopify"].needs_mapping = True  # type: ignore[misc]


def test_read_orders_routes_to_the_source_reader() -> None:
    pd.testing.assert_frame_equal(read_orders(SHOPIFY, "shopify"), read_shopify_orders(SHOPIFY))
    pd.testing.assert_frame_equal(
        read_orders(SETTLEMENT, "amazon_settlement"),
        settlement_order_lines(read_amazon_settlement(SETTLEMENT)),
    )


def test_read_orders_generic_parses_the_mapping_and_uses_the_file_currency(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "erp.csv", "Order No,Date,Net\nA1,2026-01-15,120.5\n")
    lines = read_orders(
        path, "generic", mapping="order_id=Order No; order_date=Date\namount=Net", currency="usd"
    )
    assert list(lines.columns) == ORDER_LINE_COLUMNS
    assert lines["order_id"].tolist() == ["A1"]
    assert lines["amount"].tolist() == [120.5]
    assert lines["currency"].tolist() == ["USD"]
    assert (lines["source"] == "generic").all()


def test_read_orders_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as info:
        read_orders(SHOPIFY, "ebay")
    assert info.value.en == (
        "unknown format 'ebay' "
        "(use shopify, amazon_settlement, amazon_orders, amazon_orders_xml, generic)"
    )
    assert "未知的格式 'ebay'" in info.value.zh


def test_parse_mapping() -> None:
    assert parse_mapping("order_id=Order, No ;\n amount = Net\n;") == {
        "order_id": "Order, No",
        "amount": "Net",
    }
    with pytest.raises(MappingError) as info:
        parse_mapping("order_id=Order; amount")
    assert info.value.en == "write the mapping as key=Header; key=Header, not: 'amount'"
    assert info.value.zh == "列映射应写成 键=列名; 键=列名，无法识别: 'amount'"


def test_read_orders_reports_a_bad_mapping_as_a_mapping_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "erp.csv", "Order No,Date,Net\nA1,2026-01-15,120.5\n")
    with pytest.raises(MappingError, match="not: 'Date'"):
        read_orders(path, "generic", mapping="order_id=Order No; Date", currency="USD")
    with pytest.raises(MappingError, match="lacks required keys: order_id, order_date, amount"):
        read_orders(path, "generic", currency="USD")


def test_read_orders_routes_the_mws_orders_xml() -> None:
    """The MWS ListOrders sample response: four <Order> elements, the last two with one id."""
    lines = read_orders(MWS_ORDERS, "amazon_orders_xml")
    pd.testing.assert_frame_equal(lines, read_amazon_orders_xml(MWS_ORDERS))
    assert list(lines.columns) == ORDER_LINE_COLUMNS
    assert (lines["source"] == "amazon_orders_xml").all()
    assert lines["order_id"].tolist() == [
        "902-3159896-1390916",
        "483-3488972-0896720",
        "058-1233752-8214740",
    ]
    # <OrderTotal><CurrencyCode>USD</CurrencyCode><Amount>25.00</Amount></OrderTotal>, ...
    assert lines["currency"].tolist() == ["USD", "BRL", "JPY"]
    assert lines["amount"].tolist() == [25.0, 100.0, 1507.0]
    assert lines["line"].tolist() == [1, 2, 4]  # positions in the file; the 3rd was replaced
    # only the first order names its SalesChannel; the others fall back to the MarketplaceId
    assert lines["channel"].tolist() == ["Amazon.com", "A2Q3Y263D00KWC", "A1VC38T7YXB528"]
