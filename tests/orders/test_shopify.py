"""Shopify orders export: the real fixture (tests/data/orders, see SOURCE.txt) and inline files."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.core.errors import InputError
from xlplan.orders import ORDER_LINE_COLUMNS, read_shopify_orders

DATA = Path(__file__).parents[1] / "data" / "orders"
SHOPIFY = DATA / "shopify_orders_export_subset_sample.csv"


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
        t = float(total)
        refund = round(t * float(frac), 2)
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
