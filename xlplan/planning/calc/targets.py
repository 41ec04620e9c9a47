"""Targets: align the three maps into one company target, split it into buckets, phase it by month.

Amounts are in CNY unless a table says otherwise; every rounding step works in a chosen ``unit``
[CNY] (1 = to the yuan, 10_000 = to the 万) and is exact *in units*: the rounded parts of a row are
whole multiples of the unit and their count of units sums to the row total's count of units.

Target lines (table ``target_lines``)
-------------------------------------
One row per claim an owner makes on the planning cube. A blank dimension means "all".

``map``            ``business`` | ``customer`` | ``product`` (:class:`PlanMap`)
``owner``          who answers for the line (free text)
``market``         market code (``MX``) or region code (``LATAM``); blank = all markets
``channel``        sales channel (``amazon``, ``mercado_libre``, ...); blank = all
``customer_tier``  ``large`` / ``mid`` / ``small`` or the user's own tiers; blank = all
``category``       category or product line; blank = all
``customer_type``  ``new`` | ``existing`` (:class:`CustomerType`); blank = both
``amount``         the owner's target for the cube [CNY]
``priority``       optional; lower comes first when claims are carved apart or cut
                   (default: row order)
``adjustment``     optional manual adjustment agreed in the alignment meeting [CNY] (default 0)

An owner's amount is read as the amount for their cube *net of* any earlier (higher-priority)
claim that intersects it. :func:`find_overlaps` lists those intersections with the amount at
stake so the owners can check they really agreed on that basis.

Buckets (output of :func:`reconcile`)
-------------------------------------
``bucket``         0-based id
``line``           the source row in ``target_lines`` (-1 for the unallocated bucket)
``map``            the source map, or ``unallocated`` for the gap the maps did not cover
``owner``, the five dimensions, copied from the line
``excludes``       the lines (comma-separated row numbers, 0-based) whose cubes are carved out
                   of this bucket, which is what makes the buckets disjoint
``entered``        amount + adjustment as entered [CNY]
``amount``         reconciled amount [CNY]; the column sums to the company target exactly (in units)

Monthly tables
--------------
Monthly figures are wide: one row per bucket, columns :data:`MONTH_COLUMNS` (``m01`` .. ``m12``)
[CNY], index kept from the input. Quarterly roll-ups use ``q1`` .. ``q4``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from xlplan.core.errors import concat_errors, empty_errors, errors_where
from xlplan.core.money import round_largest_remainder as round_largest_remainder  # re-exported
from xlplan.plan.dimensions import DIMENSIONS, CustomerType, PlanMap
from xlplan.plan.settings import ReconcileMethod

MONTH_COLUMNS: list[str] = [f"m{m:02d}" for m in range(1, 13)]
QUARTER_COLUMNS: list[str] = ["q1", "q2", "q3", "q4"]
BUCKET_COLUMNS: list[str] = [
    "bucket",
    "line",
    "map",
    "owner",
    *DIMENSIONS,
    "excludes",
    "entered",
    "amount",
]
UNALLOCATED = "unallocated"

MarketRegions = Mapping[str, str] | pd.Series | pd.DataFrame


class ReforecastMethod(str, Enum):
    """How a changed total is spread over the open months of an existing phasing."""

    EQUAL_INCREMENT = "equal_increment"
    PROPORTIONAL = "proportional"


class TargetLine(BaseModel):
    """One claim on the cube; the one-row case of the ``target_lines`` table."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=True)

    map: PlanMap
    owner: str = ""
    market: str = ""
    channel: str = ""
    customer_tier: str = ""
    category: str = ""
    customer_type: CustomerType | None = None
    amount: float = Field(description="[CNY]")
    priority: int | None = None
    adjustment: float = Field(0.0, description="[CNY]")


