"""Dated calendar anchors: the day an event falls on in a given year.

A sales event (``calendar_events.csv``) and a supplier shutdown (Chinese New Year) are both
anchored on a date that moves from year to year: a fixed day, the n-th weekday of a month, a
public holiday that the ``holidays`` package keeps (``CN:Chinese New Year (Spring Festival)``),
or a day of the Umm al-Qura calendar (``hijridate``). Hand-written date arithmetic for these goes
stale; this module is the one place that computes them, for every capability that needs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import Enum

# ``holidays`` and ``hijridate`` are imported where a date is computed: importing them (and
# the calendars ``holidays`` builds on import) costs every command, most of which never ask.

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
CHINESE_NEW_YEAR = "CN:Chinese New Year (Spring Festival)"
"""The ``holiday`` anchor of Chinese New Year's Day (the first day of the Spring Festival)."""


class DateAnchor(str, Enum):
    """How an event's anchor date is computed for a year."""

    FIXED = "fixed"
    NTH_WEEKDAY = "nth_weekday"
    HOLIDAY = "holiday"
    HIJRI = "hijri"


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7 + 7 * (-n - 1))


def _holiday_dates(param: str, years: list[int]) -> list[dt.date]:
    import holidays

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
    from hijridate import Gregorian, Hijri

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

    ``param``: ``fixed`` ``MM-DD``; ``nth_weekday`` ``MM:DOW:N`` (``07:TUE:2``, ``N`` = -1 for
    the last); ``holiday`` ``CC:Holiday name`` in English as the ``holidays`` package names it;
    ``hijri`` ``MM-DD`` of the Umm al-Qura calendar. Raises ``ValueError`` / ``KeyError`` /
    ``OverflowError`` for a parameter it cannot read or a year outside a calendar's range.
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


def chinese_new_year(years: Sequence[int]) -> list[dt.date]:
    """Chinese New Year's Day in each of ``years`` (``holidays``: 2026-02-17, 2027-02-06)."""
    return anchor_dates(DateAnchor.HOLIDAY, CHINESE_NEW_YEAR, years)
