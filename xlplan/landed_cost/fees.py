"""Marketplace, fulfilment and payment fees from the dated fee tables, and prices solved with them.

Pure and vectorised: a table of lines in, a table of fees out (same index); one line is the
one-row case. The tables come from :func:`xlplan.reference.fees.load_fee_tables`; nothing here
reads files or rounds (money is rounded at the output boundary).

Per line [market ccy/unit], from :data:`FEE_INPUT_KEYS`:

``referral_fee``    Amazon: the referral schedule of (market, category) -- ``whole`` tiers re-rate
                    the whole price, ``marginal`` tiers add rate x the part of the price inside
                    each band -- floored at the minimum fee. TikTok Shop, Mercado Libre, Shopee:
                    every per-unit fee type of (channel, market, category, listing type) added up
                    (commission, transaction, fixed per-unit fees such as Mercado Livre's fixed
                    fee below R$79), each capped where its row says. A category the table does
                    not name takes the ``*`` rows; a blank ``listing_type`` takes the first
                    listing type of the table (Mercado Libre: classic).
``closing_fee``     Amazon's per-unit closing fee (media).
``fulfilment_fee``  Amazon FBA: the size tier is the first tier (in ``tier_order``) whose limits
                    the sorted dimensions and weight fit; the shipping weight is the unit weight
                    or max(unit, L x W x H / ``dim_divisor``) (sides taken as at least
                    ``min_side``), rounded up to ``round_step`` (``round_step_above`` from
                    ``round_step_from``); the fee is the row of that tier, weight band and price
                    band, plus ``overage_fee`` per started ``overage_step`` above
                    ``overage_above``.
``fuel_surcharge``  the FBA fuel and logistics surcharge: rate x fulfilment fee where in force.
``storage_fee``     monthly rate per cubic foot of the storage class (from the size tier) for
                    ``sell_month`` (blank: the average of the twelve months) x cubic feet x
                    ``months_in_stock``; ``aged_surcharge`` adds, for every month a unit spends
                    past 180 days, the aged-inventory rate of its age (the greater of the per
                    cubic foot and per-unit amounts).

The price-dependent fees of a line form a :class:`PriceSchedule`: a sum of piecewise linear
components of the price P. :func:`solve_price` finds the lowest price whose contribution
``k P - pct P - fees(P) - C`` reaches ``m k P``: on every segment between two breakpoints (band
edges, where a minimum fee or a cap starts to bind) the fees are linear, so the root of each
segment is exact; where a fee falls at a band edge (Mercado Livre's fixed fee stops at R$79) the
edge itself can be the answer. Every solved price is fed back through the schedule and kept only
when it reaches the margin (to 1e-9 of the price).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

import numpy as np
import pandas as pd

from xlplan.core.arrays import nan_to_num
from xlplan.core.columns import Columns, categorical, factorize
from xlplan.core.memo import derived
from xlplan.reference.fees import DEFAULT_CATEGORY, NUMBER_COLUMNS, FeeTables

FloatArray = np.ndarray

INCH_CM = 2.54
POUND_KG = 0.45359237
CUBIC_FOOT_CM3 = 28_316.846592
DAYS_PER_MONTH = 365.25 / 12
AMAZON = "Amazon"
TYPED = "typed"
GROUPED_SCHEDULES = 256
"""Up to this many distinct fee schedules, lines are priced and solved schedule by schedule
(a few scalars per schedule) rather than by gathering each line's edges."""
"""The rule id of a figure typed on the line (it overrides the tables)."""

FEE_INPUT_KEYS: tuple[str, ...] = (
    "channel",
    "market",
    "category",
    "listing_type",
    "price",
    "length_cm",
    "width_cm",
    "height_cm",
    "weight_kg",
    "months_in_stock",
    "sell_month",
)
"""Inputs: ``channel`` (as :data:`xlplan.reference.CHANNELS`), ``market`` (ISO2), ``category``
and ``listing_type`` (text as in the fee tables), ``price`` [market ccy/unit, the price the buyer
pays], dimensions [cm], ``weight_kg`` [kg], ``months_in_stock`` [months], ``sell_month``
[1-12, NaN = year average]."""

FEE_OUTPUT_KEYS: tuple[str, ...] = (
    "referral_fee",
    "closing_fee",
    "fulfilment_fee",
    "fuel_surcharge",
    "storage_fee",
    "aged_surcharge",
    "size_tier",
    "dim_weight_kg",
    "shipping_weight_kg",
    "cubic_feet",
    "referral_rule",
    "fulfilment_rule",
    "storage_rule",
    "fee_uncertain",
    "fee_flag",
    "fee_rules",
)
"""Outputs: fees [market ccy/unit]; ``size_tier``; weights [kg]; ``cubic_feet`` [ft3]; the
``*_rule`` ids (``file:line``; several joined by ``;``); ``fee_uncertain`` (a row used is marked
uncertain); ``fee_flag`` (:class:`FeeFlag` values joined by ``;``); ``fee_rules`` (every rule
id the line used)."""


class FeeFlag(str, Enum):
    """Why a fee could not come from the tables (the fee is then NaN)."""

    NO_REFERRAL_RULE = "no_referral_rule"
    NO_SIZE_TIER = "no_size_tier"
    NO_FULFILMENT_RULE = "no_fulfilment_rule"
    NO_STORAGE_RULE = "no_storage_rule"
    NO_DIMENSIONS = "no_dimensions"
    """An Amazon line without dimensions and weight, and without a typed last-mile figure:
    its FBA fees are not counted."""


# --------------------------------------------------------------------------------------------
# Piecewise linear fee schedules


@dataclass(frozen=True)
class Component:
    """One fee of each line as a function of the price: bands (n, T) and per-line limits (n,).

    In band t (``lo < P < hi``, each end included where ``*_closed``) the fee is ``rate x P +
    fixed`` (``whole``) or, summed over the bands, ``rate x`` the part of P inside the band
    (``marginal``); then at least ``floor`` and at most ``cap``.
    """

    lo: FloatArray
    hi: FloatArray
    lo_closed: np.ndarray
    hi_closed: np.ndarray
    rate: FloatArray
    fixed: FloatArray
    marginal: np.ndarray
    floor: FloatArray
    cap: FloatArray

    def at(self, price: FloatArray) -> FloatArray:
        """The fee at ``price`` (n,) or (n, K) [market ccy/unit]."""
        p = np.asarray(price, dtype=float)
        extra = p.ndim == 1
        if extra:
            p = p[:, None]
        pp = p[:, :, None]
        lo, hi = self.lo[:, None, :], self.hi[:, None, :]
        inside = ((pp > lo) | (self.lo_closed[:, None, :] & (pp == lo))) & (
            (pp < hi) | (self.hi_closed[:, None, :] & (pp == hi))
        )
        rate = self.rate[:, None, :]
        whole = np.where(inside, rate * pp + self.fixed[:, None, :], 0.0).sum(axis=2)
        with np.errstate(invalid="ignore"):
            part = np.clip(pp - lo, 0.0, np.maximum(hi - lo, 0.0))
        marg = np.where(np.isfinite(lo), rate * nan_to_num(part), 0.0).sum(axis=2)
        fee = np.where(self.marginal[:, None], marg, whole)
        fee = np.maximum(fee, self.floor[:, None])
        fee = np.minimum(fee, self.cap[:, None])
        return np.asarray(fee[:, 0] if extra else fee, dtype=float)

    def breakpoints(self) -> FloatArray:
        """Prices (n, B) where the fee may change slope or jump (NaN where none)."""
        first = self.rate[:, 0]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            floor_at = np.where(first > 0, self.floor / first, np.nan)
            cap_at = np.where(first > 0, self.cap / first, np.nan)
        edges = np.concatenate([self.lo, self.hi, floor_at[:, None], cap_at[:, None]], axis=1)
        return np.where(np.isfinite(edges) & (edges > 0), edges, np.nan)


def _component(
    n: int,
    bands: int,
) -> dict[str, np.ndarray]:
    return {
        "lo": np.full((n, bands), np.inf),
        "hi": np.full((n, bands), np.inf),
        "lo_closed": np.zeros((n, bands), dtype=bool),
        "hi_closed": np.zeros((n, bands), dtype=bool),
        "rate": np.zeros((n, bands)),
        "fixed": np.zeros((n, bands)),
        "marginal": np.zeros(n, dtype=bool),
        "floor": np.zeros(n),
        "cap": np.full(n, np.inf),
    }


