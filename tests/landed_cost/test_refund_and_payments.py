"""Amazon's refund administration fee and payment processors' fees from the fee tables, with
published worked examples (sources: xlplan/reference/data/fees_sources.csv)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.app import templates
from xlplan.app.cli import main
from xlplan.landed_cost.action import compute_lines
from xlplan.landed_cost.tables import LANDED_COST, LANDED_COST_RESULTS
from xlplan.reference import Rules, default_fx, load_rules

ON = date(2026, 6, 1)
RULES: Rules = load_rules(ON, fx=default_fx())


def _lines(*rows: dict[str, object]) -> pd.DataFrame:
    base = {"sku": "X", "unit_cost": 10.0, "last_mile_per_unit": 0.0, "storage_per_unit": 0.0}
    return pd.DataFrame([{**base, **row} for row in rows])


def _out(*rows: dict[str, object]) -> pd.DataFrame:
    out = compute_lines(_lines(*rows), RULES).outputs
    assert (out["error"] == "").all(), out["error"].tolist()
    return out


# --------------------------------------------------------------------------------------------
# Refund administration fee


def test_refund_admin_fee_is_a_fifth_of_the_referral_fee_capped_eu_example() -> None:
    """AMZ-REFUND-EU (Amazon's EU help page): an item of EUR 345 (300 + 40 shipping + 5 gift
    wrap) at a 15% referral fee pays 20% x 51.75 = 10.35, capped at EUR 5.00; one of EUR 57
    (50 + 5 + 2) pays 20% x 8.55 = EUR 1.71."""
    out = _out(
        {"market": "DE", "channel": "Amazon", "price": 345.0, "refund_rate": 1.0},
        {"market": "DE", "channel": "Amazon", "price": 57.0, "refund_rate": 1.0},
    )
    assert out["referral_fee"].round(2).tolist() == [51.75, 8.55]
    assert out["refund_admin_fee"].round(2).tolist() == [5.00, 1.71]
    assert out["fee_rules"].str.contains("fees_amazon_refund_admin.csv:3").all()


@pytest.mark.parametrize(
    ("market", "price", "category", "fee"),
    [
        # AMZ-REFUND-BR: R$345 at 15% -> R$10.35, capped at R$10.00.
        ("BR", 345.0, "Books", 10.00),
        # AMZ-REFUND-AE: AED 640 -> 19.2 capped at AED 15; AED 55 -> AED 1.65 (15% referral).
        ("AE", 640.0, "*", 15.00),
        ("AE", 55.0, "*", 1.65),
        # US jewelry at US$300: referral 52.50 (20% to US$250, 5% above) -> 10.50, capped US$5.
        ("US", 300.0, "Jewelry", 5.00),
    ],
)
def test_refund_admin_fee_published_examples(
    market: str, price: float, category: str, fee: float
) -> None:
    out = _out(
        {"market": market, "channel": "Amazon", "price": price, "category": category,
         "refund_rate": 1.0}
    )  # fmt: skip
    assert out["refund_admin_fee"].round(2).tolist() == [fee]


def test_refund_admin_fee_per_unit_sold_scales_with_the_refund_rate() -> None:
    """4% of US$300 jewelry units refunded: 0.04 x US$5.00 = US$0.20 per unit sold, in the
    total cost; no refund rate, or a channel without a refund administration row, pays none."""
    out = _out(
        {"market": "US", "channel": "Amazon", "price": 300.0, "category": "Jewelry",
         "refund_rate": 0.04},
        {"market": "US", "channel": "Amazon", "price": 300.0, "category": "Jewelry"},
        {"market": "US", "channel": "Shopify", "price": 300.0, "refund_rate": 0.04},
    )  # fmt: skip
    assert out["refund_admin_fee"].round(2).tolist() == [0.20, 0.0, 0.0]
    assert out["total_cost"].iloc[0] - out["total_cost"].iloc[1] == pytest.approx(0.20)


TT_US_REFUND = "fees_marketplace_commissions.csv:4"
"""TikTok Shop US's refund administration fee row (source TT-US)."""


