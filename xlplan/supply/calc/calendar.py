"""The supplier calendar: each supplier's capacity day by day, and the order dates it implies.

A factory works at full capacity (1.0) except in windows: the Chinese New Year shutdown
(:data:`~xlplan.supply.calc.settings.ClosureKind.CNY_SHUTDOWN`: from ``cny_wind_down_days`` before
New Year's Day to ``cny_holiday_days`` after it, capacity 0), the weeks after it
(``CNY_RECOVERY``, at ``cny_recovery_capacity``), and closures the user enters (``CLOSURE``: a
supplier's own holiday, at the capacity given, 0 when blank). A window without a supplier applies
to every supplier; where windows overlap the lowest capacity wins.

Production of ``P`` days [d of full capacity] started on day ``o`` is ready on the first day
``r`` by which the capacity worked since ``o`` reaches ``P``. With ``C[d]`` the capacity worked
before day ``d`` (a running sum), ``r`` is the first day with ``C[r] - C[o] >= P``, and the
latest start for goods ready by day ``L`` is the last working day ``o`` with
``C[L] - C[o] >= P``. Both are binary searches over ``C``, vectorised over every order at once:
no loop runs per order. Days are integers counted from the calendar's ``origin``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from xlplan.supply.calc.settings import ClosureKind, SupplySettings

WINDOW_KEYS: tuple[str, ...] = ("supplier", "kind", "start", "end", "capacity", "note")
"""Columns of a windows table: ``supplier`` ("" = all), ``kind`` (:class:`ClosureKind`),
``start`` and ``end`` (inclusive dates), ``capacity`` [fraction], ``note``."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_EPS = 1e-9  # running sums of fractional capacities carry rounding noise


def supplier_key(names: Sequence[object] | npt.NDArray[np.object_] | pd.Series) -> pd.Series:
    """Supplier names compared without case or surrounding spaces ("" = no supplier named)."""
    values = pd.Series(np.asarray(names, dtype=object), dtype=object)
    return values.fillna("").astype(str).str.strip().str.casefold()


def cny_windows(new_years: Sequence[date], settings: SupplySettings) -> pd.DataFrame:
    """The Chinese New Year shutdown and recovery windows of every supplier, one pair per year.

    ``new_years`` are Chinese New Year's Days (:func:`xlplan.reference.dates.chinese_new_year`).
    """
    rows: list[tuple[object, ...]] = []
    for day in new_years:
        start = day - timedelta(days=settings.cny_wind_down_days)
        end = day + timedelta(days=settings.cny_holiday_days)
        rows.append(("", ClosureKind.CNY_SHUTDOWN.value, start, end, 0.0, day.isoformat()))
        if settings.cny_recovery_days > 0:
            rows.append(
                (
                    "",
                    ClosureKind.CNY_RECOVERY.value,
                    end + timedelta(days=1),
                    end + timedelta(days=settings.cny_recovery_days),
                    settings.cny_recovery_capacity,
                    day.isoformat(),
                )
            )
    return _windows(rows)


