"""The shipped demo: a 3C-accessories seller (power banks, GaN chargers, cables, earbuds) whose
US/EU Amazon growth has stalled and who expands into Latin America in 2026.

``run_demo`` builds the plan workbook from the template with the demo's data (landed-cost lines
for US, DE, GB, JP, MX, BR; the three maps' targets for a 3.6亿 CNY company target; a Brazil
launch in April; nine months of actuals; the SKU mix, supply routes and closures of its stock
and cash plans), runs every action headless through the file port,
exactly as ``xlplan run`` does, and returns the summary the CLI prints. Figures are illustrative
(``xlplan/reference/data/demo/README.md``).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

import pandas as pd

from xlplan import actions
from xlplan.app import places, templates
from xlplan.landed_cost.tables import LANDED_COST
from xlplan.reference import DATA_DIR
from xlplan.supply import sheets as supply_sheets
from xlplan.supply.calc.settings import SupplySettings
from xlplan.workbook.io import FilePort
from xlplan.workbook.schema import NUMERIC_KINDS

DEMO_DIR = DATA_DIR / "demo"
DEMO_LINES = DEMO_DIR / "landed_cost_lines.csv"
PLAN_YEAR = 2026
COMPANY_TARGET = 360_000_000.0  # 3.6亿 CNY
SUPPLY_AS_OF = date(PLAN_YEAR - 1, 11, 15)  # the stock plan is drawn up when the targets are set
OPENING_CASH = 20_000_000.0  # [CNY]


@dataclass
class DemoResult:
    workbooks: list[Path] = field(default_factory=list)
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
        supply=demo_supply(),
        plan_as_of=SUPPLY_AS_OF,
    )


def demo_supply() -> supply_sheets.SupplyFrames:
    """The stock and cash inputs of the demo: its SKU mix, supply routes and supplier closures
    (``supply_*.csv``) and 20 million CNY of opening cash."""
    return supply_sheets.SupplyFrames(
        skus=_csv("supply_skus.csv"),
        routes=_csv("supply_routes.csv"),
        closures=_csv("supply_closures.csv"),
        settings=SupplySettings(opening_cash=OPENING_CASH),
    )


def supply_lines(written: dict[str, pd.DataFrame]) -> list[str]:
    """What the stock and cash plans say: orders, those due before Chinese New Year, the months
    at risk, the funding peak and the cash low point."""
    orders = written.get("purchase_orders")
    cash = written.get("cash_summary")
    if orders is None or cash is None or cash.empty:
        return []
    cny = orders[orders["before_cny"].astype(bool)]
    risky = written.get("stock_at_risk", pd.DataFrame())
    row = cash.iloc[0]
    out = [
        "",
        f"Stock and cash (as of {SUPPLY_AS_OF}): {len(orders)} purchase orders, "
        f"{orders['value'].sum():,.0f} CNY of goods; {len(cny)} must be placed before the "
        f"Chinese New Year shutdown, the last by {cny['order_date'].max():%Y-%m-%d}"
        if len(cny)
        else f"Stock and cash (as of {SUPPLY_AS_OF}): {len(orders)} purchase orders",
    ]
    for market in ("MX", "BR"):
        mine = orders[orders["market"] == market]
        if len(mine):
            out.append(f"  {market}: first stock available {mine['available_date'].min():%Y-%m-%d}")
    if len(risky):
        where = sorted(set(risky["sku"] + " " + risky["market"] + " " + risky["month"]))
        out.append(
            f"  revenue at risk {risky['revenue_at_risk'].sum():,.0f} CNY ({', '.join(where)})"
        )
    out.append(
        f"  peak funding need {row['funding_need']:,.0f} CNY tied up at the end of "
        f"{row['peak_month']}; lowest cash {row['lowest_cash']:,.0f} in {row['lowest_month']}; "
        f"cash conversion cycle {row['ccc_days']:.0f} days"
    )
    return out


def run_demo(
    out_dir: Path,
    today: date,
    *,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Write ``demo-plan.xlsx`` (English) and ``demo-plan-zh.xlsx`` into ``out_dir``.
    ``progress`` hears of each step as it starts. The PDF renders are a separate step
    (:func:`render_pdfs`), so the summary is out before LibreOffice starts."""
    say = progress or (lambda _: None)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = DemoResult()
    lines = demo_lines().replace({"": None})
    numeric = [
        c.key for c in LANDED_COST.columns if c.kind in NUMERIC_KINDS and c.key in lines.columns
    ]
    lines[numeric] = lines[numeric].apply(pd.to_numeric)  # numbers as a user types them
    targets = demo_targets()
    written: dict[str, pd.DataFrame] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang, name in (("en", "demo-plan.xlsx"), ("zh", "demo-plan-zh.xlsx")):
            say(f"building the demo plan ({lang}) and running every action ...")
            source = Path(tmp) / f"demo-input-{lang}.xlsx"
            source.write_bytes(
                # no sample outputs: the run below writes every output table
                templates.template_bytes(
                    lang, lines, plan_year=PLAN_YEAR, targets=targets, samples=False
                )
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
    result.lines = [*headline(written), *supply_lines(written), "", *result.lines]
    result.lines.extend(summary_lines(result.table))
    result.lines.append("")
    result.lines.extend(f"written: {p}" for p in result.workbooks)
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


@dataclass(frozen=True)
class Rendered:
    """What :func:`render_pdfs` made: the PDFs, and for each workbook LibreOffice did not
    render, why (one line, both languages)."""

    pdfs: list[Path]
    problems: list[str]


RENDER_TIMEOUT_S = 600


def render_pdfs(workbooks: list[Path], out_dir: Path, soffice: str) -> Rendered:
    """PDFs of the workbooks through LibreOffice headless (``soffice``, its program), one
    process per workbook side by side: two demo workbooks of ~200 pages
    each take ~10 s apiece, about half that wall time on two cores. Each process has its own
    profile in XLPlan's app-data folder, kept between runs (LibreOffice's first start in a new
    profile takes seconds; two processes cannot share one). A PDF left by an earlier run is
    removed first, so a render that fails is reported, never hidden by an old file."""
    started: list[tuple[Path, Path, subprocess.Popen[bytes], IO[bytes]]] = []
    pdfs: list[Path] = []
    problems: list[str] = []
    for i, book in enumerate(workbooks):
        pdf = out_dir / f"{book.stem}.pdf"
        pdf.unlink(missing_ok=True)
        profile = places.app_dir() / "libreoffice" / f"profile-{i}"  # per user, every OS
        cmd = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(book),
        ]
        said = tempfile.TemporaryFile()  # not a pipe: a process waited on later never blocks
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=said)
        except OSError as exc:
            said.close()
            problems.append(
                f"无法启动 LibreOffice（{soffice}）/ could not start LibreOffice ({soffice}): {exc}"
            )
            continue
        started.append((book, pdf, proc, said))
    for book, pdf, proc, log in started:
        with log:
            code, err = _finished(proc, log)
        if code is None:
            problems.append(
                f"LibreOffice 超过 {RENDER_TIMEOUT_S} 秒未生成 {book.name} 的 PDF，已停止 / "
                f"LibreOffice did not render {book.name} within {RENDER_TIMEOUT_S} s: stopped"
            )
            continue
        if pdf.exists():
            pdfs.append(pdf)
            continue
        lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
        cause = lines[-1] if lines else "no message"
        problems.append(
            f"LibreOffice 未能生成 {book.name} 的 PDF（退出码 {code}）/ "
            f"LibreOffice did not render {book.name} (exit {code}): {cause}"
        )
    return Rendered(pdfs, problems)


def _finished(proc: subprocess.Popen[bytes], said: IO[bytes]) -> tuple[int | None, bytes]:
    """The process's exit code (None when it ran past the time limit and was stopped) and
    what it wrote to its error stream."""
    try:
        code: int | None = proc.wait(timeout=RENDER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = None
    said.seek(0)
    return code, said.read()
