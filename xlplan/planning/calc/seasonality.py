"""Calendar: regional sales events for a plan year and the monthly seasonality they imply.

Events (table ``calendar_events``, shipped in ``reference/data/calendar_events.csv``, editable)
-----------------------------------------------------------------------------------------
``event_key``      stable id (``black_friday_cyber_monday``)
``name_zh``, ``name_en``  display names
``markets``        where the event moves sales: market codes (``MX``), region codes (``LATAM``) or
                   ``ALL``, separated by spaces or commas
``uplift``         extra sales the whole event window brings, as a fraction of a normal month's
                   sales [fraction]; negative for a dip (Chinese New Year supply)
``anchor``         how the anchor date is computed for a year (:class:`DateAnchor`)
``anchor_param``   ``fixed``: ``MM-DD``; ``nth_weekday``: ``MM:DOW:N`` (``07:TUE:2`` = second
                   Tuesday of July, ``N`` = -1 for the last); ``holiday``: ``CC:Holiday name``
                   looked up in the ``holidays`` package in English (``US:Thanksgiving Day``);
                   ``hijri``: ``MM-DD`` in the Umm al-Qura calendar (``hijridate``;
                   ``09-01`` = 1 Ramadan)
``start_offset``, ``end_offset``  the event window, in days from the anchor, both inclusive [day]
``effective_from``, ``source``, ``note``  provenance

Seasonality profiles (output of :func:`seasonality_profiles`)
------------------------------------------------------------
Indexed by market (index name ``market``), columns ``m01`` .. ``m12``: a seasonality index
[fraction of an average month]: 1.0 is an average month, the twelve months sum to 12 (less when a
launch ramp leaves months at 0). Feed it to :func:`xlplan.targets.phase_buckets` as weights.

How a profile is built for market *m* and plan year *Y*:

1. Base: each month's days / (days in Y / 12), so February is a little lighter.
2. Every event that applies to *m* (its ``markets`` names *m*, *m*'s region, or ``ALL``) adds
   ``uplift`` x the share of its window's days that fall in the month. Windows are computed for the
   anchors of Y-1, Y and Y+1, so a window that crosses New Year counts only its days inside Y.
   Months are floored at 0, then the profile is scaled to sum to 12.
3. With last year's actuals (:func:`seasonality_profiles` ``actuals``): their own index, shifted by
   the calendar (this year's calendar index / last year's, so Ramadan moving 11 days is followed),
   is blended in with weight ``actuals_weight`` [fraction].
4. A market with a launch date gets 0 before launch and the ramp-up factors from the launch month
   (default :data:`RAMP_UP` = 25%, 50%, 75%, then 100%); the profile is *not* rescaled, so it sums
   to less than 12 and the phasing spreads the market's target over the live months only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
from hijridate import Gregorian, Hijri

from xlplan import reference
from xlplan.core import parse
from xlplan.core.errors import concat_errors, errors_where

MONTH_COLUMNS: list[str] = [f"m{m:02d}" for m in range(1, 13)]
EVENT_COLUMNS: list[str] = [
    "event_key",
    "name_zh",
    "name_en",
    "markets",
    "uplift",
    "anchor",
    "anchor_param",
    "start_offset",
    "end_offset",
    "effective_from",
    "source",
    "note",
]
WINDOW_COLUMNS: list[str] = [
    "event",
    "event_key",
    "name_zh",
    "name_en",
    "markets",
    "uplift",
    "anchor_date",
    "start",
    "end",
]
RAMP_UP: tuple[float, ...] = (0.25, 0.5, 0.75)
"""Share of a full month's sales in a new market's 1st, 2nd, 3rd month; 100% from the 4th."""

ALL_MARKETS = "ALL"
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

MarketRegions = Mapping[str, str] | pd.Series | pd.DataFrame


class DateAnchor(str, Enum):
    """How an event's anchor date is computed for a year."""

    FIXED = "fixed"
    NTH_WEEKDAY = "nth_weekday"
    HOLIDAY = "holiday"
    HIJRI = "hijri"