def _windows(rows: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(WINDOW_KEYS))
    for col in ("start", "end"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[s]")
    frame["capacity"] = frame["capacity"].astype(float)
    for col in ("supplier", "kind", "note"):
        frame[col] = frame[col].astype(object)
    return frame


def closure_windows(closures: pd.DataFrame) -> pd.DataFrame:
    """User closures (``supplier``, ``start``, ``end``, ``capacity`` NaN = 0, ``note``) as
    windows of kind ``closure``; rows without both dates are left out."""
    given = closures[closures["start"].notna() & closures["end"].notna()]
    return _windows(
        [
            (
                str(s or ""),
                ClosureKind.CLOSURE.value,
                a,
                b,
                0.0 if pd.isna(c) else float(c),
                str(n or ""),
            )
            for s, a, b, c, n in given[["supplier", "start", "end", "capacity", "note"]].itertuples(
                index=False, name=None
            )
        ]
    )


@dataclass(frozen=True)
class SupplierCalendar:
    """Capacity of each supplier day by day from ``origin`` for ``days`` days.

    Row 0 is the calendar of a route that names no supplier (windows for all suppliers only);
    ``suppliers`` maps each named supplier (:func:`supplier_key`) to its row.
    """

    origin: date
    days: int
    suppliers: dict[str, int]
    capacity: FloatArray  # K x days [fraction]
    cumulative: FloatArray  # K x (days + 1): capacity worked before each day [d]
    last_working: IntArray  # K x days: the latest day <= d with capacity > 0, -1 if none
    windows: pd.DataFrame

    def day(self, dates: npt.ArrayLike) -> IntArray:
        """Day numbers of dates (``datetime64``), counted from ``origin``."""
        values = np.asarray(dates, dtype="datetime64[D]")
        return (values - np.datetime64(self.origin, "D")).astype(np.int64)

    def date(self, days: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
        """Dates (``datetime64[D]``) of day numbers."""
        return np.datetime64(self.origin, "D") + np.asarray(days, dtype=np.int64)

    def rows(self, suppliers: Sequence[object] | pd.Series) -> IntArray:
        """The calendar row of each route's supplier (0 when it names none)."""
        found = supplier_key(suppliers).map(self.suppliers)
        return np.asarray(found.fillna(0).to_numpy(), dtype=np.int64)

    def _flat(self) -> tuple[FloatArray, float]:
        offset = float(self.days + 2)  # a row's running sum never exceeds ``days``
        k = self.cumulative.shape[0]
        return (self.cumulative + offset * np.arange(k)[:, None]).ravel(), offset

    def latest_start(self, rows: IntArray, ready_by: IntArray, production: FloatArray) -> IntArray:
        """The last working day production can start and be ready by day ``ready_by``.

        ``production`` [d of full capacity]. With no production the start is ``ready_by``
        itself; before the calendar's first day the calendar is not applied (nominal days).
        """
        n = self.days
        ready = np.clip(ready_by, 0, n)
        flat, offset = self._flat()
        target = self.cumulative[rows, ready] - production + _EPS
        pos = np.searchsorted(flat, target + offset * rows, side="right") - 1 - (n + 1) * rows
        start = np.minimum(pos, ready)
        inside = start >= 0
        worked = self.last_working[rows, np.clip(start, 0, n - 1)]
        start = np.where(inside & (worked >= 0), worked, start)
        nominal = ready_by - np.ceil(production).astype(np.int64)
        # not enough working days in the window: the order falls before it, at full capacity
        before = -1 - np.ceil(production - self.cumulative[rows, ready]).astype(np.int64)
        start = np.where(inside, start, np.minimum(nominal, before))
        start = np.where(ready_by > n, nominal, start)  # after the window: nominal too
        return np.where(production <= 0, ready_by, start).astype(np.int64)

    def ready(self, rows: IntArray, start: IntArray, production: FloatArray) -> IntArray:
        """The day production started on ``start`` is ready (the ship date)."""
        n = self.days
        first = np.clip(start, 0, n)
        flat, offset = self._flat()
        target = self.cumulative[rows, first] + production - _EPS
        pos = np.searchsorted(flat, target + offset * rows, side="left") - (n + 1) * rows
        beyond = target > self.cumulative[rows, n]
        late = n + np.ceil(target - self.cumulative[rows, n]).astype(np.int64)
        ready = np.where(beyond, late, np.maximum(pos, start))
        outside = (start < 0) | (start > n)
        ready = np.where(outside, start + np.ceil(production).astype(np.int64), ready)
        return np.where(production <= 0, start, ready).astype(np.int64)


def build_calendar(
    origin: date, days: int, windows: pd.DataFrame, suppliers: Sequence[object]
) -> SupplierCalendar:
    """The capacity of every supplier in ``suppliers`` (and of "no supplier") under
    ``windows`` (:data:`WINDOW_KEYS`), from ``origin`` for ``days`` days."""
    names = [k for k in supplier_key(suppliers).drop_duplicates() if k]
    index = {name: i + 1 for i, name in enumerate(names)}
    capacity = np.ones((len(names) + 1, days), dtype=float)
    start = (windows["start"].to_numpy(dtype="datetime64[D]") - np.datetime64(origin, "D")).astype(
        np.int64
    )
    end = (windows["end"].to_numpy(dtype="datetime64[D]") - np.datetime64(origin, "D")).astype(
        np.int64
    )
    owner = supplier_key(windows["supplier"]).tolist()
    level = windows["capacity"].to_numpy(dtype=float)
    # One slice per window (a handful a year), never per order.
    for a, b, who, c in zip(start, end, owner, level, strict=True):
        lo, hi = max(int(a), 0), min(int(b), days - 1)
        if hi < lo:
            continue
        rows = slice(None) if who == "" else ([index[who]] if who in index else [])
        capacity[rows, lo : hi + 1] = np.minimum(capacity[rows, lo : hi + 1], c)
    cumulative = np.concatenate(
        [np.zeros((capacity.shape[0], 1)), np.cumsum(capacity, axis=1)], axis=1
    )
    working = np.where(capacity > 0, np.arange(days)[None, :], -1)
    last_working = np.maximum.accumulate(working, axis=1).astype(np.int64)
    return SupplierCalendar(origin, days, index, capacity, cumulative, last_working, windows)