class _Groups(NamedTuple):
    """Lines grouped by their distinct schedule: ``order`` puts them in schedule order, each
    of ``slices`` (schedule, start, stop) is one schedule's run in that order."""

    order: np.ndarray
    slices: list[tuple[int, int, int]]

    def back(self, values: FloatArray) -> FloatArray:
        """Values in schedule order back in the lines' order."""
        out = np.empty(len(values))
        out[self.order] = values
        return out


@dataclass(frozen=True)
class _Segments:
    """A sum of components as straight pieces: ``edges`` (U, B) sorted, NaN-padded; on piece s
    (between edge s-1 and edge s) the fee is ``slope x P + intercept``; at an edge, ``at_edge``."""

    edges: FloatArray
    slope: FloatArray
    intercept: FloatArray
    at_edge: FloatArray

    @staticmethod
    def of(parts: tuple[Component, ...], rows: int) -> _Segments:
        if not parts:
            zeros = np.zeros((rows, 1))
            return _Segments(np.full((rows, 0), np.nan), zeros, zeros, np.zeros((rows, 0)))
        edges = np.sort(np.concatenate([c.breakpoints() for c in parts], axis=1), axis=1)
        repeat = np.zeros(edges.shape, dtype=bool)
        repeat[:, 1:] = edges[:, 1:] == edges[:, :-1]
        edges = np.sort(np.where(repeat, np.nan, edges), axis=1)
        keep = ~np.isnan(edges).all(axis=0)
        edges = edges[:, keep]
        starts = np.concatenate([np.zeros((rows, 1)), edges], axis=1)
        ends = np.concatenate([edges, np.full((rows, 1), np.nan)], axis=1)
        s0 = np.where(np.isnan(starts), 0.0, starts)
        width = np.where(np.isnan(ends), 2.0, ends - s0)
        x1, x2 = s0 + width / 3.0, s0 + 2.0 * width / 3.0

        def total(p: FloatArray) -> FloatArray:
            out = np.zeros(p.shape)
            for c in parts:
                out = out + c.at(p)
            return out

        f1, f2 = total(x1), total(x2)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = (f2 - f1) / (x2 - x1)
        at_edge = total(np.where(np.isnan(edges), 0.0, edges))
        return _Segments(edges, slope, f1 - slope * x1, at_edge)

    def at_groups(self, groups: _Groups, price: FloatArray) -> FloatArray:
        """:meth:`at` for lines grouped by their distinct schedule: each group's edges are a
        few scalars, so the piece of each price is a binary search over them, run on the
        group's prices side by side (the lines in schedule order), nothing gathered per line
        and edge."""
        p = np.asarray(price, dtype=float)[groups.order]
        out = np.empty(len(p))
        for u, start, stop in groups.slices:
            edges = self.edges[u]
            edges = edges[~np.isnan(edges)]  # sorted; NaN padding at the end
            q = p[start:stop]
            piece = np.searchsorted(edges, q, side="left")  # edges below the price
            value = self.slope[u, piece] * q + self.intercept[u, piece]
            if len(edges):
                near = np.minimum(piece, len(edges) - 1)
                value = np.where(edges[near] == q, self.at_edge[u, near], value)
            out[start:stop] = value
        return groups.back(out)

    def at(self, owner: np.ndarray, price: FloatArray) -> FloatArray:
        """Fees of each line (distinct schedule ``owner``) at ``price`` (n,)."""
        p = np.asarray(price, dtype=float)
        piece = np.zeros(len(p), dtype=np.int64)
        on_edge = np.full(len(p), -1, dtype=np.int64)
        for j in range(self.edges.shape[1]):
            e = self.edges[owner, j]
            piece += p > e
            on_edge = np.where(p == e, j, on_edge)
        value = self.slope[owner, piece] * p + self.intercept[owner, piece]
        hit = on_edge >= 0
        if hit.any():
            value = np.where(hit, self.at_edge[owner, np.maximum(on_edge, 0)], value)
        return np.asarray(value, dtype=float)


_SEGMENTS: OrderedDict[Hashable, _Segments] = OrderedDict()
SEGMENTS_REMEMBERED = 256
"""Schedules of a few lines whose pieces are remembered by content: a one-line UDF builds
the same line's schedule on every call."""


def _segments(parts: tuple[Component, ...], rows: int) -> _Segments:
    """:meth:`_Segments.of`, remembered by the components' content when there are few rows
    (the pieces are read, never changed, by their users)."""
    if rows > 4:
        return _Segments.of(parts, rows)
    key = (
        rows,
        tuple(
            (a.shape, a.dtype.str, a.tobytes())
            for c in parts
            for a in (getattr(c, name) for name in c.__dataclass_fields__)
        ),
    )
    found = _SEGMENTS.get(key)
    if found is None:
        found = _SEGMENTS[key] = _Segments.of(parts, rows)
        if len(_SEGMENTS) > SEGMENTS_REMEMBERED:
            _SEGMENTS.popitem(last=False)
    else:
        _SEGMENTS.move_to_end(key)
    return found


@dataclass(frozen=True)
class PriceSchedule:
    """The price-dependent fees of n lines, by name (``referral``, ``fulfilment``, ``fuel``).

    Lines with the same fees share one schedule: each part holds the distinct schedules (U
    rows) and ``owner`` (n,) says which one each line uses.
    """

    parts: tuple[tuple[str, Component], ...]
    owner: np.ndarray
    distinct: int

    @property
    def size(self) -> int:
        return len(self.owner)

    @functools.cached_property
    def _pieces(self) -> dict[str, _Segments]:
        names = dict.fromkeys(name for name, _ in self.parts)
        out = {
            name: _segments(tuple(c for k, c in self.parts if k == name), self.distinct)
            for name in names
        }
        out[""] = _segments(tuple(c for _, c in self.parts), self.distinct)
        return out

    @functools.cached_property
    def groups(self) -> _Groups | None:
        """The lines in schedule order and each distinct schedule's run of them, when the
        lines share a few schedules (None when there are many: the per-line arrays are then
        read as they are)."""
        if self.distinct > GROUPED_SCHEDULES or self.distinct == 0:
            return None
        # A stable sort of small integers is a radix sort.
        order = np.argsort(self.owner.astype(np.int16), kind="stable")
        bounds = np.searchsorted(self.owner[order], np.arange(self.distinct + 1))
        slices = [
            (u, int(bounds[u]), int(bounds[u + 1]))
            for u in range(self.distinct)
            if bounds[u + 1] > bounds[u]
        ]
        return _Groups(order, slices)

    def at(self, price: FloatArray, name: str = "") -> FloatArray:
        """Fees of each line at ``price`` (n,) [market ccy/unit]: all of them, or the part
        ``name``."""
        pieces = self._pieces.get(name)
        if pieces is None:
            return np.zeros(np.shape(price))
        groups = self.groups
        if groups is not None and np.shape(price) == (self.size,):
            return pieces.at_groups(groups, price)
        return pieces.at(self.owner, price)

    def at_rows(self, price: FloatArray, rows: np.ndarray) -> FloatArray:
        """All the fees of the lines at positions ``rows`` at ``price`` (one per row)."""
        return self._pieces[""].at(self.owner[rows], price)


def solve_price(
    schedule: PriceSchedule,
    fixed: FloatArray,
    k: FloatArray | float,
    pct: FloatArray | float,
    margin: FloatArray | float,
) -> FloatArray:
    """The lowest price P [market ccy/unit] with ``k P - pct P - fees(P) - fixed >= m k P``.

    ``fixed`` [market ccy/unit]: costs that do not move with the price; ``k`` [fraction]: net
    price per unit of price; ``pct`` [fraction]: other costs proportional to the price;
    ``margin`` m [fraction]. NaN where no price reaches the margin (or an input is NaN).
    """
    n = schedule.size
    fixed = np.broadcast_to(np.asarray(fixed, dtype=float), (n,))
    alpha = (1.0 - np.broadcast_to(np.asarray(margin, dtype=float), (n,))) * np.broadcast_to(
        np.asarray(k, dtype=float), (n,)
    ) - np.broadcast_to(np.asarray(pct, dtype=float), (n,))
    seg = schedule._pieces[""]
    groups = schedule.groups
    if groups is not None:
        fixed_s, alpha_s = fixed[groups.order], alpha[groups.order]
        best_s = np.empty(n)
        for u, start, stop in groups.slices:
            best_s[start:stop] = _lowest_root(seg, u, fixed_s[start:stop], alpha_s[start:stop])
        best = groups.back(best_s)
    else:
        best = _lowest_roots(seg, schedule.owner, fixed, alpha)
    found = np.isfinite(best) & np.isfinite(fixed) & np.isfinite(alpha)
    best = np.where(found, best, np.nan)
    # Fed back through the schedule: a price that misses the margin is not reported.
    safe = nan_to_num(best)
    check = alpha * safe - schedule.at(safe) - fixed
    return np.where(found & (check >= -1e-9 * np.maximum(safe, 1.0)), best, np.nan)


