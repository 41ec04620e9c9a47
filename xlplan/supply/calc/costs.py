"""What a unit costs and brings in, per route and per sales line, in the reporting currency.

The landed-cost capability has already worked out, per SKU x market x channel, what a unit costs
to land and what the marketplace keeps (its Landed Cost lines and Results, read by table key);
this module finds each SKU's line and converts its figures at the plan's FX:

per route (SKU x market), from the first line of that SKU and market:
``goods_cost``  unit cost (the route's own, else the line's) [reporting ccy/unit]
``freight``     freight + insurance; ``duties`` duty + import tax + clearance; ``vat_refund`` the
                import tax when the market lets the importer recover it; ``unit_value`` the landed
                cost (what a unit in stock is worth; goods + freight without results)
per sales line (SKU x market x channel), from its own line, else its SKU and market's:
``receipts``    net price - referral - payment fee - FX loss - returns
``fulfilment``  last mile + storage; ``ads`` the ad cost

Without Landed Cost Results a line brings in its price and costs only goods and freight (the plan
says so in its summary). Look-ups are joins on normalised keys; nothing loops per row.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from xlplan.reference import fx_rates

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

LINE_KEYS: tuple[str, ...] = (
    "sku",
    "market",
    "channel",
    "unit_cost",
    "cost_currency",
    "fx_rate",
    "freight_per_unit",
    "insurance_per_unit",
    "clearance_per_unit",
    "vat_recoverable",
    "price",
)
"""What the plans read of a Landed Cost line (money per unit in the market currency,
``unit_cost`` in ``cost_currency``, ``fx_rate`` market ccy per cost ccy)."""

RESULT_KEYS: tuple[str, ...] = (
    "sku",
    "market",
    "channel",
    "currency",
    "duty",
    "import_vat",
    "landed_cost",
    "net_price",
    "referral_fee",
    "payment_fee",
    "fx_loss",
    "ad_cost",
    "fulfilment_cost",
    "returns_cost",
)
"""What the plans read of a Landed Cost Results row [market ccy/unit]."""


def _key(*columns: pd.Series) -> npt.NDArray[np.object_]:
    """Each row's cells as one matching key: text stripped and case-folded, blanks ``""``.

    Each column's distinct values are normalised once, then laid out by their codes: a
    100,000-line table has a few thousand SKUs and a handful of markets and channels.
    """
    out: npt.NDArray[np.object_] | None = None
    for column in columns:
        codes, norm = _normalised(column.to_numpy(dtype=object))
        part = norm[codes]
        out = part if out is None else out + "\x1f" + part
    assert out is not None
    return out


def _normalised(cells: npt.NDArray[np.object_]) -> tuple[IntArray, npt.NDArray[np.object_]]:
    """Each cell's code into the normalised texts of the distinct cells (stripped and
    case-folded, each normalised once); a blank's code (-1) takes the ``""`` at the end."""
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    norm = np.array([str(v).strip().casefold() for v in uniques.tolist()] + [""], dtype=object)
    return np.asarray(codes, dtype=np.int64), norm


def _shared_codes(*columns: pd.Series) -> tuple[IntArray, int]:
    """The cells of ``columns`` (one column of two tables, end to end) as codes of their
    normalised text (as :func:`_key` reads them), and how many codes there are.

    Each distinct cell is normalised once: a 100,000-line table has a few thousand SKUs and a
    handful of markets and channels."""
    codes, norm = _normalised(np.concatenate([c.to_numpy(dtype=object) for c in columns]))
    again, distinct = pd.factorize(norm)
    return again[codes].astype(np.int64), len(distinct)


def match_rows(wanted: pd.DataFrame, table: pd.DataFrame, *, by_channel: bool = True) -> IntArray:
    """For each row of ``wanted`` (``sku``, ``market`` and ``channel``), the position in
    ``table`` of its first row with the same SKU, market and channel, else the first with the
    same SKU and market; -1 when none. Cells match as :func:`_key` reads them (text stripped
    and case-folded, blanks ``""``); the keys are integers built from the cells' codes."""
    out = np.full(len(wanted), -1, dtype=np.int64)
    if table.empty or wanted.empty:
        return out
    n = len(table)
    key = np.zeros(n + len(wanted), dtype=np.int64)
    loose: IntArray | None = None
    for column in ("sku", "market", "channel") if by_channel else ("sku", "market"):
        codes, count = _shared_codes(table[column], wanted[column])
        if int(key.max()) + 1 > (2**62) // count:  # keep the mixed radix within 64 bits
            key = pd.factorize(key)[0].astype(np.int64)
        key = key * count + codes  # mixed radix: distinct cells give distinct keys
        if column == "market":
            loose = _first_rows(key[:n], key[n:])
    assert loose is not None
    if not by_channel:
        return loose
    exact = _first_rows(key[:n], key[n:])
    return np.where(exact >= 0, exact, loose)


