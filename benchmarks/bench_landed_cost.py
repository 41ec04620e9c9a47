"""Benchmark: landed cost on 1,000,000 lines, against a per-row loop and against LibreOffice.

Three figures (issue 2):

1. :func:`xlplan.landed_cost.compute_lines` on 1,000,000 lines, validation included, in
   lines per second (target >= 500,000 /s). The input is what a user's call hands over: raw,
   untyped cells as the file port or the table UDF passes them (numbers as float64 columns,
   codes and text as Python strings, blanks as NaN / None), not a pre-coerced frame. The
   lines tile the shipped demo lines (US, DE, GB, JP, MX, BR) with vectorised variation of
   costs, prices and rates, and a distinct SKU per line. Best of 3, with the peak memory of
   one call.
2. The same function called once per line on one-row frames (what a sheet with one scalar UDF
   per line does; a sheet with one UDF per output cell makes ~18 such calls per line) on a
   sample, extrapolated: vectorised / per-row speed (target >= 50x). The one-row frames are
   built before the clock starts, which flatters the per-row path.
3. LibreOffice headless recalculating the same chain written as native formulas on 100,000
   lines (customs value, duty, import tax, landed cost, the fees ... contribution margin; 17
   formulas a line, no cached values) while converting the workbook to CSV. The FX rate, the
   market's rules, the tariff's duty rates, the entry fees and the fee tables' figures at each
   line's price are resolved into input cells (see :data:`FORMULA_INPUTS`); the lines are bulk
   imports (no low-value regime, no legal rounding). Every one of the 17 outputs is checked
   against XLPlan's on every line (relative tolerance 1e-6); the break-even prices are not
   formulas and not compared. Start-up time (a one-cell workbook) is reported and subtracted.
   XLPlan's time on the same 100,000 lines includes its extra work (FX, rule, tariff and fee
   look-ups, validation, break-even prices).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from xlplan.landed_cost.action import compute_lines
from xlplan.landed_cost.tables import LANDED_COST
from xlplan.reference import DATA_DIR, Rules, default_fx, load_rules
from xlplan.workbook.schema import NUMERIC_KINDS

N = 1_000_000
PER_ROW = 2_000
PER_ROW_BUDGET_S = 20.0
LO_ROWS = 100_000
REPEAT = 3
RULES_DATE = date(2026, 3, 1)
TARGET_LINES_PER_S = 500_000
TARGET_PER_ROW_RATIO = 50
DEMO_LINES = DATA_DIR / "demo" / "landed_cost_lines.csv"
LO_PROFILE = Path(tempfile.gettempdir()) / "lo-bench-profile"
LO_CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false"
"""Comma, quote, UTF-8, from line 1, ..., token 9 ``false``: write full precision, not as shown."""
LO_TIMEOUT_S = 1800

NUMERIC_KEYS = [c.key for c in LANDED_COST.columns if c.kind in NUMERIC_KINDS]

T = TypeVar("T")


def rules() -> Rules:
    """The rules in force on :data:`RULES_DATE` with the shipped FX table as the settings' FX."""
    return load_rules(RULES_DATE, fx=default_fx())


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def _scaled(
    values: np.ndarray, rng: np.random.Generator, low: float, high: float, decimals: int
) -> np.ndarray:
    """``values`` times a uniform factor in [low, high), rounded; NaN (blank) stays blank."""
    return np.round(values * rng.uniform(low, high, len(values)), decimals)