def _lowest_root(seg: _Segments, u: int, fixed: FloatArray, alpha: FloatArray) -> FloatArray:
    """:func:`_lowest_roots` for lines that share the distinct schedule ``u``: its edges,
    slopes and intercepts are scalars (the same arithmetic, line by line)."""
    best = np.full(len(fixed), np.inf)
    width = seg.edges.shape[1]
    lo = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(width + 1):
            edge = float(seg.edges[u, j]) if j < width else np.nan
            hi = np.inf if np.isnan(edge) else edge
            denom = alpha - seg.slope[u, j]
            root = (fixed + seg.intercept[u, j]) / denom
            above = (root > lo) if j else (root >= 0.0)
            inside = (denom > 0) & above & (root < hi)
            best = np.where(inside & (root < best), root, best)
            if np.isnan(edge):  # the last piece: the edges are NaN-padded
                break
            # An edge that reaches the margin by itself (a fee that stops there).
            ok = alpha * edge - seg.at_edge[u, j] - fixed >= -1e-9 * max(edge, 1.0)
            best = np.where(ok & (edge < best), edge, best)
            lo = edge
    return best


def _lowest_roots(
    seg: _Segments, own: np.ndarray, fixed: FloatArray, alpha: FloatArray
) -> FloatArray:
    """The lowest price on any piece of each line's schedule (``own``) where the contribution
    reaches the margin (``inf`` where none)."""
    n = len(own)
    best = np.full(n, np.inf)
    width = seg.edges.shape[1]
    lo = np.zeros(n)
    alive = np.ones(n, dtype=bool)  # the piece starts at a real edge (edges are NaN-padded)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(width + 1):
            hi = seg.edges[own, j] if j < width else np.full(n, np.inf)
            hi = np.where(np.isnan(hi), np.inf, hi)
            denom = alpha - seg.slope[own, j]
            root = (fixed + seg.intercept[own, j]) / denom
            above = (root > lo) if j else (root >= 0.0)
            inside = alive & (denom > 0) & above & (root < hi)
            best = np.where(inside & (root < best), root, best)
            if j < width:
                # An edge that reaches the margin by itself (a fee that stops there).
                e = seg.edges[own, j]
                ok = alpha * e - seg.at_edge[own, j] - fixed >= -1e-9 * np.maximum(e, 1.0)
                best = np.where(ok & (e < best), e, best)
                alive = ~np.isnan(e)
                lo = np.where(alive, e, lo)
    return best


# --------------------------------------------------------------------------------------------
# Building the schedules from the tables


