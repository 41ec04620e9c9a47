"""The supplier calendar: Chinese New Year from the ``holidays`` package, user closures, and the
order dates binary-searched through it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.reference.dates import chinese_new_year
from xlplan.supply.calc.calendar import build_calendar, closure_windows, cny_windows
from xlplan.supply.calc.settings import ClosureKind, SupplySettings

ORIGIN = date(2025, 1, 1)
DAYS = 3 * 365


def day(cal, text: str) -> int:  # type: ignore[no-untyped-def]
    return int(cal.day(np.datetime64(text, "D")))


def test_chinese_new_year_comes_from_the_holidays_package() -> None:
    assert chinese_new_year([2026, 2027]) == [date(2026, 2, 17), date(2027, 2, 6)]


def test_the_shutdown_and_the_restart_follow_the_settings() -> None:
    """DOMAIN.md section 4: factories wind down 7-10 days before New Year and run at 20-40% for
    about two weeks after."""
    windows = cny_windows([date(2026, 2, 17)], SupplySettings())
    shut, restart = windows.to_dict("records")
    assert shut["kind"] == ClosureKind.CNY_SHUTDOWN.value and shut["capacity"] == 0.0
    assert (shut["start"], shut["end"]) == (pd.Timestamp("2026-02-07"), pd.Timestamp("2026-02-24"))
    assert restart["kind"] == ClosureKind.CNY_RECOVERY.value and restart["capacity"] == 0.3
    assert (restart["start"], restart["end"]) == (
        pd.Timestamp("2026-02-25"),
        pd.Timestamp("2026-03-10"),
    )
    other = cny_windows(
        [date(2026, 2, 17)], SupplySettings(cny_wind_down_days=7, cny_recovery_capacity=0.4)
    )
    assert other["start"].iloc[0] == pd.Timestamp("2026-02-10")
    assert other["capacity"].iloc[1] == 0.4


def test_production_over_the_holiday_takes_longer() -> None:
    cal = build_calendar(ORIGIN, DAYS, cny_windows([date(2026, 2, 17)], SupplySettings()), [])
    rows = np.array([0])
    start = np.array([day(cal, "2026-01-28")])
    # 10 days before the shutdown, nothing for 18 days, 14 days at 30% (4.2 days), then 5.8
    ready = cal.ready(rows, start, np.array([20.0]))
    assert cal.date(ready)[0] == np.datetime64("2026-03-17")
    plain = build_calendar(ORIGIN, DAYS, cny_windows([], SupplySettings()), [])
    assert cal.date(plain.ready(rows, start, np.array([20.0])))[0] == np.datetime64("2026-02-17")


def test_a_named_suppliers_closure_leaves_the_others_alone() -> None:
    closures = pd.DataFrame(
        {
            "supplier": ["Ningbo Cable"],
            "start": [pd.Timestamp("2026-07-01")],
            "end": [pd.Timestamp("2026-07-10")],
            "capacity": [np.nan],  # blank = closed
            "note": [""],
        }
    )
    cal = build_calendar(ORIGIN, DAYS, closure_windows(closures), ["ningbo cable ", "Other"])
    rows = cal.rows(["Ningbo Cable", "Other", ""])
    assert rows.tolist()[0] != rows.tolist()[1] and rows.tolist()[2] == 0
    start = np.full(3, day(cal, "2026-06-26"))
    ready = cal.ready(rows, start, np.full(3, 10.0))
    assert cal.date(ready).tolist() == [
        date(2026, 7, 16),  # 5 days, 10 closed, 5 more
        date(2026, 7, 6),
        date(2026, 7, 6),
    ]


def test_an_order_is_never_placed_on_a_closed_day() -> None:
    cal = build_calendar(ORIGIN, DAYS, cny_windows([date(2026, 2, 17)], SupplySettings()), [])
    # ready by 12 February: inside the shutdown, so production must end on 7 February
    start = cal.latest_start(np.array([0]), np.array([day(cal, "2026-02-12")]), np.array([30.0]))
    assert cal.date(start)[0] == np.datetime64("2026-01-08")
    assert cal.capacity[0, start[0]] > 0


@settings(max_examples=200)
@given(
    st.integers(40, DAYS - 1),
    st.integers(0, 180).map(lambda half_days: half_days / 2),
    st.lists(st.tuples(st.integers(0, DAYS - 1), st.integers(0, 40), st.floats(0, 1)), max_size=4),
)
def test_the_latest_start_is_ready_in_time_and_the_day_after_is_not(
    ready_by: int, production: float, spans: list[tuple[int, int, float]]
) -> None:
    windows = pd.DataFrame(
        {
            "supplier": [""] * len(spans),
            "kind": ["closure"] * len(spans),
            "start": [pd.Timestamp(ORIGIN) + pd.Timedelta(days=a) for a, _, _ in spans],
            "end": [pd.Timestamp(ORIGIN) + pd.Timedelta(days=a + n) for a, n, _ in spans],
            "capacity": [c for *_, c in spans],
            "note": [""] * len(spans),
        }
    )
    cal = build_calendar(ORIGIN, DAYS, windows, [])
    rows, need, work = np.array([0]), np.array([ready_by]), np.array([production])
    start = cal.latest_start(rows, need, work)
    assert ready_by - start[0] >= production - 1e-6  # never later than the lead time allows
    if 0 <= start[0]:
        assert cal.ready(rows, start, work)[0] <= ready_by
        later = np.array([start[0] + 1])
        if production > 0 and cal.capacity[0, start[0]] > 0 and later[0] < ready_by:
            # the next working day (if any) would be too late
            nxt = later[0]
            while nxt < ready_by and cal.capacity[0, nxt] == 0:
                nxt += 1
            if nxt < ready_by:
                assert cal.ready(rows, np.array([nxt]), work)[0] > ready_by
