"""Checks on the shipped customs tables: tariff rows, the UK Global Tariff extract, per-entry
fees, money rounding rules and country codes; and their loaders.

The extract is cross-checked against the DIT CSV in ../shared when that directory is present.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

import xlplan
from xlplan import reference

DATA = Path(xlplan.__file__).parent / "reference" / "data"
SHARED_TARIFF = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "tariffs"
    / "uk_global_tariff_ukgt_vs_eu_cet_2021.csv"
)
FAR_FUTURE = dt.date(9999, 12, 31)
DATA_FLOOR = dt.date(2021, 1, 1)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MARKETS_3C = {"US", "EU", "GB", "JP", "CA", "AU", "MX", "BR"}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, dtype=str, keep_default_na=False, encoding="utf-8")


def _date(text: str, blank: dt.date | None = None) -> dt.date:
    if text == "":
        assert blank is not None, "date must not be blank"
        return blank
    assert ISO_DATE.match(text), f"not an ISO date: {text!r}"
    return dt.date.fromisoformat(text)


def _num(text: str) -> float | None:
    return None if text == "" else float(text)


@pytest.fixture(scope="module")
def tariff() -> pd.DataFrame:
    return _read("tariff_rows.csv")


@pytest.fixture(scope="module")
def fees() -> pd.DataFrame:
    return _read("entry_fees.csv")


@pytest.fixture(scope="module")
def rounding() -> pd.DataFrame:
    return _read("rounding_rules.csv")


@pytest.fixture(scope="module")
def countries() -> set[str]:
    return set(_read("countries.csv")["country"])


@pytest.fixture(scope="module")
def markets() -> set[str]:
    return set(_read("markets.csv")["market"]) | {"EU"}


@pytest.mark.parametrize(
    ("name", "columns"),
    [
        ("tariff_rows.csv", reference.TARIFF_COLUMNS),
        ("entry_fees.csv", reference.ENTRY_FEE_COLUMNS),
        ("rounding_rules.csv", reference.ROUNDING_COLUMNS),
        ("countries.csv", ["country", "name_en", "name_zh"]),
        (
            "uk_global_tariff_2021.csv",
            [
                "commodity",
                "ukgt_duty_rate",
                "duty_rate",
                "suspension_applies",
                "trade_remedy_applies",
                "description",
            ],
        ),
    ],
)
def test_exact_columns(name: str, columns: list[str]) -> None:
    assert list(_read(name).columns) == columns


def test_customs_rules_start_after_the_data_floor() -> None:
    """Dated and sourced is checked for every rule table in test_data; customs rules also
    start no earlier than the data this release covers."""
    for name in ("tariff_rows.csv", "entry_fees.csv", "rounding_rules.csv"):
        df = _read(name)
        for i, row in df.iterrows():
            start = _date(row["effective_from"])
            assert start >= DATA_FLOOR, f"{name} row {i + 2} starts before the data floor"
            assert start < _date(row["effective_to"], FAR_FUTURE), f"{name} row {i + 2}"


def test_countries(countries: set[str]) -> None:
    assert len(countries) == 249
    assert {"CN", "HK", "US", "MX", "CA", "GB", "DE", "VN", "NA"} <= countries
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in countries)


# ---------------------------------------------------------------------------- tariff rows


def test_tariff_domains(tariff: pd.DataFrame, markets: set[str], countries: set[str]) -> None:
    for i, row in tariff.iterrows():
        where = f"row {i + 2} ({row['hs_prefix']} {row['market']} {row['origin']})"
        assert re.fullmatch(r"(\d{2,10})?", row["hs_prefix"]), where
        assert row["market"] in markets, where
        assert row["origin"] == "" or row["origin"] in countries, where
        base, extra = _num(row["duty_rate"]), _num(row["extra_duty_rate"])
        assert (base is None) != (extra is None), f"{where}: exactly one of the two rates"
        rate = base if base is not None else extra
        assert rate is not None and 0 <= rate <= 2, where
        if extra is not None:
            assert re.fullmatch(r"[a-z0-9_]+", row["measure"]), f"{where}: extra needs a measure"


def test_tariff_periods_of_one_key_do_not_overlap(tariff: pd.DataFrame) -> None:
    keyed: dict[tuple[str, ...], list[tuple[dt.date, dt.date]]] = {}
    for _, row in tariff.iterrows():
        kind = "base" if row["duty_rate"] else row["measure"]
        key = tuple(str(v) for v in (row["hs_prefix"], row["market"], row["origin"], kind))
        keyed.setdefault(key, []).append(
            (_date(row["effective_from"]), _date(row["effective_to"], FAR_FUTURE))
        )
    for key, periods in keyed.items():
        periods.sort()
        for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
            assert end <= start, f"{key}: overlapping periods {periods}"


def test_tariff_covers_the_3c_and_apparel_headings(tariff: pd.DataFrame) -> None:
    """Sourced rows for the headings a 3C/apparel seller uses most, in every target market
    where the research found a source (the gaps are listed in SOURCES.md)."""
    have = set(zip(tariff["market"], tariff["hs_prefix"].str[:4], strict=True))
    for market in ("US", "EU", "CA"):
        for heading in ("6109", "6201", "6206"):
            assert (market, heading) in have, (market, heading)
    for market in ("US", "EU", "GB"):
        for heading in ("8504", "8544", "8507", "3926"):
            assert (market, heading) in have or market == "GB", (market, heading)
    assert ("AU", "8507") in have and ("AU", "61") in {
        (m, p[:2]) for m, p in zip(tariff["market"], tariff["hs_prefix"], strict=True)
    }
    assert {m for m in tariff["market"]} >= MARKETS_3C


def test_us_extra_duty_regimes_are_dated(tariff: pd.DataFrame) -> None:
    all_goods = tariff[(tariff["hs_prefix"] == "") & (tariff["market"] == "US")]
    fentanyl = all_goods[all_goods["measure"] == "us_ieepa_fentanyl"].sort_values("effective_from")
    assert fentanyl["extra_duty_rate"].astype(float).tolist() == [0.10, 0.20, 0.10]
    assert fentanyl["effective_to"].iloc[-1] == "2026-02-24"
    (s122,) = all_goods[all_goods["measure"] == "us_s122"].itertuples()
    assert (s122.effective_from, s122.effective_to, s122.origin) == (
        "2026-02-24",
        "2026-07-24",
        "",
    )
    forced = all_goods[all_goods["measure"] == "us_s301_forced_labour"]
    assert set(forced["origin"]) == {"CN", "HK"} and (forced["uncertain"] == "true").all()


# ---------------------------------------------------------------------------- UK extract


def test_uk_extract_is_complete_and_marked_as_of_its_source() -> None:
    rows = reference.uk_global_tariff()
    assert len(rows) == 11830 and rows["hs_prefix"].is_unique
    assert rows["hs_prefix"].str.len().isin([8, 10]).all()
    assert (rows["market"] == "GB").all() and (rows["uncertain"] == "true").all()
    assert (rows["effective_from"] == "2021-01-01").all() and "2020-12-02" in rows["note"][0]
    ad_valorem = rows["duty_rate"] != ""
    assert ad_valorem.sum() == 10705
    assert (rows.loc[~ad_valorem, "duty_text"] != "").all()
    by_code = rows.set_index("hs_prefix")
    assert by_code.loc["01012990", "duty_rate"] == "0.1"  # leading zero restored
    assert by_code.loc["61091000", "duty_rate"] == "0.12"
    assert by_code.loc["62061000", "duty_rate"] == "0.12"


def test_uk_extract_matches_the_dit_csv() -> None:
    if not SHARED_TARIFF.exists():
        pytest.skip(f"shared tariff data not found at {SHARED_TARIFF}")
    dit = pd.read_csv(SHARED_TARIFF, dtype=str, keep_default_na=False)
    ours = _read("uk_global_tariff_2021.csv")
    assert (ours["commodity"].str.lstrip("0") == dit["commodity"].str.lstrip("0")).all()
    assert (ours["ukgt_duty_rate"] == dit["ukgt_duty_rate"].str.strip()).all()
    pct = dit["ukgt_duty_rate"].str.fullmatch(r"\d+(?:\.\d+)?%")
    parsed = ours.loc[pct, "duty_rate"].astype(float)
    expected = dit.loc[pct, "ukgt_duty_rate"].str.rstrip("%").astype(float) / 100
    assert (parsed - expected).abs().max() < 1e-12


# ---------------------------------------------------------------------------- entry fees


def test_entry_fee_domains(fees: pd.DataFrame) -> None:
    for i, row in fees.iterrows():
        where = f"row {i + 2} ({row['market']} {row['fee']})"
        modes = row["transport_mode"].split(";") if row["transport_mode"] else []
        assert set(modes) <= set(reference.TRANSPORT_MODES), where
        rate, flat = _num(row["rate"]), _num(row["flat_amount"])
        assert (rate is None) != (flat is None), f"{where}: a rate or a flat amount"
        lo, hi = _num(row["min_amount"]), _num(row["max_amount"])
        assert lo is None or hi is None or lo < hi, where


@pytest.mark.parametrize(
    ("day", "minimum", "maximum", "informal"),
    [
        (dt.date(2025, 9, 30), 32.71, 634.62, 2.62),
        (dt.date(2025, 10, 1), 33.58, 651.50, 2.69),
    ],
)
def test_us_mpf_by_fiscal_year(
    day: dt.date, minimum: float, maximum: float, informal: float
) -> None:
    rows = reference.entry_fees(day)
    mpf = rows[rows["fee"] == "merchandise_processing_fee"]
    (formal,) = mpf[mpf["entry_type"] == "formal"].itertuples()
    (small,) = mpf[mpf["entry_type"] == "informal"].itertuples()
    assert (formal.rate, formal.min_amount, formal.max_amount) == (0.003464, minimum, maximum)
    assert formal.min_value == 2500 and small.max_value == 2500
    assert small.flat_amount == informal
    hmf = rows[rows["fee"] == "harbor_maintenance_fee"]
    assert hmf["rate"].tolist() == [0.00125] and hmf["transport_mode"].tolist() == ["ocean"]


# ---------------------------------------------------------------------------- rounding


def test_rounding_domains(rounding: pd.DataFrame, markets: set[str]) -> None:
    for i, row in rounding.iterrows():
        where = f"row {i + 2} ({row['market']} {row['step']})"
        assert row["market"] in markets, where
        assert row["step"] in reference.ROUNDING_STEPS, where
        assert row["method"] in reference.ROUNDING_METHODS, where
        assert float(row["increment"]) > 0, where


def test_no_default_for_the_unsourced_eu_import_vat_rule(rounding: pd.DataFrame) -> None:
    """'EU import VAT under EUR 1 is not collected' has no source: it is an option a workbook
    may set, never a shipped default."""
    assert "not_collected_below" not in set(rounding["method"])
    assert not (rounding["market"] == "EU").any()


def test_uk_duty_truncates() -> None:
    rows = reference.rounding_rules(dt.date(2026, 1, 1)).set_index(["market", "step"])
    assert rows.loc[("GB", "duty"), "method"] == "truncate"
    assert rows.loc[("GB", "duty"), "increment"] == 0.01
    assert rows.loc[("US", "duty_base"), "increment"] == 1


# ---------------------------------------------------------------------------- loading


def test_load_rules_merges_workbook_rows() -> None:
    on = dt.date(2026, 3, 1)
    own_tariff = pd.DataFrame(
        [{"hs_prefix": "8507.60", "market": "us", "origin": "cn", "duty_rate": 0.05}]
    )
    own_fees = pd.DataFrame(
        [
            {
                "market": "US",
                "fee": "customs_brokerage",
                "transport_mode": "ocean",
                "flat_amount": 90.0,
                "currency": "USD",
                "value_currency": "USD",
            }
        ]
    )
    own_rounding = pd.DataFrame(
        [{"market": "DE", "step": "import_vat", "method": "not_collected_below", "increment": 1}]
    )
    rules = reference.load_rules(on, tariff=own_tariff, entry_fees=own_fees, rounding=own_rounding)
    mine = rules.tariff[rules.tariff["layer"] == reference.WORKBOOK]
    assert mine[["hs_prefix", "market", "origin"]].to_numpy().tolist() == [["850760", "US", "CN"]]
    brokerage = rules.entry_fees[rules.entry_fees["fee"] == "customs_brokerage"]
    assert brokerage["flat_amount"].tolist() == [90.0]
    assert len(rules.entry_fees) == len(reference.entry_fees(on))
    assert ("DE", "import_vat") in set(
        zip(rules.rounding["market"], rules.rounding["step"], strict=True)
    )
    assert "CN" in rules.countries and "XX" not in rules.countries