def read_calendar_events(path: str | Path | None = None) -> pd.DataFrame:
    """The events table (see the module docstring): the shipped one
    (:func:`xlplan.reference.calendar_events`), or a CSV of the same shape at ``path``."""
    if path is None:
        return reference.calendar_events()
    frame = pd.read_csv(path, keep_default_na=False, dtype=str, encoding="utf-8")
    for col in ("uplift", "start_offset", "end_offset"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


# --------------------------------------------------------------------------------------------
# Anchor dates


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7 + 7 * (-n - 1))


def _holiday_dates(param: str, years: list[int]) -> list[dt.date]:
    country, _, name = param.partition(":")
    try:
        table = holidays.country_holidays(country.strip(), years=years, language="en_US")
    except NotImplementedError:
        table = holidays.country_holidays(country.strip(), years=years)
    found = table.get_named(name.strip(), lookup="iexact")
    firsts: dict[int, dt.date] = {}
    for day in found:
        firsts[day.year] = min(day, firsts.get(day.year, day))
    return sorted(firsts.values())


def _hijri_dates(param: str, years: list[int]) -> list[dt.date]:
    month, day = (int(p) for p in param.split("-"))
    first = Gregorian(min(years), 1, 1).to_hijri().year
    last = Gregorian(max(years), 12, 31).to_hijri().year
    out = []
    for h_year in range(first, last + 1):
        d = Hijri(h_year, month, day).to_gregorian()
        out.append(dt.date(d.year, d.month, d.day))
    return out


def anchor_dates(anchor: DateAnchor | str, param: str, years: Sequence[int]) -> list[dt.date]:
    """The anchor dates of one event in the given Gregorian years (Hijri: every occurrence).

    Raises ``ValueError`` / ``KeyError`` / ``OverflowError`` for a parameter it cannot read or a
    year outside a calendar's range; :func:`event_windows` turns those into error records.
    """
    anchor = DateAnchor(anchor)
    ys = sorted(years)
    if anchor is DateAnchor.FIXED:
        month, day = (int(p) for p in param.split("-"))
        return [dt.date(y, month, day) for y in ys]
    if anchor is DateAnchor.NTH_WEEKDAY:
        month_s, dow, n_s = param.split(":")
        weekday = WEEKDAYS.index(dow.strip().upper()[:3])
        n = int(n_s)
        if n == 0 or abs(n) > 5:
            raise ValueError(param)
        return [_nth_weekday(y, int(month_s), weekday, n) for y in ys]
    if anchor is DateAnchor.HOLIDAY:
        dates = _holiday_dates(param, list(ys))
        if not dates:
            raise KeyError(param)
        return dates
    return [d for d in _hijri_dates(param, list(ys)) if ys[0] <= d.year <= ys[-1]]


