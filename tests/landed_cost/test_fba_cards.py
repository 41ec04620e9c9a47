"""FBA cards outside the US: one example each from the shipped rows (sources in
xlplan/reference/data/fees_sources.csv; every row here is marked uncertain)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from xlplan.landed_cost.action import compute_lines
from xlplan.reference import default_fx, load_rules

RULES = load_rules(date(2026, 8, 1), fx=default_fx())


def _fba(market: str, price: float, sides: tuple[float, float, float], kg: float) -> pd.Series:
    line = {
        "sku": "X", "market": market, "channel": "Amazon", "unit_cost": 10.0, "price": price,
        "length_cm": sides[0], "width_cm": sides[1], "height_cm": sides[2], "weight_kg": kg,
        "storage_per_unit": 0.0,
    }  # fmt: skip
    out = compute_lines(pd.DataFrame([line]), RULES).outputs
    assert out["error"].iloc[0] == ""
    return out.iloc[0]


def test_gb_standard_envelope() -> None:
    """AMZ-UK-2026-TS / AMZ-UK-RATES-JSON (UK rate card effective 2026-07-01): 30 x 20 x 2 cm,
    150 g fits a standard envelope (33 x 23 x 2.5 cm, 460 g); 100-210 g costs GBP 2.10."""
    line = _fba("GB", 20.0, (30, 20, 2), 0.150)
    assert line["size_tier"] == "standard_envelope"
    assert line["fulfilment_fee"] == pytest.approx(2.10)
    assert line["fuel_surcharge"] == 0.0  # the 2026 fuel surcharge is US and CA only
    assert "fees_fba_fulfilment.csv" in line["fee_rules"]
    assert line["flags"] == ""


def test_gb_small_parcel_is_charged_on_its_dimensional_weight() -> None:
    """Same sources: 30 x 20 x 10 cm, 500 g is a small parcel (35 x 25 x 12 cm); its
    dimensional weight 6,000 cm3 / 5,000 cm3 per kg = 1.2 kg beats the unit weight, so the
    900-1,400 g band applies: GBP 3.05."""
    line = _fba("GB", 20.0, (30, 20, 10), 0.5)
    assert line["size_tier"] == "small_parcel"
    assert line["dim_weight_kg"] == pytest.approx(1.2)
    assert line["fulfilment_fee"] == pytest.approx(3.05)


@pytest.mark.parametrize(
    ("sides", "kg", "tier", "fee"),
    [
        ((15, 10, 1), 0.1, "small", 288.0),
        ((18, 10, 5), 0.5, "standard_20", 413.0),
        ((28, 20, 10), 0.9, "standard_30", 434.0),
        ((60, 40, 30), 5.0, "large", 589.0),
    ],
)
def test_jp_2024_25_sample(
    sides: tuple[float, float, float], kg: float, tier: str, fee: float
) -> None:
    """JP-FBA-3P (third-party 2024-2025 guide): small JPY288 (250 g, 25 cm), standard JPY413 /
    434 / 455 (1 kg; 20 / 30 / 40 cm), large from JPY589. No JP storage rows: a line that does
    not type its storage is flagged."""
    line = _fba("JP", 1980.0, sides, kg)
    assert line["size_tier"] == tier
    assert line["fulfilment_fee"] == pytest.approx(fee)


def test_eu_and_ca_have_no_card_and_say_so() -> None:
    for market in ("DE", "FR", "IT", "ES", "CA"):
        line = _fba(market, 30.0, (20, 15, 5), 0.3)
        assert "no_size_tier" in line["flags"], market