def _closure(bounds: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    text = bounds.astype(str).to_numpy()
    lo_closed = np.array([b.startswith("[") for b in text], dtype=bool)
    hi_closed = np.array([not b.endswith(")") for b in text], dtype=bool)
    return lo_closed, hi_closed


class _Bands(NamedTuple):
    """Band rows of a fee table as the schedules read them: price bounds (NaN read as 0 below
    and no limit above), whether each bound is inclusive, rate and fixed fee (NaN read as 0),
    the rule ids and whether any row is uncertain. Made once per rows (memoised with them), so
    a call reads arrays, not the table's columns."""

    lo: FloatArray
    hi: FloatArray
    lo_closed: np.ndarray
    hi_closed: np.ndarray
    rate: FloatArray
    fixed: FloatArray
    ids: list[str]
    uncertain: bool


def _bands(rows: pd.DataFrame) -> _Bands:
    lo_closed, hi_closed = _closure(rows["price_bounds"])
    lo = nan_to_num(rows["price_from"].to_numpy(dtype=float))
    hi = rows["price_to"].to_numpy(dtype=float)
    return _Bands(
        lo,
        np.where(np.isnan(hi), np.inf, hi),
        lo_closed | (lo == 0.0),
        hi_closed,
        nan_to_num(rows["rate"].to_numpy(dtype=float)),
        nan_to_num(rows["fixed_fee"].to_numpy(dtype=float)),
        rows["rule"].astype(str).tolist(),
        bool(rows["uncertain"].any()),
    )


def _typed_bands(rate: float) -> _Bands:
    """The one band of a typed referral rate: every price, no fixed fee."""
    return _Bands(
        np.zeros(1),
        np.full(1, np.inf),
        np.ones(1, dtype=bool),
        np.ones(1, dtype=bool),
        nan_to_num(np.full(1, rate)),
        np.zeros(1),
        [TYPED],
        False,
    )


def _fill_row(target: dict[str, np.ndarray], row_at: int, rows: _Bands) -> None:
    """Write the band rows ``rows`` into row ``row_at`` of the component arrays."""
    width = len(rows.lo)
    target["lo"][row_at, :width] = rows.lo
    target["hi"][row_at, :width] = rows.hi
    target["lo_closed"][row_at, :width] = rows.lo_closed
    target["hi_closed"][row_at, :width] = rows.hi_closed
    target["rate"][row_at, :width] = rows.rate
    target["fixed"][row_at, :width] = rows.fixed


class _Keyed(NamedTuple):
    codes: np.ndarray
    keys: list[tuple[str, ...]]


def _factorise(*columns: np.ndarray) -> _Keyed:
    """Group codes of the distinct combinations of columns (in order of appearance); the keys
    as text (NaN as ``nan``)."""
    combined = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    uniques = []
    for column in columns:
        codes, values = factorize(np.asarray(column, dtype=object), use_na_sentinel=False)
        combined = combined * (len(values) + 1) + codes
        uniques.append((codes, values))
    group = factorize(combined)[0]
    first = _first_rows(group)
    keys = [tuple(str(values[codes[i]]) for codes, values in uniques) for i in first]
    return _Keyed(np.asarray(group, dtype=np.int64), keys)


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """The first row of each code of a factorisation (codes 0..k-1 in order of appearance)."""
    k = int(codes.max()) + 1 if len(codes) else 0
    first = np.empty(k, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _take(c: Component, rows: np.ndarray) -> Component:
    return Component(**{k: getattr(c, k)[rows] for k in c.__dataclass_fields__})


def _flag_text(flags: list[tuple[np.ndarray, FeeFlag]], n: int) -> np.ndarray:
    code = np.zeros(n, dtype=np.int64)
    for bit, (mask, _) in enumerate(flags):
        code |= mask.astype(np.int64) << bit
    texts = np.array(
        [
            ";".join(f.value for bit, (_, f) in enumerate(flags) if value >> bit & 1)
            for value in range(1 << len(flags))
        ],
        dtype=object,
    )
    return np.asarray(texts[code], dtype=object)


class FeeResult(NamedTuple):
    """``outputs``: :data:`FEE_OUTPUT_KEYS`, one row per line (same index); ``schedule``: the
    price-dependent fees for :func:`solve_price`; ``fixed_fees`` [market ccy/unit]: the fees
    that do not move with the price (closing fee, storage, aged surcharge; FBA fees move with
    the price band and are in the schedule)."""

    outputs: pd.DataFrame
    schedule: PriceSchedule
    fixed_fees: FloatArray


class FeeColumns(NamedTuple):
    """:class:`FeeResult` with its ``outputs`` as columns by position (:data:`FEE_OUTPUT_KEYS`
    in order; numbers float arrays, texts categoricals), no frame around them."""

    columns: dict[str, np.ndarray | pd.Categorical]
    schedule: PriceSchedule
    fixed_fees: FloatArray


def compute_fees(
    lines: pd.DataFrame, tables: FeeTables, *, default_months: float = 1.0
) -> FeeResult:
    """Fees of every line from the tables (see the module docstring and
    :func:`fee_columns`), the outputs as a frame with the index of ``lines``."""
    result = fee_columns(Columns.of(lines), tables, default_months=default_months)
    out = pd.DataFrame(result.columns, copy=False)
    out.index = lines.index
    return FeeResult(out, result.schedule, result.fixed_fees)


def fee_columns(lines: Columns, tables: FeeTables, *, default_months: float = 1.0) -> FeeColumns:
    """Fees of every line from the tables (see the module docstring).

    ``lines`` holds :data:`FEE_INPUT_KEYS` as columns: texts as ``str`` (``""`` where blank),
    numbers as float (NaN where blank). A blank ``months_in_stock`` counts ``default_months``
    [months].
    Optional typed figures override the tables on their line (rule id ``typed``):
    ``referral_rate`` [fraction] with ``referral_min`` [market ccy/unit] replace the referral or
    commission schedule; ``last_mile_per_unit`` replaces the FBA fee and its surcharge;
    ``storage_per_unit`` replaces storage and the aged-inventory surcharge. Only the
    distinct fee inputs (everything but the price) are looked up; the price-dependent fees are
    then read off each line's schedule at its price.
    """
    n = lines.n
    owner, first = _distinct_inputs(lines)
    # The distinct inputs' rows (only read): every line, in order, when all are distinct.
    every = len(first) == n and bool((first == np.arange(n)).all())
    t = lines if every else lines.rows(first)
    text = {
        c: np.asarray(t.columns[c], dtype=object)
        for c in ("channel", "market", "category", "listing_type")
    }

    def typed(key: str) -> FloatArray:
        if key not in t.columns:
            return np.full(t.n, np.nan)
        return np.asarray(t.columns[key], dtype=float)

    ref = _referral(text, (typed("referral_rate"), typed("referral_min")), tables)
    tier = _size_tier(t, text["market"], text["channel"], tables)
    fba = _fulfilment(tier, text["market"], tables)
    storage, aged, storage_rule, storage_uncertain, st_missing = _storage(
        t, tier, text["market"], tables, default_months
    )
    # Typed last-mile and storage figures override the FBA and storage tables.
    own_mile, own_storage = typed("last_mile_per_unit"), typed("storage_per_unit")
    mile_typed, storage_typed = ~np.isnan(own_mile), ~np.isnan(own_storage)
    fba.amount[mile_typed] = np.nan
    fba.missing[mile_typed] = False
    fba.rule[mile_typed] = TYPED
    fba.uncertain[mile_typed] = False
    storage = np.where(storage_typed, 0.0, storage)
    aged = np.where(storage_typed, 0.0, aged)
    storage_rule = np.where(storage_typed, TYPED, storage_rule)
    st_missing = st_missing & ~storage_typed
    storage_uncertain = storage_uncertain & ~storage_typed

    # One schedule per distinct (referral group, FBA group, FBA amounts).
    sched = _schedules(ref.code, fba.code, fba.amount)
    head = _first_rows(sched)
    parts: list[tuple[str, Component]] = [("referral", _take(c, ref.code[head])) for c in ref.parts]
    fee_part = _take(fba.bands, fba.code[head])
    amounts = fba.amount[head]
    fee_arrays = {k: getattr(fee_part, k) for k in fee_part.__dataclass_fields__}
    fee_arrays["lo"] = np.where(np.isnan(amounts), np.inf, fee_arrays["lo"])
    fee_arrays["fixed"] = nan_to_num(amounts)
    fuel_arrays = dict(fee_arrays)
    fuel_arrays["fixed"] = fee_arrays["fixed"] * fba.fuel_rate[fba.code[head]][:, None]
    parts += [("fulfilment", Component(**fee_arrays)), ("fuel", Component(**fuel_arrays))]
    schedule = PriceSchedule(tuple(parts), sched[owner], len(head))

    price = np.asarray(lines.columns["price"], dtype=float)
    ref_missing = ref.missing[ref.code]
    closing = ref.closing[ref.code]
    fixed_fees = closing + nan_to_num(storage) + nan_to_num(aged)
    uncertain = ref.uncertain[ref.code] | tier.uncertain | fba.uncertain | storage_uncertain
    flags = _flag_text(
        [
            (ref_missing, FeeFlag.NO_REFERRAL_RULE),
            (tier.missing & ~mile_typed, FeeFlag.NO_SIZE_TIER),
            (fba.missing, FeeFlag.NO_FULFILMENT_RULE),
            (st_missing, FeeFlag.NO_STORAGE_RULE),
            (
                (text["channel"] == AMAZON) & ~mile_typed & ~_sized(t),
                FeeFlag.NO_DIMENSIONS,
            ),
        ],
        t.n,
    )
    # The row that prices the line at its own price names the FBA figures: each line's band
    # (0 = none), then every (distinct inputs, band) pair's rule text, looked up once.
    band = np.zeros(n, dtype=np.int64)
    groups = fba.code[owner]
    for j in range(fba.amount.shape[1]):
        lo, hi = fba.bands.lo[groups, j], fba.bands.hi[groups, j]
        inside = ((price > lo) | (fba.bands.lo_closed[groups, j] & (price == lo))) & (
            (price < hi) | (fba.bands.hi_closed[groups, j] & (price == hi))
        )
        band = np.where(inside, j + 1, band)
    fba_missing = fba.missing[owner]
    own = mile_typed[owner]
    by_band = np.concatenate([np.full((t.n, 1), "", dtype=object), fba.rule], axis=1)
    by_band[mile_typed, :] = TYPED
    referral_rules = ref.rule[ref.code]
    joined = np.empty(by_band.shape, dtype=object)
    for u in range(t.n):
        for j in range(by_band.shape[1]):
            joined[u, j] = ";".join(
                x for x in (referral_rules[u], by_band[u, j], storage_rule[u]) if x
            )
    # (distinct inputs, band) pairs as one position into the flattened tables.
    pair = owner * by_band.shape[1] + band

    def each(values: np.ndarray) -> np.ndarray:
        return np.asarray(np.asarray(values)[owner])

    # Typed figures are read per line (only whether they are typed is a distinct input).
    def line_value(key: str) -> FloatArray:
        if key not in lines.columns:
            return np.full(n, np.nan)
        return np.asarray(lines.columns[key], dtype=float)

    line_mile, line_storage = line_value("last_mile_per_unit"), line_value("storage_per_unit")
    typed_storage = storage_typed[owner]

    out: dict[str, np.ndarray | pd.Categorical] = {
        "referral_fee": np.where(ref_missing[owner], np.nan, schedule.at(price, "referral")),
        "closing_fee": each(closing),
        "fulfilment_fee": np.where(
            own,
            line_mile,
            np.where(fba_missing, np.nan, schedule.at(price, "fulfilment")),
        ),
        "fuel_surcharge": np.where(fba_missing, np.nan, schedule.at(price, "fuel")),
        "storage_fee": np.where(typed_storage, line_storage, each(storage)),
        "aged_surcharge": each(aged),
        "size_tier": _each_text(tier.name, owner),
        "dim_weight_kg": each(tier.dim_weight_kg),
        "shipping_weight_kg": each(tier.shipping_weight_kg),
        "cubic_feet": each(tier.cubic_feet),
        "referral_rule": _each_text(referral_rules, owner),
        "fulfilment_rule": _each_text(by_band.ravel(), pair),
        "storage_rule": _each_text(storage_rule, owner),
        "fee_uncertain": each(uncertain),
        "fee_flag": _each_text(flags, owner),
        "fee_rules": _each_text(joined.ravel(), pair),
    }
    typed_costs = np.where(own, line_mile, 0.0) + np.where(typed_storage, line_storage, 0.0)
    return FeeColumns(out, schedule, each(fixed_fees) + typed_costs)


def _schedules(referral: np.ndarray, fulfilment: np.ndarray, amount: FloatArray) -> np.ndarray:
    """Codes of the distinct (referral group, FBA group, FBA amounts) of the distinct inputs,
    in order of appearance."""
    if len(referral) <= 1:
        return np.zeros(len(referral), dtype=np.int64)
    key = pd.DataFrame({"r": referral, "f": fulfilment})
    for j in range(amount.shape[1]):
        key[f"a{j}"] = amount[:, j]
    hashed = pd.util.hash_pandas_object(key, index=False).to_numpy()
    return np.asarray(factorize(hashed)[0], dtype=np.int64)


def _each_text(values: np.ndarray, owner: np.ndarray) -> pd.Categorical:
    """``values[owner]`` for every line as a categorical: the few distinct texts are stored
    once, not a string object per line."""
    cells = np.asarray(values, dtype=object)
    if len(cells) == 1 and isinstance(cells[0], str):  # one text: nothing to factorise
        codes, distinct = np.zeros(1, dtype=np.intp), cells
    else:
        codes, distinct = factorize(cells)
    return categorical(codes[owner], distinct)


def _sized(t: Columns) -> np.ndarray:
    cols = ["length_cm", "width_cm", "height_cm", "weight_kg"]
    sized = np.ones(t.n, dtype=bool)
    for c in cols:
        sized &= np.isfinite(np.asarray(t.columns[c], dtype=float))
    return sized


_PRESENCE_INPUTS = ("last_mile_per_unit", "storage_per_unit")
"""Inputs whose value the lookups never read, only whether it is typed."""

_TEXT_INPUTS = ("channel", "market", "category", "listing_type")
_NUMBER_INPUTS = (
    "length_cm",
    "width_cm",
    "height_cm",
    "weight_kg",
    "months_in_stock",
    "sell_month",
    "referral_rate",
    "referral_min",
    "last_mile_per_unit",
    "storage_per_unit",
)


def _distinct_inputs(lines: Columns) -> tuple[np.ndarray, np.ndarray]:
    """Each line's distinct fee inputs (all but the price): (owner per line, first line of
    each)."""
    n = lines.n
    if n <= 1:  # no line or one: nothing to share (a one-line UDF's case)
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    key = np.zeros(n, dtype=np.uint64)
    prime = np.uint64(1_099_511_628_211)
    with np.errstate(over="ignore"):
        for c in _TEXT_INPUTS:
            codes = factorize(lines.columns[c], use_na_sentinel=False)[0]
            key = key * prime + codes.astype(np.uint64)
        for c in _NUMBER_INPUTS:
            if c not in lines.columns:
                continue
            values = np.ascontiguousarray(np.asarray(lines.columns[c], dtype=float))
            if c in _PRESENCE_INPUTS:
                values = np.where(np.isnan(values), np.nan, 0.0)
            key = key * prime + pd.util.hash_array(values)
    owner = np.asarray(factorize(key)[0], dtype=np.int64)
    return owner, _first_rows(owner)


class _Referral(NamedTuple):
    """Per distinct (channel, market, category, listing type) group: its components (G rows),
    rule ids, closing fee, uncertainty, and whether the channel's tables miss it; ``code``
    maps each line to its group."""

    code: np.ndarray
    parts: tuple[Component, ...]
    rule: np.ndarray
    closing: FloatArray
    uncertain: np.ndarray
    missing: np.ndarray


def _referral(
    text: dict[str, np.ndarray], typed: tuple[FloatArray, FloatArray], tables: FeeTables
) -> _Referral:
    own_rate, own_min = typed
    keyed = _factorise(
        text["channel"],
        text["market"],
        text["category"],
        text["listing_type"],
        own_rate.astype(object),
        own_min.astype(object),
    )
    plans: list[_Plan] = []
    closing_of: list[float] = []
    missing_of: list[bool] = []
    for ch, mk, cat, lst, rate_text, min_text in keyed.keys:
        parts: _Plan = []
        closing = 0.0
        missing = False
        if rate_text != "nan":  # a typed referral rate overrides the tables
            floor = 0.0 if min_text == "nan" else float(min_text)
            parts.append((_typed_bands(float(rate_text)), floor, np.inf, False))
        else:
            parts, closing, missing = derived(
                tables,
                ("referral", ch, mk, cat, lst),
                functools.partial(_table_referral, tables, ch, mk, cat, lst),
            )
        plans.append(parts)
        closing_of.append(closing)
        missing_of.append(missing)
    groups = len(keyed.keys)
    width = max((len(p) for p in plans), default=0)
    bands = max((len(r.lo) for p in plans for r, *_ in p), default=1)
    arrays = [_component(groups, bands) for _ in range(width)]
    rule = np.full(groups, "", dtype=object)
    uncertain = np.zeros(groups, dtype=bool)
    for g, plan in enumerate(plans):
        ids: list[str] = []
        for j, (rows, floor, cap, marginal) in enumerate(plan):
            _fill_row(arrays[j], g, rows)
            arrays[j]["floor"][g] = floor
            arrays[j]["cap"][g] = cap
            arrays[j]["marginal"][g] = marginal
            ids.extend(rows.ids)
            uncertain[g] |= rows.uncertain
        rule[g] = ";".join(ids)
    return _Referral(
        keyed.codes,
        tuple(Component(**a) for a in arrays),
        rule,
        np.asarray(closing_of, dtype=float),
        uncertain,
        np.asarray(missing_of, dtype=bool),
    )


_Plan = list[tuple[_Bands, float, float, bool]]


def _table_referral(
    tables: FeeTables, ch: str, mk: str, cat: str, lst: str
) -> tuple[_Plan, float, bool]:
    """The referral or commission schedule of (channel, market, category, listing type) from
    the tables: its (band rows, floor, cap, marginal) parts, closing fee, and whether the
    channel's tables miss it."""
    ref, com = tables.referral, tables.commissions
    parts: _Plan = []
    closing = 0.0
    missing = False
    if ch == AMAZON:
        mine = ref[ref["marketplace"] == mk]
        rows = mine[mine["category"] == cat]
        if rows.empty:
            rows = mine[mine["category"] == DEFAULT_CATEGORY]
        if rows.empty:
            missing = True
        else:
            rows = rows.sort_values("price_from").assign(price_bounds="(]", fixed_fee=np.nan)
            floor = float(nan_to_num(rows["min_fee"].max()))
            marginal = bool(rows["tier_mode"].iloc[0] == "marginal")
            parts.append((_bands(rows), floor, np.inf, marginal))
            closing = float(nan_to_num(rows["closing_fee"].max()))
    elif ch in set(com["channel"]):
        mine = com[
            (com["channel"] == ch)
            & (com["marketplace"] == mk)
            & (com["applies"] == "per_unit")
            & (com["fee_type"] != REFUND_ADMIN)  # charged on refunds (with_refund_admin)
        ]
        listings = [x for x in dict.fromkeys(mine["listing_type"]) if x != DEFAULT_CATEGORY]
        chosen = lst if lst else (listings[0] if listings else DEFAULT_CATEGORY)
        mine = mine[mine["listing_type"].isin([chosen, DEFAULT_CATEGORY])]
        for _, rows in mine.groupby("fee_type", sort=False):
            own = rows[rows["category"] == cat]
            use = own if not own.empty else rows[rows["category"] == DEFAULT_CATEGORY]
            if use.empty:
                continue
            use = use.sort_values("price_from")
            cap = float(use["cap"].min())
            marginal = bool(use["tier_mode"].iloc[0] == "marginal")
            parts.append((_bands(use), 0.0, np.inf if np.isnan(cap) else cap, marginal))
        missing = not parts
    return parts, closing, missing


class _Tier(NamedTuple):
    name: np.ndarray
    storage_class: np.ndarray
    shipping_weight: FloatArray  # in the tier's weight unit
    weight_unit: np.ndarray
    dim_weight_kg: FloatArray
    shipping_weight_kg: FloatArray
    cubic_feet: FloatArray
    missing: np.ndarray
    uncertain: np.ndarray
    rule: np.ndarray


_TO_KG = {"lb": POUND_KG, "g": 0.001, "kg": 1.0}
_TO_CM = {"in": INCH_CM, "cm": 1.0}


def _size_tier(t: Columns, market: np.ndarray, channel: np.ndarray, tables: FeeTables) -> _Tier:
    n = t.n
    sides = [np.asarray(t.columns[c], dtype=float) for c in ("length_cm", "width_cm", "height_cm")]
    dims = np.sort(np.column_stack(sides), axis=1)[:, ::-1]
    weight_kg = np.asarray(t.columns["weight_kg"], dtype=float)
    cubic = dims.prod(axis=1) / CUBIC_FOOT_CM3
    name = np.full(n, "", dtype=object)
    storage_class = np.full(n, "", dtype=object)
    unit = np.full(n, "", dtype=object)
    ship = np.full(n, np.nan)
    dimw = np.full(n, np.nan)
    ship_kg = np.full(n, np.nan)
    uncertain = np.zeros(n, dtype=bool)
    rule = np.full(n, "", dtype=object)
    wanted = (channel == AMAZON) & np.isfinite(dims).all(axis=1) & np.isfinite(weight_kg)
    tiers = tables.size_tiers
    codes, names = factorize(np.where(wanted, market, ""))
    for m, mk in enumerate(names):
        if not mk:
            continue
        market_tiers = derived(tables, ("size_tiers", mk), functools.partial(_tiers_of, tiers, mk))
        pick = np.flatnonzero(codes == m)
        if not market_tiers.size:
            continue
        d_unit, w_unit = market_tiers.dim_unit, market_tiers.weight_unit
        chosen = np.full(len(pick), -1)
        weight_of = np.full(len(pick), np.nan)
        dim_of = np.full(len(pick), np.nan)
        for lo in range(0, len(pick), TIER_CHUNK):
            part = slice(lo, lo + TIER_CHUNK)
            rows = pick[part]
            chosen[part], weight_of[part], dim_of[part] = _first_tier(
                dims[rows] / _TO_CM[d_unit], weight_kg[rows] / _TO_KG[w_unit], market_tiers
            )
        got = chosen >= 0
        at = pick[got]
        hit = chosen[got]
        name[at] = market_tiers.column["size_tier"][hit]
        storage_class[at] = market_tiers.column["storage_class"][hit]
        unit[at] = w_unit
        ship[at] = weight_of[got]
        dimw[at] = dim_of[got] * _TO_KG[w_unit]
        ship_kg[at] = weight_of[got] * _TO_KG[w_unit]
        uncertain[at] = market_tiers.column["uncertain"][hit]
        rule[at] = market_tiers.column["rule"][hit]
    missing = wanted & (name == "")
    return _Tier(name, storage_class, ship, unit, dimw, ship_kg, cubic, missing, uncertain, rule)


TIER_CHUNK = 65_536
"""Lines are fitted to their tiers this many at a time, every tier at once: (lines, tiers)
arrays of a bounded size, and a one-row call makes a few array operations, not a few per
tier."""


class _MarketTiers(NamedTuple):
    """A marketplace's size tiers in order: what a line is measured against (one value per
    tier; a blank limit is no limit), the columns a line takes from the tier it falls in, and
    the units the tiers are measured in."""

    size: int
    limit: dict[str, np.ndarray]
    column: dict[str, np.ndarray]
    dim_unit: str
    weight_unit: str


_LIMITS = tuple(c for c in NUMBER_COLUMNS["size_tiers"] if c != "tier_order")
"""What a line is measured against, one number per tier (the tier's order sorts them)."""


def _tiers_of(tiers: pd.DataFrame, mk: str) -> _MarketTiers:
    """A marketplace's size tiers (:class:`_MarketTiers`), made once per fee tables."""
    rows = tiers[tiers["marketplace"] == mk].sort_values("tier_order")
    column = {
        "size_tier": rows["size_tier"].to_numpy(dtype=object),
        "storage_class": rows["storage_class"].to_numpy(dtype=object),
        "uncertain": rows["uncertain"].to_numpy(dtype=bool),
        "rule": rows["rule"].to_numpy(dtype=object),
    }
    units = (
        (str(rows["dim_unit"].iloc[0]), str(rows["weight_unit"].iloc[0])) if len(rows) else ("", "")
    )
    limit = {k: rows[k].to_numpy(dtype=float) for k in _LIMITS}
    return _MarketTiers(len(rows), limit, column, *units)


def _first_tier(
    d: FloatArray, w: FloatArray, tiers: _MarketTiers
) -> tuple[np.ndarray, FloatArray, FloatArray]:
    """For lines with sides ``d`` (longest first, [the tiers' length unit]) and unit weights
    ``w`` [the tiers' weight unit]: the first tier each fits (-1: none), its shipping weight
    (the billable weight rounded up the tier's way) and its dimensional weight."""
    lim = tiers.limit
    side = nan_to_num(lim["min_side"])
    vol = d[:, :1] * np.maximum(d[:, 1:2], side) * np.maximum(d[:, 2:3], side)  # (lines, tiers)
    divisor = lim["dim_divisor"]
    dw = np.where(np.isfinite(divisor), vol / np.where(np.isfinite(divisor), divisor, 1.0), 0.0)
    billable = np.maximum(w[:, None], dw)
    girth = d[:, 0] + 2.0 * (d[:, 1] + d[:, 2])
    fits = np.ones(billable.shape, dtype=bool)
    for limit, value in (
        ("max_longest", d[:, :1]),
        ("max_median", d[:, 1:2]),
        ("max_shortest", d[:, 2:3]),
        ("max_length_plus_girth", girth[:, None]),
        ("max_unit_weight", w[:, None]),
        ("max_shipping_weight", billable),
    ):
        cap = lim[limit]
        fits &= (value <= cap + 1e-9) | ~np.isfinite(cap)
    found = fits.any(axis=1)
    first = np.argmax(fits, axis=1)
    lines = np.arange(len(first))
    chosen_billable = billable[lines, first]
    weight = _round_up_by(chosen_billable, lim["round_step"][first])
    above_from = lim["round_step_from"][first]
    big = np.isfinite(above_from) & (chosen_billable >= above_from - 1e-9)
    weight = np.where(big, _round_up_by(chosen_billable, lim["round_step_above"][first]), weight)
    nan = np.nan
    return (
        np.where(found, first, -1),
        np.where(found, weight, nan),
        np.where(found, dw[lines, first], nan),
    )


def _round_up_by(values: FloatArray, step: FloatArray) -> FloatArray:
    """Values rounded up to their steps (a blank or non-positive step: as they are)."""
    usable = np.isfinite(step) & (step > 0)
    safe = np.where(usable, step, 1.0)
    # Converted units carry binary noise (1 lb typed as 0.45359237 kg): ignore it.
    return np.where(usable, np.ceil(values / safe - 1e-9) * safe, values)


class _Fulfilment(NamedTuple):
    """Per distinct (market, size tier) group: its price bands (``bands``, F rows, no fees)
    and fuel surcharge rate; per line: the group ``code``, the fee in each band ``amount``
    (n, T; NaN where no row), the rule ids of each band's row (n, T), uncertainty, and whether
    a sized line found no fee."""

    code: np.ndarray
    bands: Component
    fuel_rate: FloatArray
    amount: FloatArray
    rule: np.ndarray
    uncertain: np.ndarray
    missing: np.ndarray


def _fulfilment(tier: _Tier, market: np.ndarray, tables: FeeTables) -> _Fulfilment:
    n = len(market)
    table = tables.fulfilment
    keyed = _factorise(market, tier.name)
    per_group = [
        derived(tables, ("fulfilment", mk, size), functools.partial(_bands_of, table, mk, size))
        for mk, size in keyed.keys
    ]
    width = max((len(r) for r in per_group), default=0) or 1
    bands = _component(len(keyed.keys), width)
    fuel_rate = np.zeros(len(keyed.keys))
    amount = np.full((n, width), np.nan)
    rule = np.full((n, width), "", dtype=object)
    uncertain = np.zeros(n, dtype=bool)
    for g, by_band in enumerate(per_group):
        if not by_band:
            continue
        mk = keyed.keys[g][0]
        lines = np.flatnonzero(keyed.codes == g)
        fuel_rate[g], suffix = derived(
            tables, ("fuel", mk), functools.partial(_fuel_of, tables, mk)
        )
        w = tier.shipping_weight[lines]
        for t, band in enumerate(by_band):
            bands["lo"][g, t] = band.lo
            bands["hi"][g, t] = band.hi
            bands["lo_closed"][g, t] = band.lo_closed
            bands["hi_closed"][g, t] = band.hi_closed
            pos = np.clip(
                np.searchsorted(band.weight_from, w - 1e-9, side="left") - 1,
                0,
                len(band.weight_from) - 1,
            )
            over = band.overage_above[pos]
            step = band.overage_step[pos]
            extra = np.where(
                np.isfinite(over) & (w > over + 1e-9),
                np.ceil((w - over) / np.where(np.isfinite(step), step, 1.0) - 1e-9)
                * nan_to_num(band.overage_fee[pos]),
                0.0,
            )
            top = band.weight_to[pos]
            within = (w <= np.where(np.isfinite(top), top, np.inf) + 1e-9) | np.isfinite(over)
            amount[lines, t] = np.where(within, band.fee[pos] + extra, np.nan)
            named = tier.rule[lines] + ";" + band.rule[pos] + suffix
            rule[lines, t] = np.where(within, named, "")
            uncertain[lines[within]] |= band.uncertain[pos][within]
    found = ~np.isnan(amount).all(axis=1)
    missing = tier.missing | ((tier.name != "") & ~found)
    return _Fulfilment(keyed.codes, Component(**bands), fuel_rate, amount, rule, uncertain, missing)


class _WeightBand(NamedTuple):
    """The fulfilment rows of one price band, by weight, as arrays; the band's price bounds
    (its first row's: NaN read as 0 below and no limit above) and whether they are inclusive."""

    lo: float
    hi: float
    lo_closed: bool
    hi_closed: bool
    weight_from: FloatArray
    weight_to: FloatArray
    overage_above: FloatArray
    overage_step: FloatArray
    overage_fee: FloatArray
    fee: FloatArray
    rule: np.ndarray
    uncertain: np.ndarray


def _weight_band(band: pd.DataFrame) -> _WeightBand:
    first = band.iloc[0]
    lo_closed, hi_closed = _closure(band["price_bounds"].iloc[:1])
    lo = float(nan_to_num(float(first["price_from"])))
    hi = float(first["price_to"])

    def floats(key: str) -> FloatArray:
        return np.asarray(band[key].to_numpy(dtype=float), dtype=float)

    return _WeightBand(
        lo,
        np.inf if np.isnan(hi) else hi,
        bool(lo_closed[0]) or lo == 0.0,
        bool(hi_closed[0]),
        floats("weight_from"),
        floats("weight_to"),
        floats("overage_above"),
        floats("overage_step"),
        floats("overage_fee"),
        floats("fee"),
        band["rule"].to_numpy(dtype=object),
        band["uncertain"].to_numpy(dtype=bool),
    )


def _bands_of(table: pd.DataFrame, mk: str, size: str) -> list[_WeightBand]:
    """The fulfilment rows of a marketplace's size tier by price band (in the table's order),
    each by weight; none for a line without a size tier."""
    if not size:
        return []
    rows = table[(table["marketplace"] == mk) & (table["size_tier"] == size)]
    return [
        _weight_band(band.sort_values("weight_from"))
        for _, band in rows.groupby("price_band", sort=False)
    ]


def _fuel_of(tables: FeeTables, mk: str) -> tuple[float, str]:
    """A marketplace's FBA fuel and logistics surcharge rate [fraction] and ``;rule`` (0 and
    ``""`` where none is in force)."""
    rows = tables.surcharges[
        (tables.surcharges["surcharge"] == "fuel_and_logistics")
        & tables.surcharges["applies_to"].str.startswith("FBA")
        & (tables.surcharges["marketplace"] == mk)
    ]
    if not len(rows):
        return 0.0, ""
    return float(rows["rate"].iloc[0]), ";" + str(rows["rule"].iloc[0])


def _storage(
    t: Columns,
    tier: _Tier,
    market: np.ndarray,
    tables: FeeTables,
    default_months: float,
) -> tuple[FloatArray, FloatArray, np.ndarray, np.ndarray, np.ndarray]:
    n = t.n
    months = np.asarray(t.columns["months_in_stock"], dtype=float)
    months = np.where(np.isnan(months), default_months, months)
    sell = np.asarray(t.columns["sell_month"], dtype=float)
    storage = np.full(n, np.nan)
    aged = np.full(n, np.nan)
    rule = np.full(n, "", dtype=object)
    uncertain = np.zeros(n, dtype=bool)
    keyed = _factorise(market, tier.storage_class)
    for g, (mk, klass) in enumerate(keyed.keys):
        if not klass:
            continue
        lines = np.flatnonzero(keyed.codes == g)
        rates = derived(
            tables, ("storage", mk, klass), functools.partial(_storage_of, tables, mk, klass)
        )
        if not rates.monthly:
            continue
        by_month = rates.by_month
        year = by_month[1:]
        average = float(np.mean(year)) if np.isfinite(year).all() else np.nan
        m = sell[lines]
        valid = np.isfinite(m) & (m >= 1) & (m <= 12)
        rate = np.where(valid, by_month[np.where(valid, m, 0).astype(int)], average)
        feet = tier.cubic_feet[lines]
        storage[lines] = rate * feet * months[lines]
        uncertain[lines] |= rates.uncertain
        aged_rows = rates.aged
        if aged_rows is not None:
            aged[lines] = _aged(aged_rows, feet, months[lines])
            late = months[lines] * DAYS_PER_MONTH > aged_rows.start[0] - 1
            uncertain[lines[late]] |= aged_rows.uncertain
            rule[lines] = np.where(late, rates.rules + ";" + aged_rows.rules, rates.rules)
        else:
            aged[lines] = 0.0
            rule[lines] = rates.rules
    missing = (tier.name != "") & np.isnan(storage)
    return storage, aged, rule, uncertain, missing


class _AgedRates(NamedTuple):
    """A marketplace's aged-inventory surcharge tiers, by age: from ``start`` [days], ``rate``
    [its currency/cubic foot/month] or ``per_unit`` at least; their rule ids and uncertainty."""

    start: FloatArray
    rate: FloatArray
    per_unit: FloatArray
    rules: str
    uncertain: bool


class _StorageRates(NamedTuple):
    """A marketplace's monthly storage of a storage class: how many rows, the rate by month
    (index 1-12), their rule ids and uncertainty, and the aged-inventory tiers (None: none)."""

    monthly: int
    by_month: FloatArray
    rules: str
    uncertain: bool
    aged: _AgedRates | None


def _storage_of(tables: FeeTables, mk: str, klass: str) -> _StorageRates:
    """:class:`_StorageRates` of a marketplace and storage class, made once per fee tables."""
    table = tables.storage
    monthly = table[table["fee_kind"] == "monthly_storage"]
    rows = monthly[(monthly["marketplace"] == mk) & (monthly["size_class"].isin([klass, "all"]))]
    by_month = np.full(13, np.nan)
    for _, r in rows.iterrows():
        by_month[int(r["month_from"]) : int(r["month_to"]) + 1] = float(r["rate"])
    aging = table[table["fee_kind"] == "aged_inventory_surcharge"]
    mine = aging[aging["marketplace"] == mk].sort_values("age_from_days")
    aged = (
        _AgedRates(
            mine["age_from_days"].to_numpy(dtype=float),
            mine["rate"].to_numpy(dtype=float),
            nan_to_num(mine["per_unit_alternative"].to_numpy(dtype=float)),
            ";".join(mine["rule"]),
            bool(mine["uncertain"].any()),
        )
        if len(mine)
        else None
    )
    return _StorageRates(
        len(rows), by_month, ";".join(rows["rule"]), bool(rows["uncertain"].any()), aged
    )


def _aged(rows: _AgedRates, feet: FloatArray, months: FloatArray) -> FloatArray:
    """Aged-inventory surcharge per unit over its stay: for every month (or part) past the first
    tier's start, the rate of the unit's age at the end of that month."""
    start, rate, per_unit = rows.start, rows.rate, rows.per_unit
    total = np.zeros(len(feet))
    whole = int(np.ceil(np.nanmax(months, initial=0.0)))
    for month in range(1, whole + 1):
        share = np.clip(months - (month - 1), 0.0, 1.0)
        age = month * DAYS_PER_MONTH
        pos = np.searchsorted(start, age, side="right") - 1
        if pos < 0:
            continue
        charge = np.maximum(rate[pos] * feet, per_unit[pos])
        total += share * charge
    return total


def payment_terms(
    tables: FeeTables,
    processor: str,
    country: str,
    *,
    international: bool = False,
    conversion: bool = False,
) -> tuple[float, float, list[str]]:
    """A payment processor's rate [fraction] and fixed fee [its currency/payment] for a card
    payment, with the rule ids used: the domestic online rate (Stripe ``domestic_card_online``,
    PayPal ``paypal_checkout``) plus the international-card and currency-conversion add-ons when
    asked. NaN where the table has no row."""
    rows = tables.payments[
        (tables.payments["processor"] == processor)
        & (tables.payments["account_country"] == country)
    ]
    base = rows[rows["component"].isin(["domestic_card_online", "paypal_checkout", "card_online"])]
    if base.empty:
        return float("nan"), float("nan"), []
    first = base.iloc[0]
    rate = float(first["rate"])
    fixed = float(nan_to_num(first["fixed_fee"]))
    used = [str(first["rule"])]
    wanted = []
    if international:
        wanted.append(("international_card_addon", "international_commercial_addon"))
    if conversion:
        wanted.append(("currency_conversion_addon", "currency_conversion"))
    for names in wanted:
        extra = rows[rows["component"].isin(names)]
        if extra.empty:
            return float("nan"), float("nan"), used
        rate += float(extra["rate"].iloc[0])
        used.append(str(extra["rule"].iloc[0]))
    return rate, fixed, used


# --------------------------------------------------------------------------------------------
# Refund administration and payment processors (charged only where their inputs are given)

EEA_ACCOUNT = "EEA(EUR)"
"""The payment tables' account country of a euro account in the European Economic Area."""

_BASE_PAYMENT = ("domestic_card_online", "paypal_checkout", "card_online")
_INTL_ADDON = ("international_card_addon", "international_commercial_addon")
_INTL_TOTAL = ("international_card",)
_CONVERSION = ("currency_conversion_addon", "currency_conversion")


class PaymentTerms(NamedTuple):
    """A payment processor's card fees per line: the domestic ``rate`` [fraction] and ``fixed``
    fee [``currency``/payment], the ``international`` card and currency ``conversion`` add-ons
    [fraction] (an international card's total rate less the domestic rate where the table
    gives a total), the rule ids used, uncertainty, and ``missing`` where the table has no
    domestic row (everything NaN there; an add-on the table lacks is NaN alone). ``rule``
    holds the rule id of the domestic, international and conversion rows (n, 3)."""

    rate: FloatArray
    fixed: FloatArray
    international: FloatArray
    conversion: FloatArray
    currency: np.ndarray
    rule: np.ndarray
    uncertain: np.ndarray
    missing: np.ndarray


def payment_processor_terms(
    processor: np.ndarray, account: np.ndarray, tables: FeeTables
) -> PaymentTerms:
    """:class:`PaymentTerms` of each line's ``processor`` (``Stripe``, ``PayPal``; case
    ignored) for its ``account`` country (as the table's ``account_country``), looked up once
    per distinct pair."""
    keyed = _factorise(
        pd.Series(processor, dtype=object).astype(str).str.strip().str.casefold().to_numpy(),
        np.asarray(account, dtype=object),
    )
    g = len(keyed.keys)
    rate, fixed, intl, conv = (np.full(g, np.nan) for _ in range(4))
    currency = np.full(g, "", dtype=object)
    rule = np.full((g, 3), "", dtype=object)
    uncertain = np.zeros(g, dtype=bool)
    table = tables.payments
    names = table["processor"].astype(str).str.casefold()
    for i, (name, country) in enumerate(keyed.keys):
        rows = table[(names == name) & (table["account_country"] == country)]
        base = rows[rows["component"].isin(_BASE_PAYMENT)]
        if not name or base.empty:
            continue
        first = base.iloc[0]
        rate[i] = float(first["rate"])
        fixed[i] = float(nan_to_num(first["fixed_fee"]))
        currency[i] = str(first["currency"])
        rule[i, 0] = str(first["rule"])
        uncertain[i] = bool(first["uncertain"])
        addon = rows[rows["component"].isin(_INTL_ADDON)]
        total = rows[rows["component"].isin(_INTL_TOTAL)]
        if len(addon):
            intl[i] = float(addon["rate"].iloc[0])
            rule[i, 1] = str(addon["rule"].iloc[0])
        elif len(total):
            intl[i] = float(total["rate"].iloc[0]) - rate[i]
            rule[i, 1] = str(total["rule"].iloc[0])
        extra = rows[rows["component"].isin(_CONVERSION)]
        if len(extra):
            conv[i] = float(extra["rate"].iloc[0])
            rule[i, 2] = str(extra["rule"].iloc[0])
    code = keyed.codes
    return PaymentTerms(
        rate[code],
        fixed[code],
        intl[code],
        conv[code],
        currency[code],
        rule[code],
        uncertain[code],
        np.isnan(rate[code]),
    )


@dataclass(frozen=True)
class _Capped(Component):
    """A component whose cap (or floor) can start to bind in any band: its breakpoints add,
    for every band, the price where the uncapped fee reaches the cap and the floor."""

    def breakpoints(self) -> FloatArray:
        base = Component.breakpoints(self)
        lo = np.where(np.isfinite(self.lo), self.lo, np.nan)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            width = nan_to_num(np.where(np.isfinite(self.hi), self.hi, np.nan) - lo)
            before = np.cumsum(self.rate * width, axis=1) - self.rate * width
            extra = []
            for limit in (self.cap, self.floor):
                marginal = lo + (limit[:, None] - before) / self.rate
                whole = (limit[:, None] - self.fixed) / self.rate
                extra.append(np.where(self.marginal[:, None], marginal, whole))
        edges = np.concatenate([base, *extra], axis=1)
        return np.where(np.isfinite(edges) & (edges > 0), edges, np.nan)


class RefundAdmin(NamedTuple):
    """The refund administration fee as a price schedule part (``component``, one row per
    distinct schedule of ``owner``), its rule id per line, and uncertainty per line."""

    schedule: PriceSchedule
    rule: np.ndarray
    uncertain: np.ndarray


def with_refund_admin(
    schedule: PriceSchedule,
    channel: np.ndarray,
    market: np.ndarray,
    refund_rate: FloatArray,
    tables: FeeTables,
) -> RefundAdmin:
    """``schedule`` with a ``refund`` part: the refund administration fee per unit sold,
    ``refund_rate`` [refunded units per unit sold] x the lesser of the cap and a share of the
    referral fee at the price. Amazon lines take their marketplace's row of ``refund_admin``
    (``rate_of_referral_fee``, ``cap_per_line``); other channels the ``refund_admin`` row of
    ``commissions`` for their channel and marketplace (``rate`` of the referral fee, ``cap``
    per SKU; its ``*`` category row: TikTok Shop US, 20% capped at US$5), applied to the first
    fee type of the line's schedule (TikTok Shop US: the referral fee). No row or a blank
    refund rate = no fee. The referral part's minimum fee and bands carry over, so prices are
    still solved exactly."""
    share, cap, rule, uncertain = _refund_rows(
        np.asarray(channel, dtype=object), np.asarray(market, dtype=object), tables
    )
    rr = nan_to_num(np.asarray(refund_rate, dtype=float))
    charged = (rr > 0) & np.isfinite(share)
    scale = np.where(charged, nan_to_num(share) * rr, 0.0)
    limit = np.where(charged & np.isfinite(cap), cap * rr, np.inf)
    # One schedule per distinct (old schedule, scale, limit).
    key = pd.DataFrame({"s": schedule.owner, "a": scale, "c": limit})
    owner = np.asarray(
        pd.factorize(pd.util.hash_pandas_object(key, index=False).to_numpy())[0], dtype=np.int64
    )
    head = _first_rows(owner)
    old = schedule.owner[head]
    parts = [(name, _take(c, old)) for name, c in schedule.parts]
    referral = next((c for name, c in schedule.parts if name == "referral"), None)
    if referral is not None:
        s, c = scale[head], limit[head]
        part = _take(referral, old)
        refund = _Capped(
            lo=part.lo,
            hi=part.hi,
            lo_closed=part.lo_closed,
            hi_closed=part.hi_closed,
            rate=part.rate * s[:, None],
            fixed=part.fixed * s[:, None],
            marginal=part.marginal,
            floor=part.floor * s,
            cap=np.minimum(np.where(s > 0, part.cap * np.where(s > 0, s, 1.0), np.inf), c),
        )
        parts.append(("refund", refund))
    return RefundAdmin(
        PriceSchedule(tuple(parts), owner, len(head)),
        np.where(charged, rule, ""),
        charged & uncertain,
    )


REFUND_ADMIN = "refund_admin"
"""The ``fee_type`` of a ``commissions`` row that is a refund administration fee (``applies``
``on_refund``: charged on refunded units, never on the price of a unit sold)."""


def _refund_rows(
    channel: np.ndarray, market: np.ndarray, tables: FeeTables
) -> tuple[FloatArray, FloatArray, np.ndarray, np.ndarray]:
    """Per line: the refund administration fee's share of the referral fee, its cap, rule id
    and uncertainty (NaN, NaN, "", False where no row applies); looked up once per distinct
    (channel, marketplace)."""
    if not len(channel):
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=object), np.zeros(0, dtype=bool)
    ch_codes, channels = factorize(channel, use_na_sentinel=False)
    mk_codes, markets = factorize(market, use_na_sentinel=False)
    pair_codes, pairs = factorize(ch_codes.astype(np.int64) * len(markets) + mk_codes)
    amazon = tables.refund_admin.drop_duplicates("marketplace").set_index("marketplace")
    com = tables.commissions
    others = com[
        (com["fee_type"] == REFUND_ADMIN) & (com["category"] == DEFAULT_CATEGORY)
    ].drop_duplicates(["channel", "marketplace"])
    others = others.set_index(["channel", "marketplace"])
    m = len(pairs)
    share, cap = np.full(m, np.nan), np.full(m, np.nan)
    rule, uncertain = np.full(m, "", dtype=object), np.zeros(m, dtype=bool)
    for i, code in enumerate(pairs):
        ch, mk = channels[code // len(markets)], markets[code % len(markets)]
        if ch == AMAZON and mk in amazon.index:
            row = amazon.loc[mk]
            share[i], cap[i] = row["rate_of_referral_fee"], row["cap_per_line"]
        elif ch != AMAZON and (ch, mk) in others.index:
            row = others.loc[(ch, mk)]
            share[i], cap[i] = row["rate"], row["cap"]
        else:
            continue
        rule[i], uncertain[i] = str(row["rule"]), bool(row["uncertain"])
    return share[pair_codes], cap[pair_codes], rule[pair_codes], uncertain[pair_codes]
