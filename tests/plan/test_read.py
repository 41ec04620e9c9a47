"""The Settings sheet read once into PlanSettings: dates people type, and every value the model
refuses reported on its cell, never a silent default."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from xlplan.plan.read import plan_settings
from xlplan.plan.settings import ReconcileMethod

TODAY = date(2026, 11, 21)


def settings_table(**values: object) -> pd.DataFrame:
    return pd.DataFrame(
        {"setting": list(values), "value": list(values.values()), "label": [""] * len(values)}
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026年6月30日", date(2026, 6, 30)),
        ("2026-06-30", date(2026, 6, 30)),
        ("2026/6/30", date(2026, 6, 30)),
        (datetime(2026, 6, 30), date(2026, 6, 30)),
        (46203.0, date(2026, 6, 30)),  # an Excel serial
        ("２０２６年６月３０日", date(2026, 6, 30)),  # full-width digits
    ],
)
def test_the_rules_date_as_people_type_it(typed: object, expected: date) -> None:
    settings, errors = plan_settings(settings_table(plan_year=2027, rules_date=typed), TODAY)
    assert errors.empty, errors
    assert settings.rules_on == expected


@pytest.mark.parametrize("typed", ["明年一月", "next year", "2026-13-01", -2, "2026年6月"])
def test_a_rules_date_that_is_not_a_date_is_reported_on_its_cell(typed: object) -> None:
    settings, errors = plan_settings(settings_table(plan_year=2027, rules_date=typed), TODAY)
    assert settings.rules_on == date(2027, 1, 1)  # what is used instead, and said so:
    (record,) = errors.itertuples()
    assert (record.table, record.row, record.column) == ("settings", 1, "value")
    assert "rules_date" in record.en and "date" in record.en
    assert "rules_date" in record.zh and "日期" in record.zh


def test_blank_values_take_the_defaults() -> None:
    settings, errors = plan_settings(settings_table(plan_year=None, rules_date=""), TODAY)
    assert errors.empty
    assert settings.plan_year == 2027 and settings.rules_on == date(2027, 1, 1)


def test_values_the_model_refuses_are_located() -> None:
    settings, errors = plan_settings(
        settings_table(plan_year=1999, rounding_unit=0, reconcile_method="average"), TODAY
    )
    assert list(errors["row"]) == [0, 1, 2]
    assert settings.plan_year == 2027 and settings.rounding_unit == 1.0
    assert settings.reconcile_method is ReconcileMethod.KEEP
    assert "reconcile_method" in errors["en"].iloc[2]


def test_an_unknown_setting_is_reported() -> None:
    _, errors = plan_settings(settings_table(plan_yaer=2027), TODAY)
    assert errors["column"].tolist() == ["setting"]
    assert "plan_yaer" in errors["en"].iloc[0] and "plan_year" in errors["en"].iloc[0]


def test_a_workbook_without_settings_plans_next_year_with_todays_rules() -> None:
    settings, errors = plan_settings(None, TODAY)
    assert errors.empty
    assert settings.plan_year == 2027 and settings.rules_on == TODAY
