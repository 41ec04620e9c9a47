"""Scenarios: named sets of rule overrides, and the rules each one gives.

Rules change mid-plan (US surcharges struck down and replaced in 2026, the EU's EUR 3 from July
2026); a plan is judged under several of them side by side. A scenario is the rows of the
Scenarios table with its name; each row overrides one rule (:class:`ScenarioRule`):

``extra_duty``  ``value`` [fraction] for ``market`` (``origin`` and ``hs_prefix`` when given):
                with a ``measure``, that measure's rate (the tariff's other measures stay); without
                one, every extra duty of the lines it matches together, over the tariff and over
                the lines' own ``extra_duty_rate``
``duty_rate``   ``value`` [fraction], the base duty rate of the lines it matches, over the tariff
                and the lines' own ``duty_rate``
``low_value``   ``value`` TRUE/FALSE: the market's low-value rows (of treatment ``measure``, or
                all of them) on or off; on takes the latest shipped rows of that treatment even
                where they are not in force on the rules date
``fx``          ``value`` [units of ``to_currency`` per ``from_currency``], ahead of the FX table
``tax_rate``    ``value`` [fraction], the market's import/consumption tax rate
``rules_date``  ``value`` a date: the rules (and the workbook's overrides) of that date

The scenario ``base`` is the plan as it stands; it is always computed first and cannot be
redefined. Pure: a :class:`~xlplan.reference.Rules` in, a :class:`~xlplan.reference.Rules` out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from enum import Enum

import numpy as np
import pandas as pd

from xlplan.reference import (
    SCENARIO,
    Rules,
    apply_market_overrides,
    empty_overrides,
    expand_regimes,
    regime_history,
)

BASE = "base"
"""The name of the plan as it stands (no overrides)."""


class ScenarioRule(str, Enum):
    """What one Scenarios row overrides."""

    EXTRA_DUTY = "extra_duty"
    DUTY_RATE = "duty_rate"
    LOW_VALUE = "low_value"
    FX = "fx"
    TAX_RATE = "tax_rate"
    RULES_DATE = "rules_date"


SCENARIO_KEYS: tuple[str, ...] = (
    "scenario",
    "rule",
    "market",
    "origin",
    "hs_prefix",
    "measure",
    "from_currency",
    "to_currency",
    "value",
    "note",
)
"""Columns of the Scenarios table; ``value`` is read per rule (a rate, TRUE/FALSE, an FX rate
or a date)."""


def scenario_names(rows: pd.DataFrame) -> list[str]:
    """The scenarios of a typed Scenarios table, in order of first appearance."""
    return list(dict.fromkeys(str(n) for n in rows["scenario"] if str(n)))


def scenario_rules(
    base: Rules, rows: pd.DataFrame, rules_for: Callable[[date], Rules] | None = None
) -> Rules:
    """The rules of one scenario: ``base`` (or the rules of the scenario's ``rules_date``, from
    ``rules_for``) with its override ``rows`` applied.

    ``rows`` are typed and checked: ``rule`` a :class:`ScenarioRule` value, ``value`` a number
    (``number``), a flag (``flag``) or a date (``day``) by rule, codes upper-case, ``hs_prefix``
    digits.
    """
    rules = base
    dated = rows[rows["rule"] == ScenarioRule.RULES_DATE.value]
    if len(dated) and rules_for is not None:
        rules = rules_for(dated["day"].iloc[-1])
    members = _members(rules)

    def expand(market: str) -> list[str]:
        return members.get(market, [market])

    tariff_rows: list[dict[str, object]] = []
    overrides: list[dict[str, object]] = []
    fx_rows: list[tuple[str, str, float]] = []
    taxes: list[tuple[str, float]] = []
    regimes = rules.regimes
    for row in rows.to_dict("records"):
        rule = row["rule"]
        market, origin, prefix = str(row["market"]), str(row["origin"]), str(row["hs_prefix"])
        if rule == ScenarioRule.EXTRA_DUTY.value and row["measure"]:
            tariff_rows.append(
                {
                    "hs_prefix": prefix,
                    "market": market,
                    "origin": origin,
                    "duty_rate": np.nan,
                    "extra_duty_rate": float(row["number"]),
                    "measure": str(row["measure"]),
                    "duty_text": "",
                    "layer": SCENARIO,
                    "uncertain": False,
                }
            )
        elif rule in (ScenarioRule.EXTRA_DUTY.value, ScenarioRule.DUTY_RATE.value):
            kind = "extra_duty_rate" if rule == ScenarioRule.EXTRA_DUTY.value else "duty_rate"
            overrides.append(
                {
                    "hs_prefix": prefix,
                    "market": market,
                    "origin": origin,
                    "kind": kind,
                    "rate": float(row["number"]),
                }
            )
        elif rule == ScenarioRule.FX.value:
            fx_rows.append((str(row["from_currency"]), str(row["to_currency"]), row["number"]))
        elif rule == ScenarioRule.TAX_RATE.value:
            taxes += [(m, float(row["number"])) for m in expand(market)]
        elif rule == ScenarioRule.LOW_VALUE.value:
            regimes = _switch_regimes(
                regimes, expand(market), str(row["measure"]), bool(row["flag"]), rules
            )
    tariff = rules.tariff
    if tariff_rows:
        tariff = pd.concat([tariff, pd.DataFrame(tariff_rows)], ignore_index=True)
    over = pd.DataFrame(overrides) if overrides else empty_overrides()
    fx = rules.fx
    if fx_rows:
        fx = pd.concat([pd.DataFrame(fx_rows, columns=list(fx.columns)), fx], ignore_index=True)
    markets = rules.markets
    if taxes:
        table = pd.DataFrame(taxes, columns=["market", "tax_rate"]).drop_duplicates(
            "market", keep="last"
        )
        markets = apply_market_overrides(markets, table)
    return replace(rules, markets=markets, regimes=regimes, fx=fx, tariff=tariff, overrides=over)


def _members(rules: Rules) -> dict[str, list[str]]:
    """A customs union's code -> its member markets (``EU`` -> the 27)."""
    if "customs_union" not in rules.markets.columns:
        return {}
    unions = rules.markets["customs_union"].dropna()
    out: dict[str, list[str]] = {}
    for member, union in unions.items():
        if isinstance(union, str) and union:
            out.setdefault(union, []).append(str(member))
    return out


def _switch_regimes(
    regimes: pd.DataFrame, markets: list[str], treatment: str, on: bool, rules: Rules
) -> pd.DataFrame:
    """The low-value rows of ``markets`` (of ``treatment``, or all) switched off, or on."""
    mine = regimes["market"].isin(markets)
    if treatment:
        chosen = mine & (regimes["treatment"] == treatment)
    else:
        chosen = mine
    if not on:
        return regimes.loc[~chosen.to_numpy()].reset_index(drop=True)
    history = regime_history()
    union = {m for m in markets} | {k for k, v in _members(rules).items() if set(v) & set(markets)}
    shipped = history[history["market"].isin(union)]
    if treatment:
        shipped = shipped[shipped["treatment"] == treatment]
    if shipped.empty:
        return regimes
    latest = shipped[shipped["effective_from"] == shipped["effective_from"].max()]
    added = expand_regimes(latest, rules.markets)
    added = added[added["market"].isin(markets)]
    levies = set(added["applies_to"])
    replaced = mine & regimes["applies_to"].isin(levies | ({"both"} if levies else set()))
    kept = regimes.loc[~replaced.to_numpy()]
    return pd.concat([kept, added], ignore_index=True)
