"""The supply settings (``tblSupplySettings``) and the closed sets the stock and cash plans use.

Days are calendar days [d]; rates are fractions [fraction]; money is in the reporting currency
[reporting ccy]. Every default is a common practice quoted in DOMAIN.md section 5 (30% deposit at
order, 70% before shipment; Chinese New Year shutdown 7-10 days before, 20-40% capacity for about
two weeks after); users override them on the Supply Settings sheet.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class TransitMode(str, Enum):
    """How goods travel from the factory to the destination warehouse."""

    SEA = "sea"
    RAIL = "rail"
    AIR = "air"
    EXPRESS = "express"


class ClosureKind(str, Enum):
    """Why a supplier works below full capacity on some days."""

    CNY_SHUTDOWN = "cny_shutdown"  # wind-down before Chinese New Year and the holiday itself
    CNY_RECOVERY = "cny_recovery"  # the weeks after, while workers come back
    CLOSURE = "closure"  # entered by the user (a supplier holiday, an audit, a move)


class SupplySettings(BaseModel):
    """Supplier terms, stock defaults, the Chinese New Year shutdown and the cash settings.

    ``deposit_rate`` [fraction] of an order's goods value paid when it is placed; the rest is
    paid ``balance_days`` [d] after the ship date (negative = before shipment: -7 is "a week
    before shipment"). ``alt_deposit_rate`` / ``alt_balance_days``: the terms the payment-terms
    lever compares with. ``production_days``, ``receiving_days``, ``safety_days`` [d]: what a
    route with a blank cell uses. Chinese New Year: factories stop ``cny_wind_down_days`` before
    New Year's Day and stay closed ``cny_holiday_days`` after it, then run at
    ``cny_recovery_capacity`` [fraction] for ``cny_recovery_days``. ``vat_recovery_days`` [d]:
    how long after arrival recoverable import VAT comes back (the next VAT return).
    ``opening_cash`` [reporting ccy]: cash at the start of the cash plan.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deposit_rate: float = Field(default=0.3, ge=0.0, le=1.0)
    balance_days: int = Field(default=-7, ge=-365, le=365)
    alt_deposit_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    alt_balance_days: int = Field(default=30, ge=-365, le=365)
    production_days: int = Field(default=30, ge=0, le=365)
    receiving_days: int = Field(default=10, ge=0, le=120)
    safety_days: int = Field(default=14, ge=0, le=365)
    cny_wind_down_days: int = Field(default=10, ge=0, le=60)
    cny_holiday_days: int = Field(default=7, ge=0, le=60)
    cny_recovery_days: int = Field(default=14, ge=0, le=90)
    cny_recovery_capacity: float = Field(default=0.3, ge=0.0, le=1.0)
    vat_recovery_days: int = Field(default=45, ge=0, le=365)
    opening_cash: float = Field(default=0.0, allow_inf_nan=False)
