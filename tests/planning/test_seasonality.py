"""Calendar: event dates for a plan year and the seasonality profiles they imply."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from xlplan.planning.calc.seasonality import (
    EVENT_COLUMNS,
    MONTH_COLUMNS,
    calendar_index,
    event_calendar,
    event_windows,
    ramp_factors,
    read_calendar_events,
    seasonality_profiles,
)
from xlplan.reference.dates import anchor_dates

EVENTS = read_calendar_events()
REGIONS = pd.DataFrame(
    {"region": ["NA", "LATAM", "MENA", "EU", "SEA", "EAST_ASIA"]},
    index=pd.Index(["US", "MX", "SA", "DE", "SG", "JP"], name="market"),
)
D = dt.date


def events(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    """An events table from (key, markets, uplift, anchor, param, start_offset, end_offset)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "event_key",
            "markets",
            "uplift",
            "anchor",
            "anchor_param",
            "start_offset",
            "end_offset",
        ],
    )
    frame["name_zh"] = frame["event_key"]
    frame["name_en"] = frame["event_key"]
    return frame


NO_EVENTS = events([])


def window(year: int, key: str) -> list[tuple[dt.date, dt.date]]:
    w, _ = event_windows(EVENTS, year)
    w = w[w["event_key"] == key]
    return [(s.date(), e.date()) for s, e in zip(w["start"], w["end"], strict=True)]


def test_shipped_events_table_has_its_contract() -> None:
    assert list(EVENTS.columns) == EVENT_COLUMNS
    assert EVENTS["event_key"].is_unique
    assert (EVENTS["source"] != "").all()
    # "NA" is the North America region, not a missing value
    assert EVENTS.loc[EVENTS["event_key"] == "christmas", "markets"].item().startswith("NA ")


@pytest.mark.parametrize(
    ("year", "key", "expected", "source"),
    [
        (2026, "black_friday_cyber_monday", [(D(2026, 11, 27), D(2026, 11, 30))], "DOMAIN.md 4"),
        (2025, "black_friday_cyber_monday", [(D(2025, 11, 28), D(2025, 12, 1))], "Thanksgiving 27"),
        # 1 Ramadan 1447 = 18 Feb 2026 (Umm al-Qura); two weeks before it
        (2026, "ramadan_run_up", [(D(2026, 2, 4), D(2026, 2, 17))], "DOMAIN.md 4"),
        # 1 Shawwal 1447 = 20 Mar 2026; the last week before Eid
        (2026, "eid_al_fitr_run_up", [(D(2026, 3, 13), D(2026, 3, 19))], "Umm al-Qura"),
        # 1 Ramadan 1448 = 8 Feb 2027: about 11 days earlier
        (2027, "ramadan_run_up", [(D(2027, 1, 25), D(2027, 2, 7))], "Umm al-Qura"),
        # 2030 has two: 1451 begins 5 Jan 2030 (run-up from Dec 2029), 1452 begins 26 Dec 2030
        (
            2030,
            "ramadan_run_up",
            [(D(2029, 12, 22), D(2030, 1, 4)), (D(2030, 12, 12), D(2030, 12, 25))],
            "Umm al-Qura",
        ),
        (2026, "cny_supply_dip", [(D(2026, 2, 7), D(2026, 3, 3))], "CNY 2026-02-17"),
        (2026, "el_buen_fin", [(D(2026, 11, 13), D(2026, 11, 16))], "Revolution Day 16 Nov"),
        (2025, "el_buen_fin", [(D(2025, 11, 14), D(2025, 11, 17))], "El Buen Fin 2025"),
        (2025, "hot_sale_mx", [(D(2025, 5, 26), D(2025, 6, 3))], "Hot Sale 2025"),
        (2026, "double_11", [(D(2026, 11, 9), D(2026, 11, 11))], "11.11"),
    ],
)
def test_event_windows(
    year: int, key: str, expected: list[tuple[dt.date, dt.date]], source: str
) -> None:
    assert window(year, key) == expected, source


def test_anchor_rules() -> None:
    assert anchor_dates("nth_weekday", "11:THU:4", [2026]) == [D(2026, 11, 26)]
    assert anchor_dates("nth_weekday", "05:MON:-1", [2026]) == [D(2026, 5, 25)]
    assert anchor_dates("holiday", "CN:Chinese New Year (Spring Festival)", [2026]) == [
        D(2026, 2, 17)
    ]
    assert anchor_dates("hijri", "09-01", [2026]) == [D(2026, 2, 18)]


def test_event_calendar_spreads_uplift_by_days() -> None:
    cal, errors = event_calendar(EVENTS, 2026)
    assert errors.empty
    dip = cal[cal["event_key"] == "cny_supply_dip"].iloc[0]
    # 7-28 Feb = 22 days, 1-3 Mar = 3 days, of 25: -0.15 x 22/25 and x 3/25
    assert dip["m02"] == pytest.approx(-0.132)
    assert dip["m03"] == pytest.approx(-0.018)
    assert cal["start"].is_monotonic_increasing


def test_unreadable_events_are_records() -> None:
    bad = events(
        [
            ("ok", "ALL", 0.1, "fixed", "06-01", 0, 0),
            ("typo", "ALL", 0.1, "holiday", "US:No Such Day", 0, 0),
            ("rule", "ALL", 0.1, "easter", "", 0, 0),
            ("text", "ALL", "lots", "fixed", "06-01", 0, 0),
        ]
    )
    windows, errors = event_windows(bad, 2026)
    assert windows["event_key"].tolist() == ["ok"]
    assert errors[["row", "column"]].to_numpy().tolist() == [
        [1, "anchor_param"],
        [2, "anchor_param"],
        [3, "uplift"],
    ]
    assert errors["en"].iloc[0] == "cannot compute the date of typo for 2026"