class AlignmentSettings(BaseModel):
    """Settings of one alignment run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    company_target: float = Field(description="[CNY]")
    method: ReconcileMethod = ReconcileMethod.KEEP
    unit: float = Field(1.0, gt=0, description="rounding unit [CNY]")


@dataclass(frozen=True)
class Alignment:
    """Everything the Alignment sheet shows."""

    map_totals: pd.DataFrame
    overlaps: pd.DataFrame
    buckets: pd.DataFrame
    gap: float
    errors: pd.DataFrame


def lines_frame(lines: Sequence[TargetLine]) -> pd.DataFrame:
    """The ``target_lines`` table for a list of :class:`TargetLine`."""
    rows = [line.model_dump() for line in lines]
    df = pd.DataFrame(rows, columns=list(TargetLine.model_fields))
    df["customer_type"] = df["customer_type"].fillna("")
    return df


# --------------------------------------------------------------------------------------------
# Rounding and spreading


def _half_away(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.sign(x) * np.floor(np.abs(x) + 0.5)
    return out


def _month_cols(df: pd.DataFrame) -> list[str]:
    cols = [c for c in MONTH_COLUMNS if c in df.columns]
    return cols if cols else [str(c) for c in df.columns]


def _as_weights(weights: pd.DataFrame | np.ndarray | Sequence[float], n_rows: int) -> np.ndarray:
    if isinstance(weights, pd.DataFrame):
        w = weights[_month_cols(weights)].to_numpy(dtype=float)
    else:
        w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = np.broadcast_to(w, (n_rows, w.shape[0]))
    return w


def spread_weighted(
    totals: pd.Series,
    weights: pd.DataFrame | np.ndarray | Sequence[float],
    *,
    unit: float | None = None,
    table: str = "monthly_plan",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spread each total over the months in proportion to weights.

    Parameters
    ----------
    totals : per-row totals [CNY]; negative totals (reductions) are spread the same way
    weights : a profile for every row (12 numbers) or one row of weights per total (rows x 12, a
        DataFrame with ``m01`` .. ``m12`` or an array), e.g. a seasonality index or last year's
        actuals [any unit, only the proportions count]; must be >= 0
    unit : when given, round by largest remainder so each row sums exactly to its total [CNY]

    Returns
    -------
    (monthly, errors): ``monthly`` has the index of ``totals`` and columns ``m01`` .. ``m12``
    [CNY]. Rows whose weights are all zero, negative or missing, or whose total is missing, are
    NaN, each with an error record (column ``weights`` or ``total``).
    """
    t = totals.to_numpy(dtype=float)
    w = _as_weights(weights, len(t))
    n = w.shape[1]
    negative: np.ndarray = np.asarray((w < 0).any(axis=1))
    missing_w: np.ndarray = np.asarray(np.isnan(w).any(axis=1))
    sums = np.where(np.isnan(w), 0.0, w).sum(axis=1)
    zero = (sums == 0) & ~negative & ~missing_w
    missing_t = np.isnan(t)
    bad = negative | missing_w | zero | missing_t
    safe = np.where(bad, 1.0, sums)
    out = t[:, None] * np.where(bad[:, None], np.nan, w) / safe[:, None]
    if unit is not None:
        out = round_largest_remainder(out, t, unit)
    cols = MONTH_COLUMNS[:n] if n <= 12 else [f"p{i + 1:02d}" for i in range(n)]
    monthly = pd.DataFrame(out, index=totals.index, columns=cols)
    errors = concat_errors(
        [
            errors_where(
                zero & ~missing_t,
                table=table,
                column="weights",
                zh="权重全为零，无法分摊",
                en="all weights are zero; nothing to spread over",
            ),
            errors_where(
                negative,
                table=table,
                column="weights",
                zh="权重不能为负数",
                en="weights must not be negative",
            ),
            errors_where(
                missing_w & ~negative,
                table=table,
                column="weights",
                zh="权重缺失",
                en="a weight is missing",
            ),
            errors_where(
                missing_t, table=table, column="total", zh="总额缺失", en="the total is missing"
            ),
        ]
    )
    return monthly, errors


