"""The shipped demo: a 3C-accessories seller (US, DE, GB, JP, MX, BR lines).

``run_demo`` builds the template with the demo lines, runs the real headless path on it (the
``landed_cost`` action through the file port) and returns the summary lines the CLI prints.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from xlplan import actions
from xlplan.reference import DATA_DIR
from xlplan.workbook import build
from xlplan.workbook.io import FilePort

DEMO_LINES = DATA_DIR / "demo" / "landed_cost_lines.csv"


@dataclass
class DemoResult:
    workbooks: list[Path] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    lines: list[str] = field(default_factory=list)


def demo_lines() -> pd.DataFrame:
    """The demo's landed-cost lines, raw as a user would type them."""
    return pd.read_csv(DEMO_LINES, dtype=str, keep_default_na=False)


def run_demo(out_dir: Path, today: date) -> DemoResult:
    """Write ``demo-plan.xlsx`` (English) and ``demo-plan-zh.xlsx`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = DemoResult()
    lines = demo_lines().replace({"": None})
    numeric = [c for c in lines.columns if c not in ("sku", "market", "channel", "cost_currency")]
    lines[numeric] = lines[numeric].apply(pd.to_numeric)
    with tempfile.TemporaryDirectory() as tmp:
        for lang, name in (("en", "demo-plan.xlsx"), ("zh", "demo-plan-zh.xlsx")):
            source = Path(tmp) / f"demo-input-{lang}.xlsx"
            source.write_bytes(build.template_bytes(lang, lines))
            port = FilePort(source, lang=lang)
            outcome = actions.run_landed_cost(port, actions.Context(today=today))
            target = out_dir / name
            port.save(target)
            result.workbooks.append(target)
            if lang == "en":
                result.table = port.written["landed_cost_results"]
                result.lines.extend(en for _, en in outcome.summary)
    result.lines.extend(summary_lines(result.table))
    result.lines.append("")
    result.lines.extend(f"written: {p}" for p in result.workbooks)
    return result


def summary_lines(table: pd.DataFrame) -> list[str]:
    """A short fixed-width table: the figures a seller looks at first."""
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
    view = table[list(cols)].rename(columns=cols).copy()
    view["Margin"] = view["Margin"].map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
    for c in ("Landed", "Net price", "Contrib.", "Break-even", "Price@target"):
        view[c] = view[c].map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
    return [
        "",
        "Landed cost and margin per unit (market currency):",
        *view.to_string(index=False).splitlines(),
    ]