def test_hijri_outside_its_range_is_a_record() -> None:
    _, errors = event_windows(EVENTS, 2100)
    assert set(errors["row"]) == {7, 8}  # the two Hijri events


def test_profile_by_hand() -> None:
    # One event, 0.5 of a normal month, 27-30 Nov, for NA only. 2026 has 365 days.
    one = events([("bf", "NA", 0.5, "fixed", "11-27", 0, 3)])
    profiles, errors = seasonality_profiles(["US", "MX"], 2026, REGIONS, one)
    normal = 365 / 12
    # raw Jan = 31 / 30.4167; raw Nov = 30 / 30.4167 + 0.5; raw year = 12 + 0.5
    assert profiles.loc["US", "m01"] == pytest.approx(12 * (31 / normal) / 12.5)
    assert profiles.loc["US", "m11"] == pytest.approx(12 * (30 / normal + 0.5) / 12.5)
    assert profiles.loc["MX", "m11"] == pytest.approx(30 / normal)
    assert profiles.sum(axis=1).tolist() == pytest.approx([12, 12])
    assert errors.empty


def test_shipped_profiles_move_the_right_months() -> None:
    profiles, errors = seasonality_profiles(["US", "MX", "SA", "SG", "XX"], 2026, REGIONS, EVENTS)
    assert profiles.loc["US"].idxmax() == "m11"  # Black Friday + Cyber Monday
    assert profiles.loc["MX", "m11"] > profiles.loc["MX", "m10"]  # El Buen Fin
    assert profiles.loc["SA", "m03"] > profiles.loc["SA", "m04"]  # Eid run-up in March 2026
    assert profiles.loc["SG", "m09"] > profiles.loc["SG", "m08"]  # 9.9
    assert profiles.loc["US", "m02"] < profiles.loc["US", "m04"]  # CNY supply dip
    assert errors[["row", "column"]].to_numpy().tolist() == [[4, "market"]]
    assert errors["en"].item() == "unknown market: XX (not in the market reference)"


def test_launch_ramp() -> None:
    launches = pd.Series({"US": 5, "MX": "2025-11", "DE": "2027-01", "SG": 13})
    profiles, errors = seasonality_profiles(
        ["US", "MX", "DE", "SG", "JP"], 2026, REGIONS, NO_EVENTS, launches=launches
    )
    flat = profiles.loc["JP"]
    ratio = (profiles.loc["US"] / flat).round(6).tolist()
    assert ratio == [0, 0, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 1]
    # launched Nov 2025: Jan 2026 is its third month
    assert (profiles.loc["MX"] / flat).round(6).tolist() == [0.75] + [1.0] * 11
    assert profiles.loc[["DE", "SG"]].isna().all().all()
    assert errors[["row", "column"]].to_numpy().tolist() == [
        [2, "launch_month"],
        [3, "launch_month"],
    ]


def test_ramp_factors_custom_curve() -> None:
    got = ramp_factors(np.array([10.0, np.nan]), ramp=(0.5,))
    assert got[0].tolist() == [0] * 10 + [0.5, 1]
    assert got[1].tolist() == [1] * 12


def test_actuals_blend_by_hand() -> None:
    december = pd.DataFrame([[0.0] * 11 + [500.0]], index=["US"], columns=MONTH_COLUMNS)
    profiles, _ = seasonality_profiles(
        ["US", "MX"], 2026, REGIONS, NO_EVENTS, actuals=december, actuals_weight=0.5
    )
    normal = 365 / 12
    assert profiles.loc["US", "m12"] == pytest.approx(0.5 * 31 / normal + 0.5 * 12)
    assert profiles.loc["US", "m01"] == pytest.approx(0.5 * 31 / normal)
    assert profiles.loc["MX", "m12"] == pytest.approx(31 / normal)  # no actuals: calendar only


def test_actuals_follow_moving_events() -> None:
    # Last year's sales shaped exactly like last year's calendar give this year's calendar:
    # the Ramadan and Eid run-ups move with the Hijri dates rather than repeat last year's months.
    markets = np.array(["SA"], dtype=object)
    regions = np.array(["MENA"], dtype=object)
    last, _ = calendar_index(markets, regions, EVENTS, 2025)
    this, _ = calendar_index(markets, regions, EVENTS, 2026)
    actuals = pd.DataFrame(last * 1e6, index=["SA"], columns=MONTH_COLUMNS)
    profiles, _ = seasonality_profiles(["SA"], 2026, REGIONS, EVENTS, actuals=actuals)
    assert profiles.loc["SA"].to_numpy() == pytest.approx(this[0])


def test_profiles_per_region_and_dated_launches() -> None:
    launches = pd.Series(pd.to_datetime(["2026-03-15"]), index=["US"])
    profiles, errors = seasonality_profiles(
        ["LATAM", "US"], 2026, REGIONS, EVENTS, launches=launches
    )
    assert errors.empty
    # LATAM as a whole gets Christmas (listed for LATAM) but not Mexico-only El Buen Fin
    assert profiles.loc["LATAM", "m12"] > profiles.loc["LATAM", "m10"]
    assert profiles.loc["LATAM", "m11"] < 1
    assert profiles.loc["US", ["m01", "m02"]].tolist() == [0, 0]