def event_windows(events: pd.DataFrame, plan_year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every occurrence of every event whose window touches the plan year.

    Returns
    -------
    (windows, errors): ``windows`` follows :data:`WINDOW_COLUMNS`: ``event`` (row in ``events``),
    names, ``markets``, ``uplift`` [fraction], ``anchor_date``, ``start``, ``end`` (inclusive,
    ``datetime64``; not clipped to the year). Records for an anchor or parameter that cannot be
    read, a year the calendar cannot compute, and non-numeric uplift or offsets; those events add
    nothing.
    """
    rows: list[dict[str, object]] = []
    bad_anchor = np.zeros(len(events), dtype=bool)
    uplift = pd.to_numeric(events["uplift"], errors="coerce").to_numpy(dtype=float)
    start_off = pd.to_numeric(events["start_offset"], errors="coerce").to_numpy(dtype=float)
    end_off = pd.to_numeric(events["end_offset"], errors="coerce").to_numpy(dtype=float)
    bad_number = np.isnan(uplift) | np.isnan(start_off) | np.isnan(end_off) | (end_off < start_off)
    years = [plan_year - 1, plan_year, plan_year + 1]
    first, last = dt.date(plan_year, 1, 1), dt.date(plan_year, 12, 31)
    # A loop over the events (a dozen rows), not over buckets: each anchor rule is a different call.
    for i, ev in enumerate(events.itertuples(index=False)):
        if bad_number[i]:
            continue
        try:
            dates = anchor_dates(str(ev.anchor).strip(), str(ev.anchor_param), years)
        except (ValueError, KeyError, OverflowError, IndexError):
            bad_anchor[i] = True
            continue
        for d in dates:
            start = d + dt.timedelta(days=int(start_off[i]))
            end = d + dt.timedelta(days=int(end_off[i]))
            if end < first or start > last:
                continue
            rows.append(
                {
                    "event": i,
                    "event_key": str(ev.event_key),
                    "name_zh": str(ev.name_zh),
                    "name_en": str(ev.name_en),
                    "markets": str(ev.markets),
                    "uplift": float(uplift[i]),
                    "anchor_date": pd.Timestamp(d),
                    "start": pd.Timestamp(start),
                    "end": pd.Timestamp(end),
                }
            )
    windows = pd.DataFrame(rows, columns=WINDOW_COLUMNS)
    windows["event"] = windows["event"].astype("int64")
    windows["uplift"] = windows["uplift"].astype(float)
    for col in ("anchor_date", "start", "end"):
        windows[col] = pd.to_datetime(windows[col])
    keys = events["event_key"].astype(str).reset_index(drop=True)
    errors = concat_errors(
        [
            errors_where(
                bad_anchor,
                table="calendar_events",
                column="anchor_param",
                zh=keys.map(lambda k: f"无法计算 {k} 在 {plan_year} 年的日期"),
                en=keys.map(lambda k: f"cannot compute the date of {k} for {plan_year}"),
            ),
            errors_where(
                bad_number,
                table="calendar_events",
                column="uplift",
                zh="提升比例或起止天数不是数字（或结束早于开始）",
                en="uplift or offsets are not numbers (or the window ends before it starts)",
            ),
        ]
    )
    return windows, errors


def month_shares(windows: pd.DataFrame, plan_year: int) -> np.ndarray:
    """windows x 12: the share of each window's days that fall in each month of the plan year."""
    days = pd.date_range(f"{plan_year}-01-01", f"{plan_year}-12-31", freq="D")
    day = days.to_numpy()[None, :]
    start = windows["start"].to_numpy(dtype="datetime64[ns]")[:, None]
    end = windows["end"].to_numpy(dtype="datetime64[ns]")[:, None]
    inside = (day >= start) & (day <= end)
    month_of_day = np.eye(12)[days.month.to_numpy() - 1]
    counts = inside.astype(float) @ month_of_day
    length = (end - start).astype("timedelta64[D]").astype(float)[:, 0] + 1
    shares: np.ndarray = counts / length[:, None]
    return shares


# --------------------------------------------------------------------------------------------
# Profiles


def _regions(market_regions: MarketRegions) -> pd.Series:
    if isinstance(market_regions, pd.DataFrame):
        series = market_regions["region"]
    elif isinstance(market_regions, pd.Series):
        series = market_regions
    else:
        series = pd.Series(dict(market_regions), dtype=object)
    return pd.Series(
        series.astype(str).to_numpy(dtype=object), index=series.index.astype(str), dtype=object
    )


def _applies(markets: np.ndarray, regions: np.ndarray, windows: pd.DataFrame) -> np.ndarray:
    """markets x windows: does the window's event apply to the market?"""
    tokens = windows["markets"].astype(str).str.replace(",", " ").str.split()
    exploded = tokens.explode()
    which = np.repeat(np.arange(len(windows)), tokens.map(len).to_numpy(dtype=np.int64))
    tok = exploded.dropna().astype(str).str.upper().to_numpy(dtype=object)
    out = np.zeros((len(markets), len(windows)), dtype=bool)
    if len(tok) == 0:
        return out
    hit = (
        (tok[None, :] == markets[:, None])
        | (tok[None, :] == regions[:, None])
        | (tok[None, :] == ALL_MARKETS)
    )
    # A window applies when any of its tokens matches: token hits x token->window one-hot.
    onehot = np.eye(len(windows))[which]
    applies: np.ndarray = (hit.astype(float) @ onehot) > 0
    return applies


def calendar_index(
    markets: np.ndarray, regions: np.ndarray, events: pd.DataFrame, plan_year: int
) -> tuple[np.ndarray, pd.DataFrame]:
    """markets x 12 seasonality index from the events alone (steps 1-2 of the module docstring)."""
    windows, errors = event_windows(events, plan_year)
    days = pd.date_range(f"{plan_year}-01-01", f"{plan_year}-12-31", freq="D")
    days_in_month = np.bincount(days.month.to_numpy() - 1, minlength=12).astype(float)
    base = days_in_month / (len(days) / 12)
    effect = windows["uplift"].to_numpy(dtype=float)[:, None] * month_shares(windows, plan_year)
    applies = _applies(markets, regions, windows).astype(float)
    raw = np.maximum(base[None, :] + applies @ effect, 0.0)
    total = raw.sum(axis=1, keepdims=True)
    index: np.ndarray = 12 * raw / np.where(total == 0, 1.0, total)
    return index, errors


def _launch_offsets(
    launches: pd.Series, markets: pd.Index, plan_year: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per market: months from January of the plan year to launch (NaN = none) and bad flags.

    A launch month is a month of the plan year (``4``, ``4月``) or a year and month
    (``2027-04``, ``2027年4月``, a date), read by :func:`xlplan.core.parse.parse_months`; a launch
    after the plan year is bad, one before it means the market is already live."""
    aligned = launches.reindex(markets)
    given = ~parse.blank_mask(aligned)
    years, months, unreadable = parse.parse_months(aligned, year=plan_year)
    offset = ((years - plan_year) * 12 + months - 1).astype(float)
    bad = given & (unreadable | (offset > 11))
    offset[~given | bad] = np.nan
    return offset, bad


def ramp_factors(launch_offset: np.ndarray, ramp: Sequence[float] = RAMP_UP) -> np.ndarray:
    """markets x 12 factors [fraction] for launch months given as offsets from January of the plan
    year (0 = January, negative = launched before the year, NaN = not a new market)."""
    k = np.arange(12)[None, :] - launch_offset[:, None]
    curve = np.asarray(list(ramp) + [1.0], dtype=float)
    pos = np.clip(np.nan_to_num(k, nan=len(ramp)), 0, len(ramp)).astype(int)
    factors: np.ndarray = np.where(k < 0, 0.0, curve[pos])
    return np.where(np.isnan(k), 1.0, factors)


def seasonality_profiles(
    markets: Sequence[str] | pd.Index,
    plan_year: int,
    market_regions: MarketRegions,
    events: pd.DataFrame,
    *,
    actuals: pd.DataFrame | None = None,
    actuals_weight: float = 0.5,
    launches: pd.Series | None = None,
    ramp: Sequence[float] = RAMP_UP,
    table: str = "markets",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly seasonality index per market for the plan year (see the module docstring).

    Parameters
    ----------
    markets : market codes to build profiles for (rows of the output, in this order)
    plan_year : the Gregorian plan year, e.g. 2026
    market_regions : market -> region code (a mapping, a Series, or ``xlplan.reference.markets``'s
        DataFrame with a ``region`` column)
    events : the ``calendar_events`` table (:func:`read_calendar_events`)
    actuals : last year's sales, indexed by market, ``m01`` .. ``m12`` [CNY]; markets without a row
        or whose months sum to <= 0 use the calendar alone
    actuals_weight : weight of last year's shape in the blend [fraction, 0-1]
    launches : per market (index), the launch month: 1-12 (in the plan year) or a date / ``YYYY-MM``
    ramp : ramp-up factors for the first months after launch [fraction]

    Returns
    -------
    (profiles, errors). Records (table ``table``, row = position in ``markets``): unknown market
    (not in ``market_regions``; its profile then uses only events naming the market or ``ALL``),
    launch month outside the plan year (profile NaN); plus the ``calendar_events`` records.
    """
    codes = pd.Index([str(m) for m in markets], name="market")
    regions = _regions(market_regions)
    region_of = regions.reindex(codes)
    # A region code stands for itself, so profiles can be built per region too.
    is_region = codes.isin(set(regions.to_numpy()))
    region_of = region_of.where(~is_region, pd.Series(list(codes), index=codes, dtype=object))
    unknown = region_of.isna().to_numpy()
    region_arr = region_of.fillna("").astype(str).str.upper().to_numpy(dtype=object)
    market_arr = np.array([c.upper() for c in codes], dtype=object)

    index, errors = calendar_index(market_arr, region_arr, events, plan_year)
    if actuals is not None:
        ly = actuals.reindex(columns=MONTH_COLUMNS)
        ly.index = ly.index.astype(str)
        values = np.nan_to_num(ly.reindex(codes).to_numpy(dtype=float))
        total = values.sum(axis=1)
        usable = total > 0
        ly_index = 12 * values / np.where(usable, total, 1.0)[:, None]
        previous, _ = calendar_index(market_arr, region_arr, events, plan_year - 1)
        shifted = ly_index * index / np.where(previous > 0, previous, 1.0)
        s_total = shifted.sum(axis=1)
        shifted = 12 * shifted / np.where(s_total > 0, s_total, 1.0)[:, None]
        w = min(max(actuals_weight, 0.0), 1.0)
        blended = (1 - w) * index + w * shifted
        index = np.where((usable & (s_total > 0))[:, None], blended, index)

    bad_launch = np.zeros(len(codes), dtype=bool)
    if launches is not None:
        launch_series = launches.copy()
        launch_series.index = launch_series.index.astype(str)
        offsets, bad_launch = _launch_offsets(launch_series, codes, plan_year)
        index = index * ramp_factors(offsets, ramp)
        index[bad_launch] = np.nan

    profiles = pd.DataFrame(index, index=codes, columns=MONTH_COLUMNS)
    names = pd.Series(list(codes), dtype=object)
    errors = concat_errors(
        [
            errors_where(
                unknown,
                table=table,
                column="market",
                zh=names.map(lambda m: f"未知市场：{m}（不在市场参考表中）"),
                en=names.map(lambda m: f"unknown market: {m} (not in the market reference)"),
            ),
            errors_where(
                bad_launch,
                table=table,
                column="launch_month",
                zh=f"上线月份不在计划年度 {plan_year} 内",
                en=f"launch month is outside the plan year {plan_year}",
            ),
            errors,
        ]
    )
    return profiles, errors


def event_calendar(events: pd.DataFrame, plan_year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The events of the plan year for display: :data:`WINDOW_COLUMNS` plus ``m01`` .. ``m12``,
    each window's uplift spread over the months by days [fraction of a normal month]."""
    windows, errors = event_windows(events, plan_year)
    effect = windows["uplift"].to_numpy(dtype=float)[:, None] * month_shares(windows, plan_year)
    out = pd.concat(
        [windows, pd.DataFrame(effect, index=windows.index, columns=MONTH_COLUMNS)], axis=1
    )
    return out.sort_values(["start", "event"], kind="stable").reset_index(drop=True), errors


def plan_profiles(
    buckets: pd.DataFrame,
    plan_year: int,
    market_regions: MarketRegions,
    events: pd.DataFrame,
    *,
    amount: str = "amount",
    launches: pd.Series | None = None,
    actuals: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seasonality profiles for every ``market`` value of a table of buckets.

    A bucket names a market (``MX``), a region (``LATAM``) or nothing (all markets). Named keys get
    :func:`seasonality_profiles`. The blank key gets the plan's own market mix: the average of the
    named keys' profiles weighted by their buckets' ``amount`` [CNY]; when no bucket names a market,
    the calendar of events that apply everywhere (``ALL``). Returns (profiles indexed by key with
    ``m01`` .. ``m12``, errors); error rows are positions in ``buckets``.
    """
    keys = buckets["market"].fillna("").astype(str).str.strip().str.upper()
    named = [k for k in dict.fromkeys(keys) if k]
    profiles, errors = seasonality_profiles(
        named, plan_year, market_regions, events, launches=launches, actuals=actuals
    )
    if len(errors):  # map positions in ``named`` back to the first bucket with that key
        first = {k: int(np.flatnonzero(keys.to_numpy() == k)[0]) for k in named}
        errors = errors.assign(
            table="buckets",
            row=[first[named[r]] if r < len(named) else r for r in errors["row"]],
        )
    if (keys == "").any():
        weights = (
            pd.Series(pd.to_numeric(buckets[amount], errors="coerce").to_numpy(), index=keys)
            .clip(lower=0)
            .groupby(level=0)
            .sum()
            .reindex(profiles.index)
            .fillna(0.0)
        )
        usable = profiles.notna().all(axis=1) & (weights > 0)
        if usable.any():
            mix = (profiles[usable].mul(weights[usable], axis=0)).sum() / weights[usable].sum()
        else:
            everywhere, _ = seasonality_profiles(["ALL"], plan_year, {"ALL": "ALL"}, events)
            mix = everywhere.iloc[0]
        profiles.loc[""] = mix[MONTH_COLUMNS].to_numpy(dtype=float)
    return profiles, errors