def make_lines(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` raw landed-cost lines: the demo lines tiled, with varied costs, prices and rates.

    Numbers are float64 columns (NaN where blank), codes and text object columns of ``str``
    (``None`` where blank): the cells a workbook read or a UDF call hands over, before coercion.
    """
    rng = np.random.default_rng(seed)
    demo = pd.read_csv(DEMO_LINES, dtype=str, keep_default_na=False)
    pick = np.arange(n) % len(demo)
    columns: dict[str, np.ndarray] = {}
    for key in LANDED_COST.keys:
        cells = demo[key].to_numpy(dtype=object) if key in demo.columns else np.full(len(demo), "")
        if key in NUMERIC_KEYS:
            column = np.array([float(v) if v.strip() else np.nan for v in cells])[pick]
        else:
            column = np.array([v if v.strip() else None for v in cells], dtype=object)[pick]
        columns[key] = column
    columns["sku"] = np.array([f"{s}-{i:07d}" for i, s in enumerate(columns["sku"])], dtype=object)
    price_factor = rng.uniform(0.85, 1.2, n)
    columns["price"] = np.round(columns["price"] * price_factor, 2)
    columns["consignment_value"] = np.round(columns["consignment_value"] * price_factor, 2)
    columns["unit_cost"] = _scaled(columns["unit_cost"], rng, 0.7, 1.3, 2)
    for key in ("freight_per_unit", "last_mile_per_unit", "storage_per_unit"):
        columns[key] = _scaled(columns[key], rng, 0.8, 1.25, 2)
    for key in ("return_rate", "ad_rate"):
        columns[key] = np.clip(_scaled(columns[key], rng, 0.5, 1.5, 4), 0.0, 1.0)
    return pd.DataFrame(
        {k: pd.Series(v, dtype=object if v.dtype == object else float) for k, v in columns.items()}
    )


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


def best_of(func: Callable[[], T], repeat: int = REPEAT) -> tuple[float, list[float], T]:
    """(best seconds, every run's seconds, the last result)."""
    times = []
    result: T | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    assert result is not None
    return min(times), times, result


def _proc_status(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"{field} not in /proc/self/status")


def peak_memory(func: Callable[[], object]) -> tuple[float, str]:
    """Peak memory one call of ``func`` adds, in bytes, and how it was measured.

    On Linux: the resident-set high-water mark, reset just before the call (``clear_refs``),
    minus the resident set before it; this sees every allocator (numpy, Arrow, Python).
    Elsewhere: tracemalloc's peak (numpy and Python objects; not Arrow's own pool).
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        before = _proc_status("VmRSS")
        func()
        return float(_proc_status("VmHWM") - before), "RSS high-water mark above the input"
    except OSError:
        tracemalloc.start()
        try:
            func()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return float(peak), "tracemalloc peak"


def _verdict(figure: float, target: float) -> str:
    return "OK" if figure >= target else "BELOW TARGET"


# --------------------------------------------------------------------------------------------
# 1 and 2: vectorised, and the per-row scalar path
# --------------------------------------------------------------------------------------------


def bench_vectorised(
    lines: pd.DataFrame, r: Rules, repeat: int = REPEAT
) -> tuple[list[str], float, pd.DataFrame]:
    """Lines per second on ``lines``; returns (report lines, best seconds, the values)."""
    n = len(lines)
    best, times, (values, errors) = best_of(lambda: compute_lines(lines, r), repeat)
    rate = n / best
    peak, how = peak_memory(lambda: compute_lines(lines, r))
    input_mib = lines.memory_usage(deep=True).sum() / 2**20
    out = [
        f"landed_cost {n:,} lines: {best:.2f} s = {rate:,.0f} lines/s "
        f"(target >= {TARGET_LINES_PER_S:,}) {_verdict(rate, TARGET_LINES_PER_S)}",
        f"  best of {len(times)} ({', '.join(f'{t:.2f}' for t in times)} s); raw cells "
        f"(float64 numbers, str codes, NaN/None blanks), validation included; "
        f"{len(errors):,} errors",
        f"  peak memory of one call: {peak / 2**20:,.0f} MiB ({how}); input frame "
        f"{input_mib:,.0f} MiB",
    ]
    return out, best, values


def bench_per_row(
    lines: pd.DataFrame,
    r: Rules,
    vectorised_s: float,
    vectorised_values: pd.DataFrame,
    sample: int,
    budget_s: float = PER_ROW_BUDGET_S,
) -> list[str]:
    """One-row calls on a sample of ``lines``, against the vectorised time on all of them."""
    n = len(lines)
    rng = np.random.default_rng(1)
    positions = np.sort(rng.choice(n, size=min(sample, n), replace=False))
    frames = [lines.iloc[p : p + 1] for p in positions]
    results = []
    start = time.perf_counter()
    for frame in frames:
        results.append(compute_lines(frame, r)[0])
        if time.perf_counter() - start > budget_s:
            break
    elapsed = time.perf_counter() - start
    done = len(results)
    per_line = elapsed / done
    ratio = per_line / (vectorised_s / n)
    numeric = vectorised_values.select_dtypes("number").columns  # text outputs compared apart
    got = pd.concat(results)[numeric].to_numpy(dtype=float)
    want = vectorised_values.iloc[positions[:done]][numeric].to_numpy(dtype=float)
    same = np.allclose(got, want, rtol=1e-12, atol=1e-9, equal_nan=True)
    stopped = f" (stopped at the {budget_s:.0f} s budget)" if done < len(frames) else ""
    return [
        f"per-row scalar path: vectorised / per-row speed = {ratio:,.0f}x "
        f"(target >= {TARGET_PER_ROW_RATIO}x) {_verdict(ratio, TARGET_PER_ROW_RATIO)}",
        f"  {done:,} one-row compute_lines calls{stopped}: {per_line * 1000:.1f} ms/line "
        f"= {1 / per_line:,.0f} lines/s; {n:,} lines that way: {per_line * n / 3600:,.1f} h",
        f"  per-row results {'equal' if same else 'DIFFER FROM'} the vectorised ones",
    ]


# --------------------------------------------------------------------------------------------
# 3: LibreOffice recalculating native formulas
# --------------------------------------------------------------------------------------------

FORMULA_INPUTS = [
    "unit_cost",
    "fx",
    "freight_per_unit",
    "insurance_per_unit",
    "duty_rate",
    "extra_duty_rate",
    "tax_rate",
    "recoverable",
    "cif",
    "incl_duty",
    "incl_transport",
    "gross_up",
    "price_incl",
    "clearance_per_unit",
    "entry_fees",
    "last_mile_per_unit",
    "storage_per_unit",
    "price",
    "referral_rate",
    "referral_min",
    "table_referral",
    "table_fulfilment",
    "table_storage",
    "payment_rate",
    "payment_fixed",
    "fx_loss_rate",
    "return_rate",
    "return_cost_per_unit",
    "unsellable_rate",
    "lost_rate",
    "ad_rate",
]
"""Input cells of the formula sheet: the line's numbers, with the look-ups resolved into cells
(a sheet would look them up in its Settings; here LibreOffice is spared that work): the FX
rate, the market's rules, the duty rates (the line's own, else the tariff's for its HS code,
origin and market), the customs entry fees per unit, and the fee
tables' figures at the line's price (``table_referral``: referral or commission with closing
fee; ``table_fulfilment``: FBA fee with its fuel surcharge; ``table_storage``: monthly and aged
storage), which count only where the line types no figure of its own. Blank optional inputs
stay blank cells, which formulas read as 0."""

FORMULAS = {
    "customs_value": "{unit_cost}*{fx}+IF({cif},{freight_per_unit}+{insurance_per_unit},0)",
    "duty": "{customs_value}*{duty_rate}",
    "extra_duty": "{customs_value}*{extra_duty_rate}",
    "import_vat": "({customs_value}+IF({incl_duty},{duty}+{extra_duty},0)"
    "+IF(AND({incl_transport},NOT({cif})),{freight_per_unit}+{insurance_per_unit},0))"
    "*IF({gross_up},{tax_rate}/(1-{tax_rate}),{tax_rate})",
    "landed_cost": "{unit_cost}*{fx}+{freight_per_unit}+{insurance_per_unit}+{duty}"
    "+{extra_duty}+{clearance_per_unit}+{entry_fees}+IF({recoverable},0,{import_vat})",
    "sales_tax": "IF({price_incl},{price}*{tax_rate}/(1+{tax_rate}),0)",
    "net_price": "{price}-{sales_tax}",
    "referral_fee": "IF(ISBLANK({referral_rate}),{table_referral},"
    "MAX({price}*{referral_rate},{referral_min}))",
    "payment_fee": "{price}*{payment_rate}+{payment_fixed}",
    "fx_loss": "{price}*{fx_loss_rate}",
    "ad_cost": "{price}*{ad_rate}",
    "fulfilment_cost": "IF(ISBLANK({last_mile_per_unit}),{table_fulfilment},{last_mile_per_unit})"
    "+IF(ISBLANK({storage_per_unit}),{table_storage},{storage_per_unit})",
    "returns_cost": "{return_rate}*({return_cost_per_unit}+{unsellable_rate}*{landed_cost})",
    "lost_cost": "{lost_rate}*({landed_cost}+{last_mile_per_unit})",
    "total_cost": "{landed_cost}+{referral_fee}+{payment_fee}+{fx_loss}+{ad_cost}"
    "+{fulfilment_cost}+{returns_cost}+{lost_cost}",
    "contribution": "{net_price}-{total_cost}",
    "contribution_margin": 'IF({net_price}<>0,{contribution}/{net_price},"")',
}
"""The chain as native formulas, the same rules as :mod:`xlplan.landed_cost`: customs value,
duty, import tax, landed cost, the fees and the margin (17 outputs, every one compared). Not
expressed: the break-even and target-margin prices (a solver across fee tiers and bands), the
fee tables' own look-ups (size tier, weight and price band, referral tier: resolved into input
cells, see :data:`FORMULA_INPUTS`), low-value regimes and legal rounding of assessed amounts
(the benchmark's lines are bulk imports, which have neither)."""

FORMULA_SCOPE = (
    "FX, market rules, tariff duty rates, entry fees and the fee tables' figures at each "
    "line's price resolved into input cells; break-even prices not compared"
)
"""What the formula model leaves to resolved input cells, as the benchmark prints it."""

FLAG_INPUTS = {"recoverable", "cif", "incl_duty", "incl_transport", "gross_up", "price_incl"}


def formula_inputs(lines: pd.DataFrame, r: Rules) -> pd.DataFrame:
    """The formula sheet's input cells for ``lines``: numbers, with FX, market rules, duty rates,
    entry fees and fee-table figures resolved (the last three as XLPlan resolves them)."""
    mk = r.markets.reindex(lines["market"].astype(str).str.upper().to_numpy())
    currency = pd.Series(mk["currency"].to_numpy(), dtype=object)
    cost_ccy = pd.Series(lines["cost_currency"].to_numpy(), dtype=object).fillna(currency)
    fx = lines["fx_rate"].to_numpy(dtype=float)
    fx = np.where(np.isnan(fx), r.fx_rates(cost_ccy, currency).to_numpy(), fx)
    vat = lines["vat_rate"].to_numpy(dtype=float)
    recoverable = pd.to_numeric(lines["vat_recoverable"], errors="coerce").to_numpy(dtype=float)
    out = {key: lines[key].to_numpy(dtype=float) for key in FORMULA_INPUTS if key in lines}
    # The look-ups XLPlan resolves per line (tariff, entry fees, fee tables), read off its
    # results: the formulas then recompute the whole chain from them.
    done = compute_lines(lines, r).outputs
    base = done["duty_base"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        duty_rate, extra_rate = (
            np.where(base > 0, done[key].to_numpy(dtype=float) / base, 0.0)
            for key in ("duty", "extra_duty")
        )

    def table(key: str) -> np.ndarray:
        return np.asarray(np.nan_to_num(done[key].to_numpy(dtype=float)), dtype=float)

    out |= {
        "fx": fx,
        "duty_rate": duty_rate,
        "extra_duty_rate": extra_rate,
        "tax_rate": np.where(np.isnan(vat), mk["tax_rate"].to_numpy(dtype=float), vat),
        "recoverable": np.where(
            np.isnan(recoverable), mk["import_tax_recoverable"].to_numpy(dtype=float), recoverable
        ),
        "cif": (mk["valuation_basis"] == "CIF").to_numpy(dtype=float),
        "incl_duty": mk["tax_base_includes_duty"].to_numpy(dtype=float),
        "incl_transport": mk["tax_base_includes_transport"].to_numpy(dtype=float),
        "gross_up": mk["tax_gross_up"].to_numpy(dtype=float),
        "price_incl": mk["price_includes_tax"].to_numpy(dtype=float),
        "entry_fees": table("entry_fees"),
        "table_referral": table("referral_fee"),
        "table_fulfilment": table("fulfilment_fee") + table("fuel_surcharge"),
        "table_storage": table("storage_fee"),
    }
    return pd.DataFrame({key: out[key] for key in FORMULA_INPUTS})


def write_formula_workbook(
    inputs: pd.DataFrame, path: Path, results: pd.DataFrame | None = None
) -> int:
    """An .xlsx with the input cells and :data:`FORMULAS` beside them, no cached results.

    XlsxWriter writes the package (workbook, styles, the header row); the data rows of the sheet
    are then written straight into its XML, since XlsxWriter's per-cell calls take minutes for
    4 million cells. Formula cells carry no cached value (``<f>`` without ``<v>``), so nothing
    but a recalculation can produce the values. With ``results`` (the outputs' values), those
    values take the formulas' place: the same workbook with nothing to calculate. Returns the
    number of formulas (or output values).
    """
    import xlsxwriter
    from xlsxwriter.utility import xl_col_to_name

    keys = [*FORMULA_INPUTS, *FORMULAS]
    letters = {key: xl_col_to_name(i) for i, key in enumerate(keys)}
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("lines").write_row(0, 0, keys)
    book.close()
    header = "".join(f'<c r="{letters[k]}1" t="inlineStr"><is><t>{k}</t></is></c>' for k in keys)
    refs = {key: f"{col}{{r}}" for key, col in letters.items()}
    formulas = "".join(
        f'<c r="{letters[key]}{{r}}"><f>{escape(template.format(**refs))}</f></c>'
        for key, template in FORMULAS.items()
    )
    cell_keys = FORMULA_INPUTS if results is None else [*FORMULA_INPUTS, *FORMULAS]
    if results is not None:
        formulas = ""
        inputs = pd.concat([inputs, results[list(FORMULAS)].reset_index(drop=True)], axis=1)
    columns = []
    for key in cell_keys:
        col, values = letters[key], inputs[key].to_numpy(dtype=float).tolist()
        if key in FLAG_INPUTS:
            cells = [
                "" if v != v else f'<c r="{col}{{r}}" t="b"><v>{int(bool(v))}</v></c>'
                for v in values
            ]
        else:
            cells = ["" if v != v else f'<c r="{col}{{r}}"><v>{v!r}</v></c>' for v in values]
        columns.append(cells)
    rows = [
        f'<row r="{r}">' + ("".join(cells) + formulas).replace("{r}", str(r)) + "</row>"
        for r, cells in enumerate(zip(*columns, strict=True), start=2)
    ]
    last = f"{letters[keys[-1]]}{len(inputs) + 1}"
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<dimension ref="A1:{last}"/><sheetData><row r="1">{header}</row>'
        + "".join(rows)
        + "</sheetData></worksheet>"
    )
    _replace_member(path, "xl/worksheets/sheet1.xml", sheet.encode("utf-8"))
    return len(inputs) * len(FORMULAS)


def _replace_member(path: Path, name: str, data: bytes) -> None:
    tmp = path.with_suffix(".tmp.xlsx")
    with (
        zipfile.ZipFile(path) as src,
        zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for item in src.infolist():
            dst.writestr(item, data if item.filename == name else src.read(item.filename))
    tmp.replace(path)


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _convert(soffice: str, path: Path, outdir: Path) -> tuple[float, Path]:
    """Seconds for ``soffice --headless --convert-to csv`` of ``path``, and the CSV written."""
    cmd = [
        soffice,
        f"-env:UserInstallation={LO_PROFILE.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        LO_CSV_FILTER,
        "--outdir",
        str(outdir),
        str(path),
    ]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=LO_TIMEOUT_S, check=False)
    seconds = time.perf_counter() - start
    target = outdir / (path.stem + ".csv")
    if done.returncode != 0 or not target.exists():
        raise RuntimeError(
            f"soffice failed ({done.returncode}) on {path.name}: {done.stderr or done.stdout}"
        )
    return seconds, target


RECALC_ITEM = (
    '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
    '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>'
)


def _always_recalculate() -> None:
    """Set the benchmark profile's "recalculation on file load" for .xlsx to *always*.

    Belt and braces: the workbook carries no cached results anyway, and the results are checked.
    """
    registry = LO_PROFILE / "user" / "registrymodifications.xcu"
    if not registry.exists():
        return
    text = registry.read_text(encoding="utf-8")
    if "OOXMLRecalcMode" not in text:
        registry.write_text(text.replace("</oor:items>", RECALC_ITEM + "\n</oor:items>"), "utf-8")


def bench_libreoffice(rows: int, r: Rules) -> list[str]:
    """LibreOffice recalculating the chain on ``rows`` lines, against XLPlan on the same lines."""
    soffice = _soffice()
    if soffice is None:
        return ["libreoffice: soffice not found on PATH; comparison skipped"]
    lines = make_lines(rows, seed=2)
    lines["consignment_value"] = np.nan  # the formula chain has no low-value regime
    inputs = formula_inputs(lines, r)
    xl_s, _, (values, _errors) = best_of(lambda: compute_lines(lines, r))
    with tempfile.TemporaryDirectory(prefix="xlplan-bench-") as tmp:
        work = Path(tmp)
        one = work / "one_cell.xlsx"
        _one_cell_workbook(one)
        _convert(soffice, one, work)  # creates the profile on the first run; warms the cache
        _always_recalculate()
        startup = min(_convert(soffice, one, work)[0] for _ in range(2))
        book = work / "lines.xlsx"
        start = time.perf_counter()
        formulas = write_formula_workbook(inputs, book)
        write_s = time.perf_counter() - start
        raw_s, csv_path = _convert(soffice, book, work)
        got = pd.read_csv(csv_path, usecols=list(FORMULAS))
        plain = work / "values.xlsx"
        write_formula_workbook(inputs, plain, results=values)
        plain_s = _convert(soffice, plain, work)[0]
    net_s = max(raw_s - startup, 1e-9)
    recalc_s = raw_s - plain_s
    want = values[list(FORMULAS)].to_numpy(dtype=float)
    have = got.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    agree, worst = _equal(have, want)
    check = (
        f"LibreOffice's results equal compute_lines's on all {rows:,} lines x "
        f"{len(FORMULAS)} outputs (max relative diff {worst:.1e}, tolerance "
        f"{RELATIVE_TOLERANCE:g}), so it did recalculate; {FORMULA_SCOPE}"
        if agree
        else f"WARNING: LibreOffice's results differ from compute_lines's "
        f"(max relative diff {worst:.3g}); the timing may not include a recalculation"
    )
    return [
        f"libreoffice {rows:,} lines: XLPlan is {_times(net_s / xl_s)} faster "
        f"(net of start-up; {_times(raw_s / xl_s)} raw)",
        f"  soffice --headless --convert-to csv of {rows:,} lines x {len(FORMULAS)} native "
        f"formulas ({formulas:,}), no cached results: {raw_s:.1f} s raw, start-up "
        f"{startup:.1f} s (one-cell workbook), net {net_s:.1f} s (includes reading the .xlsx and "
        f"writing the CSV)",
        f"  XLPlan compute_lines on the same {rows:,} lines: {xl_s:.3f} s (best of "
        f"{REPEAT}; also validates, looks up FX and rules, solves break-even prices)",
        f"  {check}",
        f"  the same workbook with the outputs as values, nothing to calculate: {plain_s:.1f} s; "
        f"so parsing the formulas and recalculating take ~{recalc_s:.1f} s"
        + (f" ({_times(recalc_s / xl_s)} XLPlan's time)" if recalc_s > 0 else ""),
        f"  (each workbook written in ~{write_s:.1f} s, not timed)",
    ]


RELATIVE_TOLERANCE = 1e-6


def _equal(have: np.ndarray, want: np.ndarray) -> tuple[bool, float]:
    """Whether two tables of outputs agree value by value (relative to ``max(1, |want|)``, both
    blank counting as equal), and the largest relative difference."""
    if have.shape != want.shape:
        return False, float("inf")
    with np.errstate(invalid="ignore"):
        diff = np.abs(have - want) / np.maximum(1.0, np.abs(want))
    blank = np.isnan(have) & np.isnan(want)
    diff = np.where(blank, 0.0, diff)
    worst = float(np.max(np.nan_to_num(diff, nan=np.inf))) if diff.size else 0.0
    return worst <= RELATIVE_TOLERANCE, worst


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2f}x"


def _one_cell_workbook(path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("lines").write_number(0, 0, 1.0)
    book.close()


# --------------------------------------------------------------------------------------------
# 4: the one-line UDFs as Excel calls them
# --------------------------------------------------------------------------------------------

ONE_LINE_CALLS = 40
TARGET_LINE_MS = 5.0
EXCEL_DATE = 46082.0  # 2026-03-01 as an Excel serial


def bench_one_line(calls: int = ONE_LINE_CALLS) -> list[str]:
    """The one-line UDFs (``XLP_LANDED_COST_LINE``, ``XLP_PRICE_FOR_MARGIN``,
    ``XLP_IMPORT_TAXES``) called as xlwings calls them on Windows (the test double of
    ``tests/udfs``: its argument and result conversion), each on ``calls`` lines it has not
    seen (after a warm-up call with another line: imports and rules cached), as
    ``bench_files.bench_udfs`` measures them; median milliseconds per call. Beside it each
    xlwings call costs ~20 ms of COM round trip (xlwings issue 2315)."""
    import sys

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tests" / "udfs"))
    from xlwings_windows import windows_xlwings

    from benchmarks.bench_files import FX_CSV

    lines = make_lines(3 * calls + 2, seed=4)
    lines["consignment_value"] = np.nan
    head = LANDED_COST.headers("en")
    rows = lines[LANDED_COST.keys].astype(object).where(lines.notna(), None).to_numpy().tolist()
    fx: list[list[object]] = [["From currency", "To currency", "Rate"]]
    for row in FX_CSV.strip().splitlines()[1:]:
        a, b, c = row.split(",")
        fx.append([a, b, float(c)])

    def median_ms(func: Callable[..., object], argument_lists: list[list[object]]) -> float:
        times = []
        for args in argument_lists:
            start = time.perf_counter()
            xw.call(func, *args)
            times.append(time.perf_counter() - start)
        return float(np.median(times)) * 1000

    with windows_xlwings() as xw:
        udf = xw.load_udfs()
        line, price = udf.XLP_LANDED_COST_LINE, udf.XLP_PRICE_FOR_MARGIN
        taxes = udf.XLP_IMPORT_TAXES
        xw.call(line, head, rows[-1], "landed_cost", fx, EXCEL_DATE)  # warm: imports, rules
        xw.call(price, head, rows[-2], 0.25, fx, EXCEL_DATE)
        xw.call(taxes, "DE", 19.99, 1.0, 0.02, 0.0, None, EXCEL_DATE, fx)
        cold_line = median_ms(
            line, [[head, r, "landed_cost", fx, EXCEL_DATE] for r in rows[:calls]]
        )
        cold_price = median_ms(
            price, [[head, r, 0.25, fx, EXCEL_DATE] for r in rows[calls : 2 * calls]]
        )
        cold_taxes = median_ms(
            taxes, [["DE", 20.0 + v, 1.0, 0.02, 0.0, None, EXCEL_DATE, fx] for v in range(calls)]
        )
        warm = median_ms(line, [[head, rows[0], "landed_cost", fx, EXCEL_DATE]] * calls)
    return [
        f"one-line UDF XLP_LANDED_COST_LINE, a line not seen before (rules cached): median "
        f"{cold_line:.1f} ms (target < {TARGET_LINE_MS:g} ms)",
        f"  XLP_PRICE_FOR_MARGIN {cold_price:.1f} ms, XLP_IMPORT_TAXES {cold_taxes:.1f} ms "
        f"(new arguments each call); the same line again (its result cached) {warm:.2f} ms; "
        "beside each xlwings call's ~20 ms of COM round trip (xlwings issue 2315)",
    ]


# --------------------------------------------------------------------------------------------


def run(
    n: int = N,
    per_row: int = PER_ROW,
    lo_rows: int = LO_ROWS,
    repeat: int = REPEAT,
    one_line: int = ONE_LINE_CALLS,
) -> list[str]:
    """The four figures; ``n``, ``per_row``, ``lo_rows``, ``repeat`` and ``one_line`` shrink it
    (``lo_rows=0`` skips LibreOffice, ``one_line=0`` the one-line UDFs)."""
    r = rules()
    lines = make_lines(n)
    out, best, values = bench_vectorised(lines, r, repeat)
    out += bench_per_row(lines, r, best, values, per_row)
    del lines, values
    if one_line > 0:
        out += bench_one_line(one_line)
    if lo_rows > 0:
        out += bench_libreoffice(lo_rows, r)
    out.append(f"  (machine: {os.cpu_count()} CPUs, load average {_load()})")
    return out


def _load() -> str:
    try:
        return ", ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


if __name__ == "__main__":
    print("\n".join(run()))
