"""Tracking: plan versus actual by month, attainment, run-rate forecast and what explains the gap.

Input tables
------------
``plan``     the monthly plan, either wide (one row per bucket, dimension columns and ``m01`` ..
             ``m12`` [CNY], as :mod:`xlplan.targets` writes it) or long (dimension columns,
             ``month``, ``plan`` [CNY])
``actuals``  long: dimension columns, ``month``, ``actual`` [CNY]; one row per pasted line, several
             rows for the same month and slice are added up

``month`` is a month of the plan year: an integer 1-12, or anything that reads as a date
(``2026-03``, ``2026-03-31``, an Excel date). Months outside the plan year are error records
(table ``actuals`` or ``plan``, column ``month``) and the row is left out. Dimension columns are
any of ``market``, ``channel``, ``customer_tier``, ``category``, ``customer_type``, ``owner``; a
blank value is its own slice.

``as_of`` is the last closed month (1-12); by default the latest month that has an actual. Actuals
after ``as_of`` are not counted. Nothing here reads the clock.

Output tables
-------------
:func:`attainment`  ``by`` columns, ``month``, ``plan``, ``actual``, ``attainment`` [fraction],
                    ``ytd_plan``, ``ytd_actual``, ``ytd_attainment`` [fraction]; actual columns are
                    NaN after ``as_of``
:func:`forecast`    ``by`` columns, ``full_year_plan``, ``ytd_plan``, ``ytd_actual``,
                    ``ytd_attainment``, ``recent_attainment``, ``remaining_plan``, ``forecast``,
                    ``forecast_attainment``, ``gap_to_close``, ``needed_per_month`` (see there)
:func:`explain_gap` ``dimension``, ``value``, ``ytd_plan``, ``ytd_actual``, ``variance``,
                    ``attainment``, ``share_of_gap``, ``rank``
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from xlplan.core import parse
from xlplan.core.errors import concat_errors, empty_errors, errors_where
from xlplan.core.money import round_half_up

MONTH_COLUMNS: list[str] = [f"m{m:02d}" for m in range(1, 13)]
TRACKING_DIMENSIONS: tuple[str, ...] = (
    "market",
    "channel",
    "customer_tier",
    "category",
    "customer_type",
    "owner",
)
FORECAST_COLUMNS: list[str] = [
    "full_year_plan",
    "ytd_plan",
    "ytd_actual",
    "ytd_attainment",
    "recent_attainment",
    "remaining_plan",
    "forecast",
    "forecast_attainment",
    "gap_to_close",
    "needed_per_month",
]
GAP_COLUMNS: list[str] = [
    "dimension",
    "value",
    "ytd_plan",
    "ytd_actual",
    "variance",
    "attainment",
    "share_of_gap",
    "rank",
]


def plan_months(
    month: pd.Series, plan_year: int, *, table: str = "actuals"
) -> tuple[pd.Series, pd.DataFrame]:
    """Read a ``month`` column as month numbers 1-12 of the plan year.

    Returns (months as ``Int64`` with ``<NA>`` where unusable, error records). Every form the
    one cell parser reads as a month (:func:`xlplan.core.parse.parse_months`): 1-12, ``3月``,
    ``2027-03``, ``2027年3月``, a date; a month of another year is reported, not moved.
    """
    years, months, unreadable = parse.parse_months(month, year=plan_year)
    missing = parse.blank_mask(month)
    wrong_year = ~unreadable & ~missing & (years != plan_year)
    result = np.where(~unreadable & ~missing & ~wrong_year, months, np.nan).astype(float)
    shown = month.astype(object).astype(str).to_numpy(dtype=object)
    shown[wrong_year] = [
        f"{y:04d}-{m:02d}" for y, m in zip(years[wrong_year], months[wrong_year], strict=True)
    ]
    bad = unreadable
    text = pd.Series(shown, dtype=object)
    errors = concat_errors(
        [
            errors_where(
                wrong_year,
                table=table,
                column="month",
                zh=text.map(lambda v: f"月份 {v} 不在计划年度 {plan_year} 内"),
                en=text.map(lambda v: f"month {v} is outside the plan year {plan_year}"),
            ),
            errors_where(
                bad,
                table=table,
                column="month",
                zh=text.map(lambda v: f"无法识别的月份：{v}"),
                en=text.map(lambda v: f"not a month of the plan year: {v}"),
            ),
            errors_where(
                missing, table=table, column="month", zh="月份缺失", en="month is missing"
            ),
        ]
    )
    return pd.Series(result, index=month.index).astype("Int64"), errors


def _dims(frame: pd.DataFrame) -> list[str]:
    return [d for d in TRACKING_DIMENSIONS if d in frame.columns]


def _text_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for c in columns:
        if c in frame.columns:
            col = frame[c].astype(object).where(frame[c].notna(), "")
            out[c] = col.astype(str).str.strip().astype(object)
        else:
            out[c] = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    return out


def _long(
    frame: pd.DataFrame, value: str, plan_year: int, table: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    dims = _dims(frame)
    if "month" not in frame.columns:
        cols = [c for c in MONTH_COLUMNS if c in frame.columns]
        wide = _text_columns(frame, dims)
        values = frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        n = len(frame)
        long = pd.DataFrame(
            {
                **{d: np.repeat(wide[d].to_numpy(dtype=object), len(cols)) for d in dims},
                "month": np.tile([int(c[1:]) for c in cols], n),
                value: values.reshape(-1),
            }
        )
        return long, empty_errors()
    months, errors = plan_months(frame["month"], plan_year, table=table)
    long = _text_columns(frame, dims)
    long["month"] = months
    long[value] = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
    long = long[months.notna().to_numpy()].reset_index(drop=True)
    long["month"] = long["month"].astype("int64")
    return long, errors


def _prepare(
    plan: pd.DataFrame, actuals: pd.DataFrame, plan_year: int, as_of: int | None
) -> tuple[pd.DataFrame, pd.DataFrame, int, pd.DataFrame]:
    p, p_err = _long(plan, "plan", plan_year, "plan")
    a, a_err = _long(actuals, "actual", plan_year, "actuals")
    a = a[a["actual"].notna()]
    if as_of is None:
        as_of = int(a["month"].max()) if len(a) else 0
    a = a[a["month"] <= as_of]
    return p, a, as_of, concat_errors([p_err, a_err])


def _months_by(
    p: pd.DataFrame, a: pd.DataFrame, by: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Groups (rows) and their plan and actual matrices, groups x 12 [CNY]."""
    keys = list(by)
    for frame in (p, a):
        for k in keys:
            if k not in frame.columns:
                frame[k] = ""
    groups = (
        pd.concat([p[keys], a[keys]], ignore_index=True).drop_duplicates().reset_index(drop=True)
        if keys
        else pd.DataFrame(index=[0])
    )
    if keys:
        groups = groups.sort_values(keys, kind="stable").reset_index(drop=True)

    def matrix(frame: pd.DataFrame, value: str) -> np.ndarray:
        if keys:
            pos = pd.MultiIndex.from_frame(groups[keys]).get_indexer(
                pd.MultiIndex.from_frame(frame[keys])
            )
        else:
            pos = np.zeros(len(frame), dtype=np.int64)
        out = np.zeros((len(groups), 12))
        month = frame["month"].to_numpy(dtype=np.int64) - 1
        np.add.at(out, (pos, month), np.nan_to_num(frame[value].to_numpy(dtype=float)))
        return out

    return groups, matrix(p, "plan"), matrix(a, "actual")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    safe = np.where(den == 0, 1.0, den)
    out: np.ndarray = np.where(den == 0, np.nan, num / safe)
    return out