@pytest.mark.parametrize(
    ("price", "referral", "fee"),
    [
        (50.0, 3.00, 0.60),  # 20% x (6% x US$50)
        (300.0, 18.00, 3.60),
        (500.0, 30.00, 5.00),  # 20% x US$30.00 = US$6.00, capped at US$5.00
    ],
)
def test_tiktok_shop_us_refund_admin_fee_published_rule(
    price: float, referral: float, fee: float
) -> None:
    """TT-US (TikTok Shop US, "Referral Fee Updates", fees_sources.csv): a 6% referral fee,
    and from 2025-05-15 a refund administration fee of 20% of the refunded SKU's referral fee,
    capped at US$5 per SKU. A unit refunded in full (refund rate 1)."""
    out = _out({"market": "US", "channel": "TikTok Shop", "price": price, "refund_rate": 1.0})
    assert out["referral_fee"].round(2).tolist() == [referral]
    assert out["refund_admin_fee"].round(2).tolist() == [fee]
    assert TT_US_REFUND in out["fee_rules"].iloc[0].split(";")


def test_tiktok_shop_refund_admin_fee_per_unit_sold_and_dated() -> None:
    """5% of US$300 units refunded: 0.05 x US$3.60 = US$0.18 per unit sold, in the total cost;
    before 2025-05-15 (the row's start) there is no such fee, and the row is never charged on
    the price of a unit sold (the referral fee stays 6%)."""
    row = {"market": "US", "channel": "TikTok Shop", "price": 300.0}
    out = _out({**row, "refund_rate": 0.05}, row)
    assert out["refund_admin_fee"].round(2).tolist() == [0.18, 0.0]
    assert out["referral_fee"].round(2).tolist() == [18.00, 18.00]
    assert out["total_cost"].iloc[0] - out["total_cost"].iloc[1] == pytest.approx(0.18)
    assert TT_US_REFUND not in out["fee_rules"].iloc[1]
    before = compute_lines(
        _lines({**row, "refund_rate": 0.05}), load_rules(date(2025, 5, 1), fx=default_fx())
    ).outputs
    assert before["refund_admin_fee"].tolist() == [0.0]
    assert TT_US_REFUND not in before["fee_rules"].iloc[0]


@settings(max_examples=20, deadline=None)
@given(price=st.floats(5, 2000), refund=st.floats(0.01, 1), margin=st.floats(-0.2, 0.3))
def test_tiktok_prices_solved_with_the_refund_fee_reproduce_the_margin(
    price: float, refund: float, margin: float
) -> None:
    row = {"market": "US", "channel": "TikTok Shop", "price": price, "refund_rate": refund,
           "target_margin": margin}  # fmt: skip
    out = compute_lines(_lines(row), RULES).outputs
    fee = out["refund_admin_fee"].iloc[0]
    assert fee <= refund * 5.0 + 1e-9
    assert fee == pytest.approx(refund * min(5.0, 0.2 * out["referral_fee"].iloc[0]), abs=1e-9)
    for col, want in (("breakeven_price", 0.0), ("price_for_target_margin", margin)):
        solved = out[col].iloc[0]
        if np.isnan(solved):
            continue
        back = compute_lines(_lines({**row, "price": solved}), RULES).outputs
        assert back["contribution_margin"].iloc[0] == pytest.approx(want, abs=1e-7)


@settings(max_examples=20, deadline=None)
@given(
    price=st.floats(5, 2000),
    refund=st.floats(0.01, 1),
    category=st.sampled_from(["Jewelry", "*", "Electronics Accessories", "Clothing"]),
    margin=st.floats(-0.2, 0.3),
)
def test_prices_solved_with_the_refund_fee_reproduce_the_margin(
    price: float, refund: float, category: str, margin: float
) -> None:
    row = {"market": "US", "channel": "Amazon", "category": category, "price": price,
           "refund_rate": refund, "target_margin": margin}  # fmt: skip
    out = compute_lines(_lines(row), RULES).outputs
    fee = out["refund_admin_fee"].iloc[0]
    assert fee <= refund * 5.0 + 1e-9
    assert fee <= refund * 0.2 * out["referral_fee"].iloc[0] + 1e-9
    for col, want in (("breakeven_price", 0.0), ("price_for_target_margin", margin)):
        solved = out[col].iloc[0]
        if np.isnan(solved):
            continue
        back = compute_lines(_lines({**row, "price": solved}), RULES).outputs
        assert back["contribution_margin"].iloc[0] == pytest.approx(want, abs=1e-7)


# --------------------------------------------------------------------------------------------
# Payment processors