def spread_equal(
    totals: pd.Series,
    *,
    periods: int = 12,
    unit: float | None = None,
    table: str = "monthly_plan",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spread each total evenly over ``periods`` months [CNY]; see :func:`spread_weighted`."""
    return spread_weighted(totals, np.ones(periods), unit=unit, table=table)


def reforecast(
    current: pd.DataFrame,
    new_totals: pd.Series,
    method: ReforecastMethod | str = ReforecastMethod.PROPORTIONAL,
    *,
    open_from: int = 1,
    unit: float | None = None,
    table: str = "monthly_plan",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spread a changed total over the open months of an existing phasing.

    Parameters
    ----------
    current : rows x ``m01`` .. ``m12`` [CNY], the phasing in force
    new_totals : the new full-year total per row [CNY] (aligned with ``current``'s index)
    method : ``equal_increment`` adds the same amount to every open month;
        ``proportional`` scales the open months by (new total - closed months) / open months
    open_from : first open month (1-12); months before it are closed (actuals) and kept as they are
    unit : when given, round the open months by largest remainder [CNY]

    Returns
    -------
    (monthly, errors). The change may be negative. With ``proportional`` a row whose open months
    are all zero has nothing to be proportional to: that row is NaN with an error record, as with
    all-zero weights.
    """
    method = ReforecastMethod(method)
    cols = _month_cols(current)
    cur = current[cols].to_numpy(dtype=float)
    k = min(max(open_from, 1), len(cols) + 1) - 1
    closed = cur[:, :k]
    opened = cur[:, k:]
    target_open = new_totals.reindex(current.index).to_numpy(dtype=float) - closed.sum(axis=1)
    if opened.shape[1] == 0:
        bad = np.abs(target_open) > 0
        return current[cols].copy(), errors_where(
            bad,
            table=table,
            column="total",
            zh="所有月份已关闭，无法调整总额",
            en="every month is closed; the total cannot change",
        )
    if method is ReforecastMethod.EQUAL_INCREMENT:
        delta = (target_open - opened.sum(axis=1)) / opened.shape[1]
        new_open = opened + delta[:, None]
        if unit is not None:
            new_open = round_largest_remainder(new_open, target_open, unit)
        errors = errors_where(
            np.isnan(target_open),
            table=table,
            column="total",
            zh="总额缺失",
            en="the total is missing",
        )
    else:
        sums = opened.sum(axis=1)
        zero_sum = sums == 0
        factor = target_open / np.where(zero_sum, 1.0, sums)
        new_open = np.where(zero_sum[:, None], np.nan, opened * factor[:, None])
        if unit is not None:
            new_open = round_largest_remainder(new_open, target_open, unit)
        errors = concat_errors(
            [
                errors_where(
                    zero_sum,
                    table=table,
                    column="weights",
                    zh="开放月份合计为零，无法按比例分摊",
                    en="the open months sum to zero; nothing to be proportional to",
                ),
                errors_where(
                    np.isnan(target_open),
                    table=table,
                    column="total",
                    zh="总额缺失",
                    en="the total is missing",
                ),
            ]
        )
    out = np.concatenate([closed, new_open], axis=1)
    return pd.DataFrame(out, index=current.index, columns=cols), errors


def quarterly(monthly: pd.DataFrame) -> pd.DataFrame:
    """Quarterly (OKR) roll-up: ``q1`` .. ``q4`` = sums of three months [CNY], index kept."""
    m = monthly[MONTH_COLUMNS].to_numpy(dtype=float)
    q = m.reshape(len(m), 4, 3).sum(axis=2)
    return pd.DataFrame(q, index=monthly.index, columns=QUARTER_COLUMNS)


def split_total(
    total: float,
    weights: pd.Series,
    *,
    unit: float | None = None,
    table: str = "buckets",
) -> tuple[pd.Series, pd.DataFrame]:
    """Split one total over buckets in proportion to ``weights`` (index kept) [CNY].

    With ``unit`` the parts are rounded by largest remainder and sum exactly to the total. All-zero
    (or negative, or missing) weights give NaN parts and an error record on row 0.
    """
    w = weights.to_numpy(dtype=float)
    monthly, errors = spread_weighted(
        pd.Series([total]), w[None, :] if len(w) else np.zeros((1, 0)), unit=None, table=table
    )
    parts = monthly.to_numpy()[0] if len(w) else np.zeros(0)
    if unit is not None and len(w):
        parts = round_largest_remainder(parts, np.array([total]), unit)
    return pd.Series(parts, index=weights.index, name="amount"), errors


def phase_buckets(
    buckets: pd.DataFrame,
    profiles: pd.DataFrame,
    *,
    amount: str = "amount",
    key: str = "market",
    unit: float | None = None,
    table: str = "buckets",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Phase every bucket's amount into 12 months by its market's profile.

    Parameters
    ----------
    buckets : one row per bucket with columns ``key`` (default ``market``) and ``amount`` [CNY]
    profiles : indexed by market, columns ``m01`` .. ``m12`` (a seasonality index or weights; only
        proportions count), e.g. from :func:`xlplan.calendar.seasonality_profiles`
    unit : rounding unit [CNY]; each bucket's months then sum exactly to its amount

    Returns
    -------
    (monthly, errors): ``buckets`` with ``m01`` .. ``m12`` appended [CNY]. A bucket whose market has
    no profile is NaN with an "unknown market" record; zero profiles give the zero-weights record.
    """
    keys = _text(buckets, key)
    known = np.isin(keys, profiles.index.astype(str).to_numpy())
    weights = profiles[MONTH_COLUMNS].reindex(keys).to_numpy(dtype=float, copy=True)
    weights[~known] = 1.0
    totals = pd.Series(buckets[amount].to_numpy(dtype=float), index=buckets.index)
    monthly, errors = spread_weighted(totals, weights, unit=unit, table=table)
    values = monthly.to_numpy(copy=True)
    values[~known] = np.nan
    out = buckets.copy()
    out[MONTH_COLUMNS] = values
    unknown = errors_where(
        ~known,
        table=table,
        column=key,
        zh=pd.Series(keys).map(lambda k: f"未知市场：{k}（无季节性曲线）"),
        en=pd.Series(keys).map(lambda k: f"unknown market: {k} (no seasonality profile)"),
    )
    return out, concat_errors([unknown, errors])


# --------------------------------------------------------------------------------------------
# Alignment


def _region_lookup(market_regions: MarketRegions | None) -> dict[str, str]:
    if market_regions is None:
        return {}
    if isinstance(market_regions, pd.DataFrame):
        series = market_regions["region"]
    elif isinstance(market_regions, pd.Series):
        series = market_regions
    else:
        return {str(k): str(v) for k, v in market_regions.items()}
    return {str(k): str(v) for k, v in series.items()}


def _text(lines: pd.DataFrame, column: str) -> np.ndarray:
    if column not in lines.columns:
        return np.full(len(lines), "", dtype=object)
    col = lines[column].astype(object).where(lines[column].notna(), "")
    return col.astype(str).str.strip().to_numpy(dtype=object)


def _number(lines: pd.DataFrame, column: str, default: float) -> np.ndarray:
    if column not in lines.columns:
        return np.full(len(lines), default, dtype=float)
    return pd.to_numeric(lines[column], errors="coerce").to_numpy(dtype=float)


def _given(lines: pd.DataFrame, column: str) -> np.ndarray:
    if column not in lines.columns:
        return np.zeros(len(lines), dtype=bool)
    raw = lines[column]
    blank = raw.isna() | (raw.astype(object).astype(str).str.strip() == "")
    return ~blank.to_numpy(dtype=bool)


def validate_target_lines(
    lines: pd.DataFrame, market_regions: MarketRegions | None = None
) -> pd.DataFrame:
    """Error records for the ``target_lines`` table (unknown map, customer type, market; no amount).

    Markets are checked only when ``market_regions`` (market -> region) is given; a region code is
    a valid market value.
    """
    maps = _text(lines, "map")
    ctype = _text(lines, "customer_type")
    market = _text(lines, "market")
    amount = _number(lines, "amount", np.nan)
    adjustment = _number(lines, "adjustment", 0.0)
    checks = [
        errors_where(
            ~np.isin(maps, [m.value for m in PlanMap]),
            table="target_lines",
            column="map",
            zh="地图必须是 business / customer / product 之一",
            en="map must be one of business / customer / product",
        ),
        errors_where(
            ~np.isin(ctype, ["", *(c.value for c in CustomerType)]),
            table="target_lines",
            column="customer_type",
            zh="客户类型必须是 new / existing 或留空",
            en="customer_type must be new / existing or blank",
        ),
        errors_where(
            np.isnan(amount),
            table="target_lines",
            column="amount",
            zh="目标金额缺失或不是数字",
            en="amount is missing or not a number",
        ),
        errors_where(
            np.isnan(adjustment) & _given(lines, "adjustment"),
            table="target_lines",
            column="adjustment",
            zh="调整额不是数字",
            en="adjustment is not a number",
        ),
    ]
    if market_regions is not None:
        regions = _region_lookup(market_regions)
        known = set(regions) | set(regions.values())
        unknown = (market != "") & ~np.isin(market, list(known))
        checks.append(
            errors_where(
                unknown,
                table="target_lines",
                column="market",
                zh=pd.Series(market).map(lambda m: f"未知市场或区域：{m}"),
                en=pd.Series(market).map(lambda m: f"unknown market or region: {m}"),
            )
        )
    return concat_errors(checks)


def map_totals(lines: pd.DataFrame) -> pd.DataFrame:
    """Per map: number of lines and total amount + adjustment [CNY], share of all maps [fraction].

    Indexed by map in the fixed order business, customer, product (all three always present).
    """
    maps = _text(lines, "map")
    entered = np.nan_to_num(_number(lines, "amount", np.nan)) + np.nan_to_num(
        _number(lines, "adjustment", 0.0)
    )
    frame = pd.DataFrame({"map": maps, "amount": entered})
    order = [m.value for m in PlanMap]
    grouped = frame.groupby("map", sort=False)["amount"].agg(["count", "sum"])
    out = grouped.reindex(order, fill_value=0).rename(columns={"count": "lines", "sum": "amount"})
    out["lines"] = out["lines"].astype("int64")
    out["amount"] = out["amount"].astype(float)
    total = out["amount"].sum()
    out["share"] = out["amount"] / total if total else np.nan
    out.index.name = "map"
    return out


def _intersects(lines: pd.DataFrame, regions: dict[str, str]) -> np.ndarray:
    """n x n: do the cubes of lines i and j intersect?"""
    n = len(lines)
    result = np.ones((n, n), dtype=bool)
    for dim in DIMENSIONS:
        v = _text(lines, dim)
        a, b = v[:, None], v[None, :]
        ok = (a == "") | (b == "") | (a == b)
        if dim == "market" and regions:
            r = np.array([regions.get(x, x) for x in v], dtype=object)
            ok |= (r[:, None] == b) | (a == r[None, :])
        result &= ok
    return result


def _meet(a: np.ndarray, b: np.ndarray, regions: dict[str, str]) -> np.ndarray:
    """The more specific of two intersecting dimension values."""
    a_region = np.isin(a, list(set(regions.values()))) if regions else np.zeros(len(a), bool)
    take_b = (a == "") | (a_region & (b != "") & (b != a))
    return np.where(take_b, b, a)


def _order(lines: pd.DataFrame) -> np.ndarray:
    """Positions of lines in priority order (lower priority number first, then row order)."""
    prio = _number(lines, "priority", np.nan)
    prio = np.where(np.isnan(prio), np.inf, prio)
    return np.lexsort((np.arange(len(lines)), prio))


def find_overlaps(lines: pd.DataFrame, market_regions: MarketRegions | None = None) -> pd.DataFrame:
    """Pairs of target lines whose cubes intersect: the places two owners may count the same sale.

    Returns one row per intersecting pair (``line_a`` < ``line_b``, 0-based rows) with
    ``map_a``, ``map_b``, ``owner_a``, ``owner_b``, ``between_maps`` (bool), the intersection cube
    in the five dimension columns (blank = all), ``amount_a``, ``amount_b`` [CNY] and
    ``amount_at_stake`` [CNY] = the smaller of the two absolute amounts, the most that can be
    counted twice. ``market_regions`` (market -> region) lets ``MX`` meet ``LATAM``.
    """
    regions = _region_lookup(market_regions)
    inter = _intersects(lines, regions)
    i, j = np.nonzero(np.triu(inter, k=1))
    maps = _text(lines, "map")
    owners = _text(lines, "owner")
    amount = np.nan_to_num(_number(lines, "amount", np.nan)) + np.nan_to_num(
        _number(lines, "adjustment", 0.0)
    )
    out = pd.DataFrame(
        {
            "line_a": i.astype("int64"),
            "line_b": j.astype("int64"),
            "map_a": maps[i],
            "map_b": maps[j],
            "owner_a": owners[i],
            "owner_b": owners[j],
            "between_maps": maps[i] != maps[j],
        }
    )
    for dim in DIMENSIONS:
        v = _text(lines, dim)
        out[dim] = _meet(v[i], v[j], regions)
    out["amount_a"] = amount[i]
    out["amount_b"] = amount[j]
    out["amount_at_stake"] = np.minimum(np.abs(amount[i]), np.abs(amount[j]))
    return out


def reconcile(
    lines: pd.DataFrame,
    company_target: float,
    method: ReconcileMethod | str = ReconcileMethod.KEEP,
    *,
    unit: float = 1.0,
    market_regions: MarketRegions | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn the maps' target lines into disjoint buckets that sum exactly to the company target.

    Parameters
    ----------
    lines : the ``target_lines`` table (see the module docstring)
    company_target : [CNY]; rounded to the unit first
    method : see :class:`ReconcileMethod`
    unit : rounding unit [CNY]; the reconciled amounts are whole units summing exactly to the target

    Returns
    -------
    (buckets, errors): ``buckets`` follows :data:`BUCKET_COLUMNS`, one per line in priority order,
    plus an ``unallocated`` bucket (``line`` = -1) when a gap remains. Disjointness: a bucket's
    cube is its line's cube minus the cubes of the earlier lines in ``excludes``. Records: a gap
    left unallocated (table ``alignment_settings``, column ``company_target``), every line the
    priority method cuts (column ``amount``), and ``pro_rata`` on lines summing to zero.
    """
    method = ReconcileMethod(method)
    regions = _region_lookup(market_regions)
    n = len(lines)
    order = _order(lines)
    entered_all = np.nan_to_num(_number(lines, "amount", np.nan)) + np.nan_to_num(
        _number(lines, "adjustment", 0.0)
    )
    entered = entered_all[order]
    target = float(_half_away(np.round(np.array([company_target / unit]), 9))[0] * unit)
    total = float(entered.sum())
    errors: list[pd.DataFrame] = []
    alloc = entered.copy()
    positions = order

    if method is ReconcileMethod.PRO_RATA:
        if total == 0:
            errors.append(
                errors_where(
                    np.array([True]),
                    table="alignment_settings",
                    column="company_target",
                    zh="各地图目标合计为零，无法按比例分配",
                    en="the maps' lines sum to zero; cannot scale them pro rata",
                )
            )
        else:
            alloc = entered * (target / total)
    elif method is ReconcileMethod.PRIORITY:
        before = np.concatenate([[0.0], np.cumsum(entered)[:-1]])
        room = np.maximum(target - before, 0.0)
        alloc = np.where(entered > 0, np.minimum(entered, room), entered)
        cut = alloc < entered
        errors.append(
            errors_where(
                cut,
                table="target_lines",
                column="amount",
                zh=pd.Series(entered - alloc).map(
                    lambda x: f"按优先级无法全额对齐：超出公司目标，削减 {x:,.0f}"
                ),
                en=pd.Series(entered - alloc).map(
                    lambda x: (
                        f"cannot be reconciled in full by priority: cut by {x:,.0f} "
                        "to fit the company target"
                    )
                ),
                positions=positions,
            )
        )

    gap = target - float(alloc.sum())
    has_gap = abs(gap) > unit / 2
    if has_gap:
        errors.append(
            errors_where(
                np.array([True]),
                table="alignment_settings",
                column="company_target",
                zh=f"各地图目标与公司目标相差 {gap:,.0f}，差额列为未分配",
                en=f"the maps differ from the company target by {gap:,.0f}; "
                "the difference is left unallocated",
            )
        )
    amounts = np.concatenate([alloc, [gap]]) if has_gap else alloc
    rounded = round_largest_remainder(amounts, np.array([target]), unit)

    inter = _intersects(lines, regions)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    earlier = inter & (rank[None, :] < rank[:, None])
    excludes = np.array(
        [",".join(str(j) for j in np.flatnonzero(earlier[i])) for i in order], dtype=object
    )
    buckets = pd.DataFrame(
        {
            "line": order.astype("int64"),
            "map": _text(lines, "map")[order],
            "owner": _text(lines, "owner")[order],
            **{dim: _text(lines, dim)[order] for dim in DIMENSIONS},
            "excludes": excludes,
            "entered": entered,
        }
    )
    if has_gap:
        extra = {c: "" for c in ["owner", *DIMENSIONS, "excludes"]}
        row = pd.DataFrame([{"line": -1, "map": UNALLOCATED, **extra, "entered": 0.0}])
        row["line"] = row["line"].astype("int64")
        buckets = pd.concat([buckets, row], ignore_index=True)
    buckets["amount"] = rounded
    buckets.insert(0, "bucket", np.arange(1, len(buckets) + 1, dtype=np.int64))  # as people count
    return buckets[BUCKET_COLUMNS], concat_errors(errors) if errors else empty_errors()


def align_targets(
    lines: pd.DataFrame,
    settings: AlignmentSettings,
    market_regions: MarketRegions | None = None,
) -> Alignment:
    """The whole alignment: map totals, overlaps, gap before reconciling, buckets and records.

    ``gap`` [CNY] = company target - sum of all lines (amount + adjustment), before reconciling.
    """
    errors = validate_target_lines(lines, market_regions)
    totals = map_totals(lines)
    overlaps = find_overlaps(lines, market_regions)
    buckets, rec_errors = reconcile(
        lines,
        settings.company_target,
        settings.method,
        unit=settings.unit,
        market_regions=market_regions,
    )
    gap = float(settings.company_target - totals["amount"].sum())
    return Alignment(
        map_totals=totals,
        overlaps=overlaps,
        buckets=buckets,
        gap=gap,
        errors=concat_errors([errors, rec_errors]),
    )
