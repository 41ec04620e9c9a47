"""Published worked examples of customs duty and import tax, reproduced to the cent through the
command line (``xlplan landed-cost lines.csv``) and through the calculator.

Each case cites its source. The lines are what a user would type; the expected figures are the
published ones (the CSV output is rounded at the boundary, half-up to the currency's minor unit;
the calculator's own figures are checked to the cent with the same rounding).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

from xlplan.app.cli import main
from xlplan.landed_cost.action import results_table
from xlplan.reference import load_rules


@dataclass(frozen=True)
class Example:
    """Lines, the rules date, an FX table if needed, and the published figures per line
    (output key -> amount)."""

    name: str
    source: str
    day: date
    lines: list[dict[str, object]]
    expected: list[dict[str, float]]
    fx: list[tuple[str, str, float]] = field(default_factory=list)


HEADERS = {
    "customs_value": "Customs value",
    "duty_base": "Duty base",
    "duty": "Duty",
    "extra_duty": "Extra duty",
    "vat_base": "Value for tax",
    "import_vat": "Import tax",
    "entry_fees": "Entry fees",
}

EXAMPLES = [
    Example(
        "eu_eur3_per_subheading",
        "Council of the EU press release 2026-02-11 (EUR 3 duty on small parcels; as quoted by "
        "regfollower.com, politis.com.cy): a parcel under EUR 150 with a silk blouse and wool "
        "blouses, two tariff subheadings, pays EUR 6. Values per blouse chosen here.",
        date(2026, 7, 1),
        [
            dict(
                sku="silk", market="IE", parcel="P1", hs_code="6206.10.00", unit_cost=40, price=99
            ),
            dict(
                sku="wool",
                market="IE",
                parcel="P1",
                hs_code="6206.20.00",
                units_per_parcel=2,
                unit_cost=30,
                price=79,
            ),
        ],  # fmt: skip
        # EUR 6 shared by value: 6 x 40/100 and 6 x 30/100 per blouse; 2.40 + 2 x 1.80 = 6.00
        [{"duty": 2.40, "extra_duty": 0, "import_vat": 0}, {"duty": 1.80, "import_vat": 0}],
    ),
    Example(
        "uk_duty_fraction_of_a_penny",
        "We Deliver The World, 'What is the value for duty' (FAQ): goods GBP 80 + transport to "
        "the UK GBP 35 = value for duty GBP 115; duty at 3.5% = GBP 4.02 (fractions of a penny "
        "disregarded, CEMA 1979 s.137(4)); the VAT base follows the duty.",
        date(2026, 1, 1),
        [
            dict(
                market="GB",
                units_per_entry=1,
                unit_cost=80,
                freight_per_unit=35,
                duty_rate=0.035,
                price=300,
            )
        ],  # fmt: skip
        [
            {
                "customs_value": 115.00,
                "duty_base": 115.00,
                "duty": 4.02,
                "vat_base": 119.02,
                "import_vat": 23.80,
            }
        ],  # fmt: skip
    ),
    Example(
        "uk_vat_value_adjustment",
        "Langdon Systems, 'Calculating customs duty and VAT - how is it done?': invoice "
        "GBP 10,000 + freight 100 + insurance 50 = 10,150; duty 10% = 1,015; value for VAT = "
        "10,150 + 1,015 + VAT value adjustment 500 = 11,665; VAT 20% = 2,333.",
        date(2026, 1, 1),
        [
            dict(
                market="GB",
                units_per_entry=1,
                unit_cost=10_000,
                freight_per_unit=100,
                insurance_per_unit=50,
                duty_rate=0.10,
                vat_base_adjustment=500,
                price=20_000,
            )
        ],
        [
            {
                "customs_value": 10_150.00,
                "duty": 1_015.00,
                "vat_base": 11_665.00,
                "import_vat": 2_333.00,
            }
        ],
    ),  # fmt: skip
    Example(
        "us_de_minimis_lost_for_cn_origin",
        "Executive Order 14256 of 2025-04-02 s.2 (Federal Register 90 FR 14899): goods of PRC "
        "origin lost the US$800 de minimis exemption from 12:01 a.m. EDT 2025-05-02; every "
        "other origin kept it until 2025-08-29 (EO 14324). A US$100 courier parcel on "
        "2025-06-01 at a 5% duty rate: CN origin pays US$5.00, VN origin pays nothing.",
        date(2025, 6, 1),
        [
            dict(
                sku="cn",
                market="US",
                origin="CN",
                units_per_parcel=1,
                unit_cost=100,
                duty_rate=0.05,
                extra_duty_rate=0,
                price=300,
            ),
            dict(
                sku="vn",
                market="US",
                origin="VN",
                units_per_parcel=1,
                unit_cost=100,
                duty_rate=0.05,
                extra_duty_rate=0,
                price=300,
            ),
        ],  # fmt: skip
        [{"duty": 5.00, "extra_duty": 0}, {"duty": 0, "extra_duty": 0}],
    ),
    Example(
        "ireland_revenue",
        "Revenue (Ireland), 'How to calculate what you owe' (travelling from outside the EU): "
        "a camera EUR 500 (0% duty) and shirts EUR 600 at the 2.5% standard rate: duty EUR 15; "
        "value for VAT 500 + 600 + 15 = 1,115; VAT 23% = EUR 256.45.",
        date(2026, 1, 1),
        [
            dict(sku="camera", market="IE", unit_cost=500, duty_rate=0, price=900),
            dict(sku="shirts", market="IE", unit_cost=600, duty_rate=0.025, price=900),
        ],
        [
            {"duty": 0, "vat_base": 500.00, "import_vat": 115.00},
            {"duty": 15.00, "vat_base": 615.00, "import_vat": 141.45},  # 115 + 141.45 = 256.45
        ],
    ),
    Example(
        "australia_customs",
        "Australian Customs and Border Protection, 'How is duty and GST calculated?' (as quoted "
        "from customs.gov.au): amplifier US$1,274 at A$1 = US$0.91 -> customs value A$1,400; "
        "postage and insurance US$118.30 -> A$130; duty 5% = A$70; VoTI = 1,400 + 70 + 130 = "
        "A$1,600; GST 10% = A$160.",
        date(2026, 1, 1),
        [
            dict(
                market="AU",
                unit_cost=1274,
                cost_currency="USD",
                fx_rate=1 / 0.91,
                freight_per_unit=130,
                duty_rate=0.05,
                price=3000,
            )
        ],  # fmt: skip
        [{"customs_value": 1_400.00, "duty": 70.00, "vat_base": 1_600.00, "import_vat": 160.00}],
    ),
    Example(
        "australia_customs_2",
        "Australian Customs (customs.gov.au/site/page5549.asp, as quoted): customs value "
        "A$1,200; duty 5% = A$60; transport and insurance A$150; VoTI A$1,410; GST A$141.",
        date(2026, 1, 1),
        [dict(market="AU", unit_cost=1200, freight_per_unit=150, duty_rate=0.05, price=3000)],
        [{"customs_value": 1_200.00, "duty": 60.00, "vat_base": 1_410.00, "import_vat": 141.00}],
    ),
    Example(
        "canada_cbsa",
        "CBSA, 'Importing commercial goods into Canada - 3. Determining duties and taxes' (as "
        "quoted): US$100 x 1.15 = C$115.00 value for duty; duty 4% = 4.60; value for tax "
        "119.60; GST 5% = 5.98.",
        date(2026, 1, 1),
        [
            dict(
                market="CA",
                unit_cost=100,
                cost_currency="USD",
                fx_rate=1.15,
                duty_rate=0.04,
                units_per_entry=1,
                price=300,
            )
        ],  # fmt: skip
        [{"customs_value": 115.00, "duty": 4.60, "vat_base": 119.60, "import_vat": 5.98}],
    ),
    Example(
        "canada_hst",
        "shippsy.com worked example (not CBSA): non-CUSMA goods US$150 x 1.32 = C$198.00; duty "
        "17% = 33.66; 198 + 33.66 = 231.66; HST 13% = 30.1158 -> 30.12.",
        date(2026, 1, 1),
        [
            dict(
                market="CA",
                unit_cost=150,
                cost_currency="USD",
                fx_rate=1.32,
                duty_rate=0.17,
                vat_rate=0.13,
                units_per_entry=1,
                price=500,
            )
        ],  # fmt: skip
        [{"customs_value": 198.00, "duty": 33.66, "vat_base": 231.66, "import_vat": 30.12}],
    ),
    Example(
        "japan_customs_answer_1111",
        "Japan Customs, Customs Answer 1111 'Calculation Method of Amount of Tariff Duty, "
        "Consumption Tax, etc': line A CIF 534,795 -> 534,000 x 14% = 74,760, consumption-tax "
        "base 534,795 + 74,700 = 609,495 -> 609,000; line B CIF 126,258 -> 126,000 x 14% = "
        "17,640, base 126,258 + 17,600 = 143,858 -> 143,000.",
        date(2026, 1, 1),
        [
            dict(
                sku="A",
                market="JP",
                units_per_entry=1,
                unit_cost=534_795,
                duty_rate=0.14,
                price=900_000,
            ),
            dict(
                sku="B",
                market="JP",
                units_per_entry=1,
                unit_cost=126_258,
                duty_rate=0.14,
                vat_rate=0.08,
                price=300_000,
            ),
        ],  # fmt: skip
        [
            {"duty_base": 534_000, "duty": 74_760, "vat_base": 609_000},
            {"duty_base": 126_000, "duty": 17_640, "vat_base": 143_000},
        ],
    ),
    Example(
        "brazil_remessa_conforme",
        "d24am.com (Remessa Conforme, US$1 = R$5.50, ICMS 17% 'por dentro'): R$100.00 -> II "
        "20.00, ICMS 24.58; R$330.00 -> II 198.00 - US$20 (R$110.00) = 88.00, ICMS 85.61.",
        date(2026, 1, 1),
        [
            dict(market="BR", units_per_parcel=1, unit_cost=100, price=300),
            dict(market="BR", units_per_parcel=1, unit_cost=330, price=900),
        ],
        [{"duty": 20.00, "import_vat": 24.58}, {"duty": 88.00, "import_vat": 85.61}],
        fx=[("USD", "BRL", 5.5)],
    ),
]


def _rules(example: Example):  # type: ignore[no-untyped-def]
    fx = pd.DataFrame(example.fx, columns=["from_currency", "to_currency", "rate"])
    return load_rules(example.day, fx=fx if example.fx else None)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_worked_example_through_the_calculator(example: Example) -> None:
    table, errors = results_table(pd.DataFrame(example.lines), _rules(example))
    assert errors.empty, errors["en"].tolist()
    for i, expected in enumerate(example.expected):
        for key, amount in expected.items():
            assert table[key].iloc[i] == pytest.approx(amount, abs=1e-9), (i, key)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_worked_example_through_the_command_line(
    example: Example, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "lines.csv"
    pd.DataFrame(example.lines).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    args = ["landed-cost", str(src), "-o", str(out), "--date", example.day.isoformat()]
    if example.fx:
        fx = tmp_path / "fx.csv"
        with fx.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([("from_currency", "to_currency", "rate"), *example.fx])
        args += ["--fx", str(fx)]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = pd.read_csv(out, encoding="utf-8-sig")
    for i, expected in enumerate(example.expected):
        for key, amount in expected.items():
            assert result[HEADERS[key]].iloc[i] == pytest.approx(amount, abs=1e-9), (i, key)


def test_eu_parcel_total_is_eur_6() -> None:
    """The Council's figure is for the parcel: the lines' shares add up to EUR 6.00."""
    example = EXAMPLES[0]
    table, _ = results_table(pd.DataFrame(example.lines), _rules(example))
    units = [line.get("units_per_parcel", 1) for line in example.lines]
    assert sum(u * d for u, d in zip(units, table["duty"], strict=True)) == pytest.approx(6.00)


def test_uk_example_needs_truncation_not_half_up() -> None:
    """115 x 3.5% = 4.025 exactly: truncation (and half-even) give 4.02, half-up 4.03; the
    published figure is 4.02. Decimal, not float, tells them apart."""
    exact = Decimal("115") * Decimal("0.035")
    assert exact == Decimal("4.025")
    assert exact.quantize(Decimal("0.01"), rounding=ROUND_DOWN) == Decimal("4.02")
    assert exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == Decimal("4.03")
    line = EXAMPLES[1].lines[0]
    table, _ = results_table(pd.DataFrame([line]), _rules(EXAMPLES[1]))
    assert table["duty"].iloc[0] == 4.02


def test_ireland_total_due() -> None:
    example = next(e for e in EXAMPLES if e.name == "ireland_revenue")
    table, _ = results_table(pd.DataFrame(example.lines), _rules(example))
    assert table["duty"].sum() == pytest.approx(15.00)
    assert table["import_vat"].sum() == pytest.approx(256.45)
    assert table["duty"].sum() + table["import_vat"].sum() == pytest.approx(271.45)
