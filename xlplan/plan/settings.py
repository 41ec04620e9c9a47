"""The Settings sheet as one typed model, read once per run.

Every action receives the same :class:`PlanSettings` in its context, so the plan year, the
rules date, the reporting currency and the rounding unit mean the same thing everywhere. The
model is strict: a value it refuses is an error record on its Settings cell, never a silent
default (:func:`xlplan.plan.read.read_plan_settings`).
"""

from __future__ import annotations

from datetime import date
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReconcileMethod(str, Enum):
    """How the maps' claims are made to sum to the company target.

    ``keep``      amounts as entered; any gap becomes one ``unallocated`` bucket (and a record)
    ``pro_rata``  every line scaled by company target / sum of lines
    ``priority``  lines filled in priority order until the target is used up; later lines are cut
                  (with a record each); a shortfall becomes an ``unallocated`` bucket
    """

    KEEP = "keep"
    PRO_RATA = "pro_rata"
    PRIORITY = "priority"


class PlanSettings(BaseModel):
    """The plan-wide settings (Settings sheet, ``tblSettings``).

    ``plan_year`` the year planned; ``rules_date`` the date whose tax and fee rules apply
    (default 1 January of the plan year); ``reporting_currency`` ISO 4217 code of plan amounts;
    ``company_target`` [reporting ccy/yr]; ``reconcile_method``; ``rounding_unit`` [reporting
    ccy] the unit plan amounts are rounded to (1 = yuan, 10000 = 万); ``dashboard_line`` which
    landed-cost line the dashboard's waterfall shows (row number, SKU or ``SKU MARKET``);
    ``as_of`` the date the plan is drawn up on (blank = the day of the run): a purchase order the
    stock plan would have had to place before it is too late.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    plan_year: int = Field(ge=2000, le=2100)
    rules_date: date | None = None
    reporting_currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    company_target: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    # read from its text (``pro_rata``), so the enum field alone accepts its value
    reconcile_method: ReconcileMethod = Field(default=ReconcileMethod.KEEP, strict=False)
    rounding_unit: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    dashboard_line: str | None = None
    as_of: date | None = None

    @model_validator(mode="after")
    def _dates_in_range(self) -> PlanSettings:
        if self.rules_date is not None and not 1900 <= self.rules_date.year <= 2100:
            raise ValueError("rules_date must lie between 1900 and 2100")
        if self.as_of is not None and not 1900 <= self.as_of.year <= 2100:
            raise ValueError("as_of must lie between 1900 and 2100")
        return self

    @property
    def rules_on(self) -> date:
        """The date whose rules apply: ``rules_date``, else 1 January of the plan year."""
        return self.rules_date or date(self.plan_year, 1, 1)

    def as_of_or(self, today: date) -> date:
        """The plan's as-of date: ``as_of``, else ``today`` (the day of the run)."""
        return self.as_of or today


def default_settings(today: date) -> PlanSettings:
    """The settings of a file without a Settings table (a CSV of lines): next year's plan,
    computed with the rules in force today."""
    return PlanSettings(plan_year=today.year + 1, rules_date=today)
