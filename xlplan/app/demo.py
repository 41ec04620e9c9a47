"""The shipped demo: a 3C-accessories seller (power banks, GaN chargers, cables, earbuds) whose
US/EU Amazon growth has stalled and who expands into Latin America in 2026.

``run_demo`` builds the plan workbook from the template with the demo's data (landed-cost lines
for US, DE, GB, JP, MX, BR; the three maps' targets for a 3.6亿 CNY company target; a Brazil
launch in April; nine months of actuals), runs every action headless through the file port,
exactly as ``xlplan run`` does, and returns the summary the CLI prints. Figures are illustrative
(``xlplan/reference/data/demo/README.md``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from xlplan import actions
from xlplan.app import templates
from xlplan.reference import DATA_DIR
from xlplan.workbook.io import FilePort

DEMO_DIR = DATA_DIR / "demo"
DEMO_LINES = DEMO_DIR / "landed_cost_lines.csv"
PLAN_YEAR = 2026
COMPANY_TARGET = 360_000_000.0  # 3.6亿 CNY


@dataclass
class DemoResult:
    workbooks: list[Path] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    lines: list[str] = field(default_factory=list)
    problems: int = 0


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DEMO_DIR / name, dtype=str, keep_default_na=False).replace({"": None})


def demo_lines() -> pd.DataFrame:
    """The demo's landed-cost lines, raw as a user would type them."""
    return pd.read_csv(DEMO_LINES, dtype=str, keep_default_na=False)


def demo_imports() -> pd.DataFrame:
    """The Customer Map's import table: the seller's Shopify store export (absolute path)."""
    from xlplan.maps.sheets import sample_imports

    imports = sample_imports()
    imports.loc[0, "path"] = str(DEMO_DIR / "orders_shopify.csv")
    imports.loc[0, "note"] = "Shopify DTC store, Jan 2025 - Sep 2026"
    return imports


def demo_targets() -> templates.PlanTargets:
    """Target lines, actuals (January to September), launches and order files of the demo."""
    return templates.PlanTargets(
        target_lines=_csv("target_lines.csv"),
        actuals=_csv("actuals.csv"),
        launches=_csv("launches.csv"),
        order_imports=demo_imports(),
        company_target=COMPANY_TARGET,
        reconcile_method="pro_rata",
        rounding_unit=10_000,
    )


def run_demo(out_dir: Path, today: date, *, render: bool = True) -> DemoResult:
    """Write ``demo-plan.xlsx`` (English) and ``demo-plan-zh.xlsx`` into ``out_dir``, and their
    PDF renders when LibreOffice is installed and ``render`` is set."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = DemoResult()
    lines = demo_lines().replace({"": None})
    numeric = [c for c in lines.columns if c not in ("sku", "market", "channel", "cost_currency")]
    lines[numeric] = lines[numeric].apply(pd.to_numeric)
    targets = demo_targets()
    written: dict[str, pd.DataFrame] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang, name in (("en", "demo-plan.xlsx"), ("zh", "demo-plan-zh.xlsx")):
            source = Path(tmp) / f"demo-input-{lang}.xlsx"
            source.write_bytes(
                templates.template_bytes(lang, lines, plan_year=PLAN_YEAR, targets=targets)
            )
            port = FilePort(source, actions.CATALOG, lang=lang)
            report = actions.run(port, today)
            if lang == "en":
                result.lines.extend(line.en for line in report.summary)
                result.problems += len(report.errors)
            target = out_dir / name
            port.save(target)
            result.workbooks.append(target)
            if lang == "en":
                written = dict(port.written)
    result.table = written.get("landed_cost_results", pd.DataFrame())
    result.lines = [*headline(written), "", *result.lines]
    result.lines.extend(summary_lines(result.table))
    if render:
        result.pdfs = render_pdfs(result.workbooks, out_dir)
    result.lines.append("")
    result.lines.extend(f"written: {p}" for p in [*result.workbooks, *result.pdfs])
    if render and not result.pdfs:
        result.lines.append("(LibreOffice not found: no PDF render; install libreoffice-calc)")
    return result


def _english(label: object) -> str:
    """The English half of a ``中文 / English`` label the sheets show."""
    from xlplan.planning.action import DIMENSION_LABELS

    back = {v: k for k, v in DIMENSION_LABELS.items()}
    return back.get(str(label), str(label))


def headline(written: dict[str, pd.DataFrame]) -> list[str]:
    """Target, attainment to date, forecast and the three most urgent red flags."""
    out = [f"3C accessories seller, plan {PLAN_YEAR}: company target {COMPANY_TARGET:,.0f} CNY"]
    forecast = written.get("forecast")
    if forecast is not None and len(forecast):
        row = forecast.iloc[0]
        out.append(
            f"attainment to date {row['ytd_attainment']:.1%} "
            f"({row['ytd_actual']:,.0f} of {row['ytd_plan']:,.0f}); full-year forecast "
            f"{row['forecast']:,.0f} ({row['forecast_attainment']:.1%}); gap to close "
            f"{row['gap_to_close']:,.0f}"
        )
    drivers = written.get("gap_drivers")
    if drivers is not None and len(drivers):
        top = drivers.iloc[0]
        out.append(
            f"largest gap: {_english(top['dimension'])} {top['value'] or '(all)'} "
            f"{top['variance']:,.0f} ({top['attainment']:.0%} attained)"
        )
    flags = written.get("kpi_flags")
    if flags is not None and len(flags) and "flag" in flags.columns:
        red = flags[flags["flag"].astype(str) == "red"].head(3)
        out.append("top red flags:")
        for _, r in red.iterrows():
            where = " ".join(str(r[c]) for c in ("market", "channel") if c in r and r[c])
            out.append(f"  - {where}: {r['reason_en']}")
    return out


def summary_lines(table: pd.DataFrame) -> list[str]:
    """A short fixed-width table: the figures a seller looks at first."""
    if table.empty:
        return []
    cols = {
        "sku": "SKU",
        "market": "Mkt",
        "channel": "Channel",
        "currency": "Ccy",
        "landed_cost": "Landed",
        "net_price": "Net price",
        "contribution": "Contrib.",
        "contribution_margin": "Margin",
        "breakeven_price": "Break-even",
        "price_for_target_margin": "Price@target",
    }
    from xlplan.core.money import minor_units
    from xlplan.reference import currencies

    view = table[list(cols)].rename(columns=cols).copy()
    view["Margin"] = view["Margin"].map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
    places = minor_units(table["currency"], currencies()).astype(int)
    for c in ("Landed", "Net price", "Contrib.", "Break-even", "Price@target"):
        view[c] = [
            "" if pd.isna(v) else f"{v:,.{d}f}" for v, d in zip(view[c], places, strict=True)
        ]
    return [
        "",
        "Landed cost and margin per unit (market currency):",
        *view.to_string(index=False).splitlines(),
    ]


def render_pdfs(workbooks: list[Path], out_dir: Path) -> list[Path]:
    """PDFs of the workbooks through LibreOffice headless; none when it is not installed."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return []
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            *map(str, workbooks),
        ]
        subprocess.run(cmd, capture_output=True, timeout=600, check=False)
    return [p for p in (out_dir / f"{w.stem}.pdf" for w in workbooks) if p.exists()]
