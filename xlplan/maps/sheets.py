"""The three maps' sheets in a new template: inputs with sample data, empty result sheets.

Input sheets place their tables in blocks side by side (a column's width must suit every
table stacked in it); result sheets go through :func:`xlplan.workbook.render.write_tables_sheet`,
the same writer a headless run uses, so a template and a computed workbook look alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from xlplan.core.errors import Lang, Message
from xlplan.maps import tables as schema_maps
from xlplan.workbook import render
from xlplan.workbook.render import Formats, write_tables_sheet, write_title, write_value
from xlplan.workbook.schema import Table

SHEET = {s.key: s for s in schema_maps.MAP_SHEETS}

# market, channel, margin (None = from Landed Cost Results), payout, delivery today, planned
# delivery (None = no fix planned), competition gap, compliance, keep, note. Payout: Amazon
# daily disbursement ~7 d, Mercado Libre releases after delivery, Brazil's card instalments
# stretch payouts; scores are the planner's judgement. E-commerce growth is left blank: the
# shipped figures (with their source and year) fill it. MX and BR fail the static screens
# (GDP per capita, payout; BR also margin) and are kept for growth, as the method's 3C case
# does (DOMAIN.md section 1): an overseas warehouse cuts delivery from 15-20 days to 3-5.
SAMPLE_MARKETS: list[tuple[object, ...]] = [
    ("US", "Amazon", None, 7, 5, None, 1, 3, False, "FBA; price war in 3C accessories"),
    ("DE", "Amazon", None, 7, 4, None, 2, 2, False, "EPR and WEEE registration"),
    ("GB", "Amazon", 0.33, 7, 4, None, 2, 3, False, ""),
    ("JP", "Amazon", None, 14, 3, None, 3, 2, False, "PSE certification; Japanese service"),
    ("MX", "Mercado Libre", None, 10, 18, 4, 4, 3, True, "local warehouse from Q2"),
    ("BR", "Mercado Libre", 0.28, 30, 20, 5, 4, 2, True, "instalments lengthen payout"),
    ("SA", "Noon", 0.36, 7, 6, None, 4, 3, False, "Ramadan peak"),
]
SAMPLE_KEEP_REASONS: dict[str, Message] = {
    "MX": Message(
        "拉美增长：电商年增约 20%，本地供给弱；海外仓把配送从 15-20 天缩到 3-5 天",
        "Latin America growth: e-commerce +20%/yr, weak local supply; a local warehouse cuts "
        "delivery from 15-20 days to 3-5",
    ),
    "BR": Message(
        "与墨西哥一起开拓拉美：美客多 + 海外仓，竞争缺口大；回款慢因分期付款",
        "Latin America with MX: Mercado Libre and a local warehouse, open competition; payout "
        "is slow because of card instalments",
    ),
}

SAMPLE_HISTORY = 24  # months of product sales in the example, ending at its as-of month

# The 3C-accessories seller's product lines (the categories of the plan's target lines): line,
# gross margin after platform fees, promotion [CNY/year], inventory days, price [CNY/unit], note
SAMPLE_PRODUCT_LINES: list[tuple[str, float, float, int, float, str]] = [
    ("power banks", 0.22, 6_000_000.0, 55, 199.0, "10,000 mAh; the volume line"),
    ("GaN chargers", 0.38, 8_000_000.0, 45, 229.0, "65 W / 100 W; growing fast"),
    ("cables", 0.45, 1_500_000.0, 60, 59.0, "USB-C; steady, high margin"),
    ("phone cases", 0.18, 2_000_000.0, 95, 49.0, "price war; phasing down"),
    ("earbuds", 0.24, 5_000_000.0, 70, 259.0, "growing, thin margin"),
    ("bundles", 0.34, 3_000_000.0, 40, 279.0, "charger + cable bundle, launched 9 months ago"),
    ("magnetic power banks", 0.26, 2_000_000.0, 50, 249.0, "MagSafe; launched 5 months ago"),
]
SAMPLE_TARGET_SHARES = {"GaN chargers": 0.35, "phone cases": 0.03}
"""The method's mix what-if (its apparel case moved jackets to 30% of volume), for a 3C seller:
the GaN chargers, the star, to 35% of units and the phone cases of the price war to 3%."""


def _sample_units(line: str, m: np.ndarray, calendar_month: np.ndarray) -> np.ndarray:
    """Monthly units for month index ``m`` (0 = the first of the 24 months): shapes that give
    every stage and quadrant; November and December sell 30% more."""
    season = np.where(np.isin(calendar_month, (11, 12)), 1.3, 1.0)
    shapes = {
        "power banks": 40_000 * (1 + 0.003 * m) * season,
        "GaN chargers": 22_000 * 1.03**m * season,
        "cables": 58_000 * season,
        "phone cases": 30_000 * 0.95**m * season,
        "earbuds": 5_000 * 1.025**m * season,
        "bundles": np.where(m >= SAMPLE_HISTORY - 9, 1_500 * 1.2 ** (m - SAMPLE_HISTORY + 9), 0),
        "magnetic power banks": np.where(
            m >= SAMPLE_HISTORY - 5, 1_200 * 1.35 ** (m - SAMPLE_HISTORY + 5), 0
        ),
    }
    return np.round(shapes[line])


def sample_product_sales(as_of: str | pd.Period = "2027-03") -> pd.DataFrame:
    """Seven product lines x the 24 months to ``as_of`` (the example's last closed month),
    revenue in CNY."""
    months = pd.period_range(end=pd.Period(as_of, freq="M"), periods=SAMPLE_HISTORY, freq="M")
    m = np.arange(len(months))
    frames = []
    for line, _, _, _, price, _ in SAMPLE_PRODUCT_LINES:
        units = _sample_units(line, m, np.asarray(months.month))
        frames.append(
            pd.DataFrame(
                {
                    "line": line,
                    "month": [str(p) for p in months],
                    "units": units,
                    "revenue": units * price,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def sample_product_economics() -> pd.DataFrame:
    return pd.DataFrame(
        [
            (line, gm, promo, days, SAMPLE_TARGET_SHARES.get(line), note)
            for line, gm, promo, days, _, note in SAMPLE_PRODUCT_LINES
        ],
        columns=schema_maps.PRODUCT_ECONOMICS.keys,
    )


def sample_markets(lang: str = "en") -> pd.DataFrame:
    """The candidate markets, macro figures filled from the shipped reference data (growth left
    blank, so the result names its source), keep reasons in ``lang``."""
    from xlplan import reference

    frame = pd.DataFrame(
        SAMPLE_MARKETS,
        columns=[
            "market",
            "channel",
            "margin",
            "payout_days",
            "delivery_days",
            "planned_delivery_days",
            "competition_score",
            "compliance_score",
            "keep",
            "note",
        ],
    )
    macro = reference.market_macro().set_index("market")
    for col in ("gdp_per_capita_usd", "ecommerce_penetration", "ecommerce_market_usd_bn"):
        frame[col] = frame["market"].map(macro[col])
    frame["keep_reason"] = [
        SAMPLE_KEEP_REASONS[m].text(lang) if m in SAMPLE_KEEP_REASONS else ""
        for m in frame["market"]
    ]
    return frame.reindex(columns=schema_maps.BUSINESS_MARKETS.keys)


def settings_frame(table_key: str, lang: str) -> pd.DataFrame:
    """A key/value settings table with every key at its default value."""
    from xlplan.maps.action import default_setting_values

    keys = schema_maps.SETTING_KEYS[table_key]
    values = default_setting_values(table_key)
    return pd.DataFrame(
        {
            "setting": list(keys),
            "value": [values.get(k) for k in keys],
            "label": [keys[k].label.text(lang) for k in keys],
        }
    )


def tier_assumptions_frame() -> pd.DataFrame:
    from xlplan.maps.action import tier_label
    from xlplan.maps.calc.customer import Tier

    tiers = [t.value for t in Tier]
    return pd.DataFrame(
        {"tier": tiers, "label": [tier_label(t) for t in tiers]},
        columns=schema_maps.TIER_ASSUMPTIONS.keys,
    )


IMPORT_ROWS = 10  # room for this many files before the table runs into the next one


def sample_imports() -> pd.DataFrame:
    """One example row (no file yet) and blank rows to fill."""
    rows = [("", "shopify", "", "", "orders_export.csv: Shopify admin > Orders > Export")]
    rows += [("", "", "", "", "")] * (IMPORT_ROWS - 1)
    return pd.DataFrame(rows, columns=schema_maps.ORDER_IMPORTS.keys)


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------

Block = Sequence[tuple[Table, pd.DataFrame | None]]
Placed = tuple[int, Block] | tuple[int, Block, int]  # left column, tables[, first header row]
FIRST_HEADER = 7  # title rows 0-2, then a section title, its help and the sub-header


def _write_block(
    wb: Any, ws: Any, fmt: Formats, lang: str, block: Block, left: int, top: int
) -> list[tuple[Table, int, int]]:
    """Tables one below the other from column ``left``, the first one's header on row ``top``;
    (table, header row, last row) each."""
    placed = []
    for table, frame in block:
        ws.write_string(top - 3, left, table.title(lang), fmt.section)
        kv = table.key in schema_maps.SETTING_KEYS
        _, last = render.write_table(wb, ws, fmt, table, frame, lang, top, left, validation=not kv)
        render.write_note(ws, fmt, top - 2, left, table.help(Lang(lang)), len(table.columns))
        if kv and frame is not None:
            _format_values(ws, fmt, table.key, frame, top + 1, left + 1)
        placed.append((table, top, last))
        top = last + 5
    return placed


def _format_values(
    ws: Any, fmt: Formats, table_key: str, frame: pd.DataFrame, first: int, col: int
) -> None:
    """Each value cell of a key/value table in its key's format (rates as %, amounts whole)."""
    kinds = schema_maps.SETTING_KEYS[table_key]
    for i, (key, value) in enumerate(zip(frame["setting"], frame["value"], strict=True)):
        write_value(ws, first + i, col, value, fmt.input_kinds[kinds[key].kind])


def _input_sheet(
    wb: Any, fmt: Formats, lang: str, sheet_key: str, blocks: Sequence[Placed]
) -> tuple[Any, dict[str, tuple[int, int, int]]]:
    """An input sheet: blocks of tables side by side. A block beside another starts on one of
    its header rows (the third item), so rows the two share have the same height."""
    sheet = SHEET[sheet_key]
    ws = wb.add_worksheet(sheet.title(lang))
    write_title(ws, fmt, lang, sheet.heading, sheet.note)
    where: dict[str, tuple[int, int, int]] = {}
    for left, block, *start in blocks:
        if left:
            fmt.fit_column(ws, left - 1, 3)
        first = start[0] if start else FIRST_HEADER
        for table, top, last in _write_block(wb, ws, fmt, lang, block, left, first):
            where[table.key] = (top, last, left)
    ws.write_string(FIRST_HEADER - 4, 0, "■ " + render.INPUTS.text(lang), fmt.input_legend)
    render.page_setup(ws, fmt)
    return ws, where


def _business_settings(lang: str, example: bool) -> pd.DataFrame:
    """Defaults; the incremental pool is the example's (a new plan leaves it to the user)."""
    frame = settings_frame("business_settings", lang)
    if not example:
        frame.loc[frame["setting"] == "incremental_pool", "value"] = None
    return frame


def _imports(given: pd.DataFrame | None, example: bool) -> pd.DataFrame | None:
    if given is not None:
        return given
    return sample_imports() if example else None


def write_maps_sheets(
    wb: Any,
    fmt: Formats,
    lang: str,
    *,
    imports: pd.DataFrame | None = None,
    as_of: str | pd.Period = "2027-03",
    example: bool = True,
) -> None:
    """Business, customer and product map sheets (input, then result), then Map Proposals.

    ``imports`` fills the order-files table (the demo lists its Shopify export there); the
    product sales run to ``as_of``, the example's last closed month. Without ``example`` the
    candidate markets, order files and product tables are empty (the settings keep their
    defaults)."""
    m = schema_maps
    settings_left = len(m.BUSINESS_MARKETS.columns) + 1
    ws, _ = _input_sheet(
        wb,
        fmt,
        lang,
        "business_map",
        [
            (0, [(m.BUSINESS_MARKETS, sample_markets(lang) if example else None)]),
            (
                settings_left,
                [(m.BUSINESS_SETTINGS, _business_settings(lang, example))],
            ),
        ],
    )
    # the live screening block, right of everything so nothing stands in its spill
    render.write_udf_anchor(
        ws,
        fmt,
        settings_left + len(m.BUSINESS_SETTINGS.columns) + 1,
        FIRST_HEADER,
        "XLP_MARKET_SCREEN(tblBusinessMarkets[#All],tblBusinessSettings[#All],tblFX[#All],"
        "tblLandedCostResults[#All],ReportingCurrency,RoundingUnit)",
    )
    write_tables_sheet(wb, fmt, SHEET["business_map_result"], [(m.BUSINESS_SCREENING, None)], lang)

    ws, where = _input_sheet(
        wb,
        fmt,
        lang,
        "customer_map",
        [
            (
                0,
                [
                    (m.ORDER_IMPORTS, _imports(imports, example)),
                    (m.CUSTOMER_SETTINGS, settings_frame("customer_settings", lang)),
                ],
            ),
            (
                len(m.ORDER_IMPORTS.columns) + 1,
                [(m.TIER_ASSUMPTIONS, tier_assumptions_frame())],
                FIRST_HEADER + IMPORT_ROWS + 5,  # beside the tier settings
            ),
        ],
    )
    top, _, left = where[m.ORDER_IMPORTS.key]
    j = left + m.ORDER_IMPORTS.keys.index("format")
    ws.data_validation(
        top + 1,
        j,
        top + render.FIRST_DATA_ROWS,
        j,
        {
            "validate": "list",
            "source": list(m.ORDER_FORMATS),
            "input_title": m.ORDER_IMPORTS.column("format").header(lang),
            "input_message": " / ".join(m.ORDER_FORMATS),
        },
    )
    write_tables_sheet(
        wb,
        fmt,
        SHEET["customer_map_result"],
        [(m.CUSTOMER_TOTALS, None), (m.ORDER_IMPORT_LOG, None), (m.CUSTOMER_TIERS, None)],
        lang,
    )

    econ_left = len(m.PRODUCT_SALES.columns) + 1
    ws, _ = _input_sheet(
        wb,
        fmt,
        lang,
        "product_map",
        [
            (0, [(m.PRODUCT_SALES, sample_product_sales(as_of) if example else None)]),
            (econ_left, [(m.PRODUCT_ECONOMICS, sample_product_economics() if example else None)]),
            (
                econ_left + len(m.PRODUCT_ECONOMICS.columns) + 1,
                [(m.PRODUCT_SETTINGS, settings_frame("product_settings", lang))],
            ),
        ],
    )
    render.write_udf_anchor(
        ws,
        fmt,
        econ_left + len(m.PRODUCT_ECONOMICS.columns) + len(m.PRODUCT_SETTINGS.columns) + 2,
        FIRST_HEADER,
        "XLP_PRODUCT_MAP(tblProductSales[#All],tblProductEconomics[#All],tblProductSettings[#All])",
    )
    ws.freeze_panes(FIRST_HEADER + 1, 0)
    write_tables_sheet(
        wb,
        fmt,
        SHEET["product_map_result"],
        [(m.PRODUCT_LINES, None), (m.PRODUCT_MIX, None)],
        lang,
    )
    write_tables_sheet(wb, fmt, SHEET["map_proposals"], [(m.MAP_PROPOSALS, None)], lang)