def attainment(
    plan: pd.DataFrame,
    actuals: pd.DataFrame,
    plan_year: int,
    *,
    by: Sequence[str] = (),
    as_of: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plan, actual and attainment per month and year to date, per group of ``by`` columns.

    ``attainment`` = actual / plan [fraction] (NaN where the plan is 0); ``ytd_*`` accumulate from
    January through the month. Months after ``as_of`` have NaN actuals. Returns (table, errors).
    """
    p, a, as_of, errors = _prepare(plan, actuals, plan_year, as_of)
    groups, pm, am = _months_by(p, a, by)
    closed = np.arange(1, 13) <= as_of
    am = np.where(closed[None, :], am, np.nan)
    ytd_p = np.cumsum(pm, axis=1)
    ytd_a = np.cumsum(np.nan_to_num(am), axis=1)
    ytd_a = np.where(closed[None, :], ytd_a, np.nan)
    n = len(groups)
    out = groups.loc[np.repeat(np.arange(n), 12), list(by)].reset_index(drop=True)
    out["month"] = np.tile(np.arange(1, 13), n)
    out["plan"] = pm.reshape(-1)
    out["actual"] = am.reshape(-1)
    out["attainment"] = _ratio(am, pm).reshape(-1)
    out["ytd_plan"] = ytd_p.reshape(-1)
    out["ytd_actual"] = ytd_a.reshape(-1)
    out["ytd_attainment"] = _ratio(ytd_a, ytd_p).reshape(-1)
    return out, errors


def forecast(
    plan: pd.DataFrame,
    actuals: pd.DataFrame,
    plan_year: int,
    *,
    by: Sequence[str] = (),
    as_of: int | None = None,
    window: int = 3,
    unit: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run-rate full-year forecast and the gap to close, per group of ``by`` columns.

    The rule, with ``as_of`` = the last closed month *k*:

    - ``ytd_plan``, ``ytd_actual``: sums over months 1..k [CNY]
    - ``recent_attainment`` [fraction]: actual / plan summed over the last ``window`` closed months
      (max(1, k - window + 1)..k); if their plan sums to 0, the YTD attainment; if that is
      undefined too (no plan yet), 1.0
    - ``remaining_plan``: plan summed over months k+1..12 [CNY]
    - ``forecast`` = ``ytd_actual`` + ``remaining_plan`` x ``recent_attainment`` [CNY], rounded
      half-up to ``unit`` (the plan's rounding unit), like every target it is compared with
    - ``forecast_attainment`` = forecast / full-year plan [fraction]
    - ``gap_to_close`` = ``full_year_plan`` - ``forecast`` [CNY]: what must be won beyond the run
      rate (negative = ahead)
    - ``needed_per_month`` = (``full_year_plan`` - ``ytd_actual``) / (12 - k) [CNY/month], the
      average the open months must deliver to hit the plan (NaN when k = 12), rounded to ``unit``

    Returns (table, errors).
    """
    p, a, as_of, errors = _prepare(plan, actuals, plan_year, as_of)
    groups, pm, am = _months_by(p, a, by)
    month = np.arange(1, 13)
    closed = month <= as_of
    recent = closed & (month > as_of - max(window, 1))
    ytd_p = pm[:, closed].sum(axis=1)
    ytd_a = am[:, closed].sum(axis=1)
    rec_p = pm[:, recent].sum(axis=1)
    rec_a = am[:, recent].sum(axis=1)
    ytd_att = _ratio(ytd_a, ytd_p)
    rec_att = np.where(rec_p != 0, _ratio(rec_a, rec_p), ytd_att)
    rec_att = np.where(np.isnan(rec_att), 1.0, rec_att)
    remaining = pm[:, ~closed].sum(axis=1)
    full = pm.sum(axis=1)
    step = unit if unit > 0 else 1.0
    fc = round_half_up((ytd_a + remaining * rec_att) / step, 0) * step
    open_months = 12 - as_of
    out = groups[list(by)].copy()
    out["full_year_plan"] = full
    out["ytd_plan"] = ytd_p
    out["ytd_actual"] = ytd_a
    out["ytd_attainment"] = ytd_att
    out["recent_attainment"] = rec_att
    out["remaining_plan"] = remaining
    out["forecast"] = fc
    out["forecast_attainment"] = _ratio(fc, full)
    out["gap_to_close"] = full - fc
    needed = round_half_up((full - ytd_a) / open_months / step, 0) * step if open_months else np.nan
    out["needed_per_month"] = needed
    return out.reset_index(drop=True), errors


def explain_gap(
    plan: pd.DataFrame,
    actuals: pd.DataFrame,
    plan_year: int,
    *,
    dimensions: Sequence[str] | None = None,
    as_of: int | None = None,
    top: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The slices that explain most of the year-to-date gap, dimension by dimension.

    For each dimension (default: every tracking dimension the plan or actuals carry), the YTD plan
    and actual per value, ``variance`` = actual - plan [CNY], ``attainment`` [fraction] and
    ``share_of_gap`` = variance / total variance [fraction] (the shares of one dimension sum to 1;
    NaN when the total variance is 0). ``rank`` 1 is the slice that moved the total most in the
    direction of the total gap (largest shortfall when behind, largest overshoot when ahead).
    ``top`` keeps the first ranks of each dimension. Returns (table, errors).
    """
    p, a, as_of, errors = _prepare(plan, actuals, plan_year, as_of)
    dims = (
        list(dimensions)
        if dimensions is not None
        else sorted(set(_dims(p)) | set(_dims(a)), key=TRACKING_DIMENSIONS.index)
    )
    parts = []
    for dim in dims:  # one groupby per dimension (a handful), vectorised within
        groups, pm, am = _months_by(p, a, [dim])
        closed = np.arange(1, 13) <= as_of
        ytd_p = pm[:, closed].sum(axis=1)
        ytd_a = am[:, closed].sum(axis=1)
        variance = ytd_a - ytd_p
        total = variance.sum()
        direction = -1.0 if total < 0 else 1.0
        frame = pd.DataFrame(
            {
                "dimension": dim,
                "value": groups[dim].to_numpy(dtype=object),
                "ytd_plan": ytd_p,
                "ytd_actual": ytd_a,
                "variance": variance,
                "attainment": _ratio(ytd_a, ytd_p),
                "share_of_gap": variance / total if total else np.nan,
            }
        )
        frame = frame.iloc[np.argsort(-direction * variance, kind="stable")]
        frame["rank"] = np.arange(1, len(frame) + 1, dtype=np.int64)
        parts.append(frame if top is None else frame.head(top))
    if not parts:
        return pd.DataFrame(columns=GAP_COLUMNS), errors
    return pd.concat(parts, ignore_index=True)[GAP_COLUMNS], errors


def validate_actuals(
    actuals: pd.DataFrame, plan_year: int, markets: Iterable[str] | None = None
) -> pd.DataFrame:
    """Error records for the ``actuals`` table: months outside the plan year, unknown markets
    (when ``markets``, the known market codes, is given) and amounts that are not numbers."""
    checks = []
    if "month" in actuals.columns:
        checks.append(plan_months(actuals["month"], plan_year, table="actuals")[1])
    if "actual" in actuals.columns:
        _, not_number = parse.parse_numbers(actuals["actual"])
        checks.append(
            errors_where(
                not_number,
                table="actuals",
                column="actual",
                zh="实际金额不是数字",
                en="actual is not a number",
            )
        )
    if markets is not None and "market" in actuals.columns:
        codes = _text_columns(actuals, ["market"])["market"].reset_index(drop=True)
        unknown = (codes != "") & ~codes.isin(set(markets))
        checks.append(
            errors_where(
                unknown.to_numpy(),
                table="actuals",
                column="market",
                zh=codes.map(lambda m: f"未知市场：{m}"),
                en=codes.map(lambda m: f"unknown market: {m}"),
            )
        )
    return concat_errors(checks)
