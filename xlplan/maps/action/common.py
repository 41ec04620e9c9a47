"""What the three maps' actions share: their key/value settings tables, the reporting currency
and FX, the Map Proposals table each map fills with its own rows, and rounding for display.

Amounts on the result sheets and in the proposals are in the reporting currency (Settings
``reporting_currency``, default CNY).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from xlplan import reference
from xlplan.core import money
from xlplan.core.errors import (
    InputError,
    Message,
)
from xlplan.maps import tables as schema_maps
from xlplan.maps.calc.business import (
    BusinessSettings,
    Status,
)
from xlplan.maps.calc.customer import (
    TierSettings,
)
from xlplan.maps.calc.product import (
    ProductSettings,
)
from xlplan.plan.action import ActionResult, WorkbookPort
from xlplan.plan.dimensions import TARGET_LINE_KEYS, PlanMap
from xlplan.workbook.coerce import coerce_table
from xlplan.workbook.keyvalue import KeySpec, read_model, record

Model = TypeVar("Model", bound=BaseModel)
LANDED_COST_RESULTS = "landed_cost_results"
"""The landed-cost capability's results (read by key): the margins the screening uses."""

PASS_TEXT, KEPT_TEXT, FAIL_TEXT = "通过 pass", "保留 kept", "未通过 fail"
STATUS_TEXT = {Status.PASS: PASS_TEXT, Status.KEPT: KEPT_TEXT, Status.FAIL: FAIL_TEXT}
"""How the Business Map Result shows each screening status (both languages in one cell)."""
DEFAULT_INCREMENTAL_POOL = 300_000_000.0  # 3 亿: the Latin America share of DOMAIN.md section 1

MODELS: dict[str, type[BaseModel]] = {
    "business_settings": BusinessSettings,
    "customer_settings": TierSettings,
    "product_settings": ProductSettings,
}
"""The domain settings model each key/value table fills."""


# --------------------------------------------------------------------------------------------
# Key/value settings tables
# --------------------------------------------------------------------------------------------


def model_from_table(
    raw: pd.DataFrame | None, table_key: str, model: type[Model]
) -> tuple[Model, dict[str, object], pd.DataFrame]:
    """The domain settings model from a raw key/value settings table (None: the defaults), the
    typed values given, and error records."""
    specs = schema_maps.SETTING_KEYS[table_key]
    return read_model(
        raw, table_key, specs, lambda tree: model.model_validate(tree), model_defaults(model)
    )


def model_defaults(model: type[BaseModel]) -> dict[str, Any]:
    tree: dict[str, Any] = model().model_dump(mode="json")
    return tree


def read_settings_model(
    port: WorkbookPort, table_key: str, model: type[Model]
) -> tuple[Model, dict[str, object], pd.DataFrame]:
    return model_from_table(port.read_table(table_key), table_key, model)


def setting_rows(raw: pd.DataFrame | None) -> dict[str, int]:
    """Row position of each key of a raw key/value settings table."""
    if raw is None:
        return {}
    return {str(k).strip(): i for i, k in enumerate(raw["setting"]) if k is not None}


def rows_of(port: WorkbookPort, table_key: str) -> dict[str, int]:
    return setting_rows(port.read_table(table_key))


def default_setting_values(table_key: str) -> dict[str, object]:
    """The value every key of a settings table starts with in a new plan."""
    specs: dict[str, KeySpec] = schema_maps.SETTING_KEYS[table_key]
    tree = model_defaults(MODELS[table_key])
    out: dict[str, object] = {}
    for key, spec in specs.items():
        node: Any = tree if spec.path else None
        for part in spec.path:
            node = node[part]
        out[key] = node
    if table_key == "business_settings":
        out["incremental_pool"] = DEFAULT_INCREMENTAL_POOL
    return out


def record_at(table: str, row: int, column: str, zh: str, en: str) -> pd.DataFrame:
    return record(table, row, column, Message(zh, en))


# --------------------------------------------------------------------------------------------
# Shared: currency, proposals, rounding
# --------------------------------------------------------------------------------------------


def fx_or_shipped(fx: pd.DataFrame | None) -> pd.DataFrame:
    """The workbook's FX table, or the shipped rates when the workbook has none."""
    return reference.default_fx() if fx is None else fx


def usd_rate(fx: pd.DataFrame, currency: str) -> float:
    """Units of ``currency`` per US$ from the workbook's FX table; a clear error when unknown."""
    rate = float(reference.fx_rates(fx, pd.Series(["USD"]), pd.Series([currency])).iloc[0])
    if not np.isfinite(rate) or rate <= 0:
        raise InputError(
            f"汇率表中没有 USD 兑 {currency} 的汇率（设置表 tblFX）",
            f"no rate from USD to {currency} in the FX table (Settings, tblFX)",
        )
    return rate


def whole_units(values: pd.Series | np.ndarray | list[float]) -> np.ndarray:
    return money.round_half_up(np.asarray(values, dtype=float), 0)


def replace_proposals(port: WorkbookPort, map_key: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Map Proposals with ``map_key``'s rows replaced by ``rows``; other maps' rows kept.

    Rows are ordered by map (business, customer, product), each map's in the order given.
    """
    table = schema_maps.MAP_PROPOSALS
    raw = port.read_table(table.key)
    if raw is None or raw.empty:
        current = pd.DataFrame(columns=table.keys)
    else:
        current, _ = coerce_table(raw, table)
        maps = current["map"].astype(str).str.strip().str.lower()
        keep = (maps != map_key) & ((maps != "") | current["amount"].notna())
        current = current[keep.to_numpy()]
    new = rows.reindex(columns=table.keys)
    parts = [p for p in (current, new) if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=table.keys)
    order = {m.value: i for i, m in enumerate(PlanMap)}
    rank = out["map"].astype(str).str.strip().str.lower().map(order).fillna(len(order))
    out = out.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)
    port.write_table(table.key, out)
    return out


def proposal_rows(map_key: str, frame: Mapping[str, object], n: int) -> pd.DataFrame:
    data: dict[str, object] = {k: [""] * n for k in TARGET_LINE_KEYS}
    data.update({"map": [map_key] * n, "owner": [schema_maps.MAP_OWNERS[map_key]] * n})
    data["priority"] = [None] * n
    data["adjustment"] = [None] * n
    data.update(frame)
    return pd.DataFrame(data, columns=list(TARGET_LINE_KEYS))


def skip(what: Message) -> ActionResult:
    return ActionResult(
        summary=[Message(f"跳过: 工作簿中没有{what.zh}", f"skipped: the workbook has no {what.en}")]
    )