def _first_rows(table_keys: IntArray, wanted_keys: IntArray) -> IntArray:
    """For each wanted key, the position of its first occurrence among ``table_keys``, or -1."""
    distinct, first = np.unique(table_keys, return_index=True)
    at = np.minimum(np.searchsorted(distinct, wanted_keys), len(distinct) - 1)
    return np.where(distinct[at] == wanted_keys, first[at], -1).astype(np.int64)


def to_reporting(
    currencies: pd.Series | npt.NDArray[np.object_], reporting: str, fx: pd.DataFrame
) -> FloatArray:
    """Units of the reporting currency per one unit of each currency (NaN where unknown)."""
    src = pd.Series(np.asarray(currencies, dtype=object)).fillna("").astype(str)
    dst = pd.Series([reporting] * len(src), dtype=object)
    return fx_rates(fx, src, dst).to_numpy(dtype=float)


def _take(table: pd.DataFrame, rows: IntArray, key: str) -> FloatArray:
    """``table[key]`` at ``rows`` as floats; 0 where a row is -1 or the cell is blank."""
    if table.empty or key not in table.columns:
        return np.zeros(len(rows))
    values = pd.to_numeric(table[key], errors="coerce").to_numpy(dtype=float)
    got = values[np.maximum(rows, 0)] if len(values) else np.zeros(len(rows))
    return np.where(rows >= 0, np.nan_to_num(got), 0.0)


class RouteMoney(NamedTuple):
    goods_cost: FloatArray
    freight: FloatArray
    duties: FloatArray
    vat_refund: FloatArray
    unit_value: FloatArray
    missing_fx: npt.NDArray[np.bool_]  # a currency of the route had no rate to the reporting ccy


class LineMoney(NamedTuple):
    receipts: FloatArray
    fulfilment: FloatArray
    ads: FloatArray


def route_money(
    routes: pd.DataFrame,
    lines: pd.DataFrame,
    results: pd.DataFrame | None,
    market_currency: pd.Series,
    recoverable: pd.Series,
    reporting: str,
    fx: pd.DataFrame,
) -> RouteMoney:
    """Money per unit of each route [reporting ccy/unit] (see the module docstring).

    ``routes`` has ``sku``, ``market``, ``unit_cost`` (NaN = the line's) and ``cost_currency``
    ("" = CNY); ``lines`` the :data:`LINE_KEYS` typed; ``results`` the :data:`RESULT_KEYS`
    (None: no results); ``market_currency`` and ``recoverable`` (bool) indexed by market.
    """
    keys = routes.assign(channel="")
    at = match_rows(keys, lines, by_channel=False)
    mkt_ccy = routes["market"].map(market_currency).fillna("").to_numpy(dtype=object)
    to_rc = to_reporting(mkt_ccy, reporting, fx)

    own = routes["unit_cost"].to_numpy(dtype=float)
    own_ccy = routes["cost_currency"].fillna("").astype(str).replace("", "CNY").to_numpy(object)
    line_cost = _take(lines, at, "unit_cost")
    line_ccy = np.where(at >= 0, _text(lines, at, "cost_currency"), "")
    line_ccy = np.where(line_ccy == "", mkt_ccy, line_ccy)
    line_fx = _take(lines, at, "fx_rate")  # market ccy per cost ccy, 0 = not given
    by_line = np.where(
        line_fx > 0, line_cost * line_fx * to_rc, line_cost * to_reporting(line_ccy, reporting, fx)
    )
    use_own = ~np.isnan(own)
    goods = np.where(use_own, np.nan_to_num(own) * to_reporting(own_ccy, reporting, fx), by_line)
    freight = (
        _take(lines, at, "freight_per_unit") + _take(lines, at, "insurance_per_unit")
    ) * to_rc
    clearance = _take(lines, at, "clearance_per_unit") * to_rc

    result_at = (
        match_rows(keys, results, by_channel=False)
        if results is not None
        else np.full(len(routes), -1)
    )
    table = results if results is not None else pd.DataFrame()
    duty = _take(table, result_at, "duty") * to_rc
    vat = _take(table, result_at, "import_vat") * to_rc
    line_flag = (
        pd.to_numeric(lines["vat_recoverable"], errors="coerce").to_numpy(dtype=float)[
            np.maximum(at, 0)
        ]
        if len(lines)
        else np.full(len(routes), np.nan)
    )
    line_flag = np.where(at >= 0, line_flag, np.nan)
    default = routes["market"].map(recoverable).fillna(False).to_numpy(dtype=bool)
    refundable = np.where(np.isnan(line_flag), default, line_flag == 1.0)
    landed = _take(table, result_at, "landed_cost") * to_rc
    value = np.where(result_at >= 0, landed, goods + freight)
    missing = (use_own & np.isnan(to_reporting(own_ccy, reporting, fx))) | np.isnan(to_rc)
    return RouteMoney(
        np.nan_to_num(goods),
        np.nan_to_num(freight),
        np.nan_to_num(duty + vat + clearance),
        np.nan_to_num(np.where(refundable, vat, 0.0)),
        np.nan_to_num(value),
        missing,
    )