def test_stripe_us_card_published_examples() -> None:
    """STRIPE (stripe.com pricing via calcmastery, checked 2026-08-21 per RATES-CHECKLIST):
    2.9% + US$0.30 on US$100 = US$3.20; a card issued abroad (+1.5%) that needs a conversion
    (+1%): 5.4% + US$0.30 = US$5.70. Half the payments international: 3.65% + 0.30 = 3.95."""
    out = _out(
        {"market": "US", "channel": "Shopify", "price": 100.0, "payment_processor": "Stripe"},
        {"market": "US", "channel": "Shopify", "price": 100.0, "payment_processor": "Stripe",
         "intl_card_share": 1.0, "conversion_share": 1.0},
        {"market": "US", "channel": "Shopify", "price": 100.0, "payment_processor": "stripe",
         "intl_card_share": 0.5},
    )  # fmt: skip
    assert out["payment_fee"].round(2).tolist() == [3.20, 5.70, 3.95]
    # (the typed last-mile and storage figures come first)
    assert [r.removeprefix("typed;typed;") for r in out["fee_rules"]] == [
        "fees_payment_processors.csv:2",
        "fees_payment_processors.csv:2;fees_payment_processors.csv:3;fees_payment_processors.csv:4",
        "fees_payment_processors.csv:2;fees_payment_processors.csv:3",
    ]


def test_paypal_us_checkout_published_example() -> None:
    """PAYPAL (fee-calc.com; PayPal US page of 2026-07-15 per RATES-CHECKLIST): Checkout
    3.49% + US$0.49 on US$100 = US$3.98."""
    out = _out(
        {"market": "US", "channel": "Shopify", "price": 100.0, "payment_processor": "PayPal"}
    )
    assert out["payment_fee"].round(2).tolist() == [3.98]


def test_eu_market_uses_the_eea_account_and_a_total_international_rate() -> None:
    """Stripe EEA (EUR): 1.5% + EUR 0.25 domestic; an international card is 3.25% in total, so
    its add-on is 1.75%: EUR 100 -> EUR 1.75, and EUR 3.50 all international."""
    out = _out(
        {"market": "FR", "channel": "Shopify", "price": 100.0, "payment_processor": "Stripe"},
        {"market": "FR", "channel": "Shopify", "price": 100.0, "payment_processor": "Stripe",
         "intl_card_share": 1.0},
    )  # fmt: skip
    assert out["payment_fee"].round(2).tolist() == [1.75, 3.50]


def test_typed_payment_figures_win_and_unknown_processors_are_flagged() -> None:
    out = _out(
        {"market": "US", "channel": "Shopify", "price": 100.0, "payment_processor": "Stripe",
         "payment_rate": 0.02},
        {"market": "MX", "channel": "Shopify", "price": 100.0, "payment_processor": "Stripe"},
        {"market": "US", "channel": "Shopify", "price": 100.0, "payment_processor": "Klarna"},
    )  # fmt: skip
    assert out["payment_fee"].round(2).tolist() == [2.00, 0.0, 0.0]
    assert out["flags"].str.contains("no_payment_rule").tolist() == [False, True, True]


def test_payment_fee_is_solved_into_the_prices() -> None:
    out = _out(
        {"market": "US", "channel": "Shopify", "price": 100.0, "payment_processor": "Stripe",
         "intl_card_share": 1.0, "target_margin": 0.25}
    )  # fmt: skip
    back = _out(
        {"market": "US", "channel": "Shopify", "price": out["price_for_target_margin"].iloc[0],
         "payment_processor": "Stripe", "intl_card_share": 1.0}
    )  # fmt: skip
    assert back["contribution_margin"].iloc[0] == pytest.approx(0.25, abs=1e-9)


def test_run_on_a_workbook_writes_the_new_fee_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "plan.xlsx"
    src.write_bytes(templates.template_bytes("en"))
    wb = openpyxl.load_workbook(src)
    ws = wb["Landed Cost"]
    first = ws[ws.tables[LANDED_COST.name].ref][1][0].row
    col = {k: i + 1 for i, k in enumerate(LANDED_COST.keys)}
    cells = {
        "channel": "Shopify",
        "price": 100.0,
        "payment_rate": None,
        "payment_fixed": None,
        "payment_processor": "Stripe",
        "intl_card_share": 1.0,
        "conversion_share": 1.0,
    }
    for key, value in cells.items():
        ws.cell(first, col[key]).value = value
    wb.save(src)
    out = tmp_path / "out.xlsx"
    assert main(["run", str(src), "--action", "landed_cost", "-o", str(out)]) == 0, (
        capsys.readouterr().err
    )
    res = openpyxl.load_workbook(out, data_only=True)["Landed Cost Results"]
    rows = [[c.value for c in r] for r in res[res.tables[LANDED_COST_RESULTS.name].ref]]
    line = dict(zip(LANDED_COST_RESULTS.keys, rows[1], strict=True))
    assert line["payment_fee"] == pytest.approx(5.70)
    assert line["refund_admin_fee"] == 0
