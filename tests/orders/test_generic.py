"""Generic CSV read through a column mapping: inline files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from xlplan.core.errors import InputError
from xlplan.orders import MappingError, read_orders_csv


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


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


def test_generic_csv_mapping_problems_have_their_own_type(tmp_path: Path) -> None:
    """Callers point MappingError at the mapping cell and other InputErrors at the file."""
    path = _write(tmp_path, "g.csv", "Order No,Date,Net\nA,2025-12-01,1\n")
    mapping = {"order_id": "Order No", "order_date": "Date", "amount": "Net"}
    with pytest.raises(MappingError) as info:
        read_orders_csv(path, mapping)
    assert info.value.zh == "列映射缺少必需的键: currency"
    with pytest.raises(MappingError) as info:
        read_orders_csv(path, {**mapping, "price": "P"}, currency="USD")
    assert info.value.zh == "列映射中有未知的键: price"
    with pytest.raises(InputError) as file_info:
        read_orders_csv(path, {**mapping, "customer_id": "Buyer"}, currency="USD")
    assert not isinstance(file_info.value, MappingError)


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