def _text(table: pd.DataFrame, rows: IntArray, key: str) -> npt.NDArray[np.object_]:
    if table.empty or key not in table.columns:
        return np.full(len(rows), "", dtype=object)
    values = table[key].fillna("").astype(str).to_numpy(dtype=object)
    return values[np.maximum(rows, 0)]


def line_money(
    skus: pd.DataFrame, price_rc: FloatArray, results: pd.DataFrame | None, to_rc: FloatArray
) -> LineMoney:
    """Money per unit sold of each sales line [reporting ccy/unit]: ``skus`` has ``sku``,
    ``market``, ``channel``; ``price_rc`` its price; ``to_rc`` its market currency's rate."""
    if results is None or results.empty:
        zero = np.zeros(len(skus))
        return LineMoney(np.nan_to_num(price_rc), zero, zero.copy())
    at = match_rows(skus, results)

    def get(key: str) -> FloatArray:
        return _take(results, at, key) * to_rc

    net = get("net_price")
    fees = get("referral_fee") + get("payment_fee") + get("fx_loss") + get("returns_cost")
    receipts = np.where(at >= 0, net - fees, np.nan_to_num(price_rc))
    return LineMoney(np.nan_to_num(receipts), get("fulfilment_cost"), get("ad_cost"))


def payout_days(channels: pd.Series, payouts: pd.DataFrame) -> FloatArray:
    """Days from sale to cash per channel: its row of ``payouts`` (``channel``,
    ``payout_days``), else the ``Other`` row, else 14."""
    table = pd.Series(payouts["payout_days"].to_numpy(dtype=float), index=_key(payouts["channel"]))
    table = table[~table.index.duplicated()]
    other = float(table.get("other", 14.0))
    found = table.reindex(_key(channels)).to_numpy(dtype=float)
    return np.where(np.isnan(found), other, found)


def transit_days(
    modes: pd.Series, regions: pd.Series, transit: pd.DataFrame
) -> tuple[FloatArray, FloatArray]:
    """Door-to-door days and freight index of each (mode, region): the region's row of
    ``transit`` (``mode``, ``region``, ``days``, ``freight_index``), else the mode's row without
    a region; NaN days (index 1) where the table has neither. Only the distinct pairs are
    looked up."""
    mode = pd.Series(np.asarray(modes, dtype=object)).fillna("").astype(str).str.strip().str.lower()
    region = pd.Series(np.asarray(regions, dtype=object)).fillna("").astype(str).str.upper()
    mode_code, mode_names = pd.factorize(mode)
    region_code, region_names = pd.factorize(region)
    pair = mode_code.astype(np.int64) * max(len(region_names), 1) + region_code
    distinct, back = np.unique(pair, return_inverse=True)
    table = transit.assign(
        mode=transit["mode"].fillna("").astype(str).str.strip().str.lower(),
        region=transit["region"].fillna("").astype(str).str.strip().str.upper(),
        days=pd.to_numeric(transit["days"], errors="coerce"),
        freight_index=pd.to_numeric(transit["freight_index"], errors="coerce"),
    )
    found: dict[tuple[str, str], tuple[float, float]] = {}
    for m, r, d, i in table[["mode", "region", "days", "freight_index"]].itertuples(
        index=False, name=None
    ):  # the transit table: a dozen rows
        found.setdefault((str(m), str(r)), (float(d), float(i)))
    days = np.full(len(distinct), np.nan)
    index = np.full(len(distinct), np.nan)
    width = max(len(region_names), 1)
    for k, code in enumerate(distinct):  # one look-up per distinct pair: a handful
        m, r = str(mode_names[code // width]), str(region_names[code % width])
        hit = found.get((m, r), found.get((m, "")))
        if hit is not None:
            days[k], index[k] = hit
    out_index = index[back]
    return days[back], np.where(np.isnan(out_index), 1.0, out_index)
