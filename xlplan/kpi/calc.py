"""KPI catalog and health flags: green, amber or red with a one-line bilingual reason, or
``check`` when the figure is implausible.

The catalog (``data/kpi_catalog.csv``) names each KPI, its unit, which way is better, how it
is computed from raw figures and what to check when a figure looks wrong;
``data/kpi_thresholds.csv`` holds the default green and red thresholds and the plausible range
(``plausible_min`` / ``plausible_max``, practitioner judgement, uncertain) with their source. A
workbook's thresholds table overrides them per market, channel or category.

Table contracts
---------------
KPI values (input of :func:`flag_kpis`), one row per figure:

``kpi``       catalog key (``inventory_turnover``); the zh or en name is accepted too
``value``     the figure in the KPI's unit: ``per_year`` [1/yr], ``fraction`` [fraction, 0.15 =
              15%], ``ratio`` [-], ``days`` [d], ``CNY`` [CNY]
``market``, ``channel``, ``category``   optional; select threshold overrides
``month``     optional; passed through

Threshold overrides (optional input of :func:`flag_kpis`), one row per override:

``kpi``                                 catalog key or name
``market``, ``channel``, ``category``   optional; blank = any
``green``, ``red``                      optional thresholds in the KPI's unit; blank = inherit
``plausible_min``, ``plausible_max``    optional plausible range in the KPI's unit; blank =
                                        inherit

The comparison (``>``, ``>=``, ``<``, ``<=``) always comes from the catalog. Each threshold
resolves on its own, most specific override first: more filled scope columns win, and between
equally specific rows market beats channel beats category.

Flagged output (:func:`flag_kpis`): the values table, index kept, plus ``key``, ``flag``
(categorical of :class:`Flag` values), ``green`` and ``red`` (thresholds applied [KPI unit]),
``reason_en`` and ``reason_zh`` (Arrow-backed strings: ``str`` in pandas 3).

Raw figures (input of :func:`derive_kpis`): one row per market / channel / category / month,
one column per raw input key of the catalog's formulas (``cogs``, ``average_inventory``, ...);
a column named after a KPI key is that KPI entered directly. :func:`stack_kpis` turns the wide
result into the long KPI values table.

Flag rule, for a KPI where higher is better (mirrored where lower is better): green when the
value passes the green threshold, otherwise red when it passes the red threshold, otherwise
amber. Because green is tested first, flags are monotonic in the value even when an override
puts the two thresholds the wrong way round. Outside the plausible range (above
``plausible_max``, below ``plausible_min``) a figure is neither: it is ``check`` (请核实), and
its reason says it looks implausible and what to check (inventory turnover 72.6 /yr > 24 is
not a healthy green, it is usually COGS and inventory from different periods). Inside the
range the flags stay monotonic.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from enum import Enum
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from xlplan import reference
from xlplan.core import parse
from xlplan.core.errors import InputError, Message, concat_errors, empty_errors, errors_where

DIMENSIONS = ("market", "channel", "category")
"""Columns that select threshold overrides, most significant first."""
ID_COLUMNS = ("market", "channel", "category", "month")
"""Columns that identify a figure; carried through by :func:`stack_kpis`."""
try:  # pandas >= 2.3: the string dtype that is the default in pandas 3 ("str")
    _STRING = pd.StringDtype("pyarrow", na_value=np.nan)
except TypeError:  # pragma: no cover - older pandas 2.x
    _STRING = pd.StringDtype("pyarrow")
FLAG_OUTPUT_COLUMNS = ["key", "flag", "green", "red", "reason_en", "reason_zh"]
LEVELS = ("green", "red", "plausible_min", "plausible_max")
"""The thresholds of a KPI, as levels of ``kpi_thresholds.csv`` and columns of an overrides
table; the last two bound the plausible range."""
"""Columns :func:`flag_kpis` adds to the values table."""


class Flag(str, Enum):
    """Health of one KPI figure."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    CHECK = "check"  # outside the plausible range: verify the figure before reading it
    NO_DATA = "no_data"


FLAG_ORDER = [Flag.GREEN, Flag.AMBER, Flag.RED, Flag.CHECK, Flag.NO_DATA]
FLAG_DTYPE = pd.CategoricalDtype([f.value for f in FLAG_ORDER])
"""dtype of the ``flag`` column: categories ``green``, ``amber``, ``red``, ``check``,
``no_data``."""


class Direction(str, Enum):
    """Which way a KPI is better."""

    HIGHER = "higher"
    LOWER = "lower"


class Unit(str, Enum):
    """Unit of a KPI value."""

    PER_YEAR = "per_year"
    FRACTION = "fraction"
    RATIO = "ratio"
    DAYS = "days"
    CNY = "CNY"


UNIT_LABELS: dict[str, Message] = {
    Unit.PER_YEAR.value: Message("次/年", "per year"),
    Unit.FRACTION.value: Message("比例", "share"),
    Unit.RATIO.value: Message("倍", "ratio"),
    Unit.DAYS.value: Message("天", "days"),
    Unit.CNY.value: Message("人民币", "CNY"),
}
"""How a KPI's unit reads in a sheet (both languages, like the flag names and reasons)."""


def unit_label(unit: object) -> str:
    """``次/年 / per year`` for ``per_year``; an unknown unit as given."""
    label = UNIT_LABELS.get(str(unit))
    return label.both if label is not None else str(unit)


class Op(str, Enum):
    """Comparison that puts a value past a threshold."""

    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"


class _Display(NamedTuple):
    scale: float
    decimals: int
    suffix_en: str
    suffix_zh: str


# How a value is shown in a reason: value x scale, rounded half-up, then the suffix.
_DISPLAY = {
    Unit.PER_YEAR: _Display(1.0, 1, " /yr", " 次/年"),
    Unit.FRACTION: _Display(100.0, 1, "%", "%"),
    Unit.RATIO: _Display(1.0, 2, "", ""),
    Unit.DAYS: _Display(1.0, 1, " days", " 天"),
    Unit.CNY: _Display(1.0, 0, " CNY", " 元"),
}
_SHOW_OP = {Op.GE: "≥", Op.GT: ">", Op.LE: "≤", Op.LT: "<"}
_NEGATE = {Op.GE: Op.LT, Op.GT: Op.LE, Op.LE: Op.GT, Op.LT: Op.GE}


class Threshold(BaseModel):
    """One default threshold of the catalog, with where its figure comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op: Op
    value: float
    source: str
    uncertain: bool
    note: str = ""
    effective_from: date

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("threshold must be a finite number")
        return v

    @model_validator(mode="after")
    def _uncertain_has_note(self) -> Threshold:
        if self.uncertain and not self.note:
            raise ValueError("an uncertain default needs a note saying why it was chosen")
        return self


class KpiDefinition(BaseModel):
    """One KPI of the catalog.

    ``formula`` is arithmetic (``+ - * /``, parentheses, numbers) over ``inputs`` (raw figure
    keys) and other catalog keys; empty when the KPI is entered directly. ``green``, ``red``
    and the optional plausible range ``plausible_min`` / ``plausible_max`` (a figure beyond
    either is flagged ``check``) are in the KPI's ``unit``; ``check_high_*`` and
    ``check_low_*`` (zh, en) say why a figure above or below the range is implausible and what
    to check.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    name_zh: str
    name_en: str
    unit: Unit
    direction: Direction
    formula: str
    inputs: tuple[str, ...]
    reason_good_zh: str
    reason_good_en: str
    reason_bad_zh: str
    reason_bad_en: str
    source: str
    effective_from: date
    green: Threshold
    red: Threshold
    plausible_min: Threshold | None = None
    plausible_max: Threshold | None = None
    check_high_zh: str = ""
    check_high_en: str = ""
    check_low_zh: str = ""
    check_low_en: str = ""

    @field_validator("inputs", mode="before")
    @classmethod
    def _split_inputs(cls, v: object) -> object:
        return tuple(str(v).split()) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _consistent(self) -> KpiDefinition:
        good, bad = ({Op.GE, Op.GT}, {Op.LE, Op.LT})
        if self.direction is Direction.LOWER:
            good, bad = bad, good
        if self.green.op not in good or self.red.op not in bad:
            raise ValueError(f"{self.key}: threshold ops do not match direction {self.direction}")
        sign = _sign(self.direction)
        if sign * self.green.value <= sign * self.red.value:
            raise ValueError(f"{self.key}: green threshold must be better than red")
        if self.formula and set(_formula_names(self.formula)) != set(self.inputs):
            raise ValueError(f"{self.key}: inputs do not match the names in the formula")
        low, high = self.plausible_min, self.plausible_max
        if (low and low.op not in (Op.LT, Op.LE)) or (high and high.op not in (Op.GT, Op.GE)):
            raise ValueError(f"{self.key}: plausible_min is checked with <, plausible_max with >")
        for t in (self.green, self.red):
            if (low and t.value < low.value) or (high and t.value > high.value):
                raise ValueError(f"{self.key}: a threshold lies outside the plausible range")
        if (high and not (self.check_high_zh and self.check_high_en)) or (
            low and not (self.check_low_zh and self.check_low_en)
        ):
            raise ValueError(f"{self.key}: each side of the plausible range needs its hint")
        return self

    def bound(self, level: str) -> float:
        """The default of one of :data:`LEVELS` [KPI unit]; NaN for a range side not set."""
        t: Threshold | None = getattr(self, level)
        return math.nan if t is None else t.value


def _sign(direction: Direction) -> float:
    return 1.0 if direction is Direction.HIGHER else -1.0


@lru_cache(maxsize=1)
def _definitions() -> tuple[KpiDefinition, ...]:
    def table(name: str) -> pd.DataFrame:
        return reference.read_data(name)

    thresholds: dict[tuple[str, str], dict[str, Any]] = {}
    for t in table("kpi_thresholds.csv").to_dict("records"):
        fields = {str(k): v for k, v in t.items() if k not in ("kpi", "level")}
        fields["uncertain"] = str(t["uncertain"]).strip().lower() == "true"
        if str(t["level"]) not in LEVELS or (str(t["kpi"]), str(t["level"])) in thresholds:
            raise ValueError(f"kpi thresholds: unknown or repeated level {t['kpi']} {t['level']}")
        thresholds[(str(t["kpi"]), str(t["level"]))] = fields
    out = []
    for row in table("kpi_catalog.csv").to_dict("records"):
        key = str(row["key"])
        levels = {level: thresholds.get((key, level)) for level in LEVELS}
        out.append(KpiDefinition.model_validate({**row, **levels}))
    keys = [d.key for d in out]
    if len(set(keys)) != len(keys) or {k for k, _ in thresholds} - set(keys):
        raise ValueError("kpi catalog: duplicate keys or thresholds without a KPI")
    known: set[str] = set()
    for d in out:  # a formula may use KPIs defined above it, so one pass derives them all
        missing = [n for n in d.inputs if n in keys and n not in known]
        if missing:
            raise ValueError(f"{d.key}: formula uses {missing} defined later in the catalog")
        known.add(d.key)
    return tuple(out)


def kpi_definitions() -> dict[str, KpiDefinition]:
    """The catalog as ``{key: KpiDefinition}``, in catalog order (loaded once, cached)."""
    return {d.key: d for d in _definitions()}


def load_catalog() -> pd.DataFrame:
    """The catalog as a table, one row per KPI, with its default thresholds.

    Columns: ``key``, ``name_zh``, ``name_en``, ``unit``, ``direction``, ``formula``, ``inputs``
    (space-separated raw keys), ``reason_good_zh``, ``reason_good_en``, ``reason_bad_zh``,
    ``reason_bad_en``, ``source``, ``green_op``, ``green`` [unit], ``green_source``,
    ``green_uncertain``, ``green_note``, ``red_op``, ``red`` [unit], ``red_source``,
    ``red_uncertain``, ``red_note``, ``plausible_min`` and ``plausible_max`` [unit, NaN where
    the range is open], ``plausible_source``, ``plausible_note``, ``check_high_zh``,
    ``check_high_en``, ``check_low_zh``, ``check_low_en``.
    """
    rows = []
    for d in _definitions():
        row: dict[str, Any] = {
            "key": d.key,
            "name_zh": d.name_zh,
            "name_en": d.name_en,
            "unit": d.unit.value,
            "direction": d.direction.value,
            "formula": d.formula,
            "inputs": " ".join(d.inputs),
            "reason_good_zh": d.reason_good_zh,
            "reason_good_en": d.reason_good_en,
            "reason_bad_zh": d.reason_bad_zh,
            "reason_bad_en": d.reason_bad_en,
            "source": d.source,
        }
        for level, t in (("green", d.green), ("red", d.red)):
            row[f"{level}_op"] = t.op.value
            row[level] = t.value
            row[f"{level}_source"] = t.source
            row[f"{level}_uncertain"] = t.uncertain
            row[f"{level}_note"] = t.note
        ranged = d.plausible_max or d.plausible_min
        row["plausible_min"] = d.bound("plausible_min")
        row["plausible_max"] = d.bound("plausible_max")
        row["plausible_source"] = ranged.source if ranged else ""
        row["plausible_note"] = ranged.note if ranged else ""
        for side in ("high", "low"):
            for lang in ("zh", "en"):
                row[f"check_{side}_{lang}"] = getattr(d, f"check_{side}_{lang}")
        rows.append(row)
    return pd.DataFrame(rows)


def default_thresholds() -> pd.DataFrame:
    """The catalog defaults in the shape of the overrides table, to seed an editable one.

    Columns: ``kpi``, ``market``, ``channel``, ``category`` (blank = any), ``green_op``,
    ``green`` [KPI unit], ``red_op``, ``red`` [KPI unit], ``plausible_min``, ``plausible_max``
    [KPI unit, blank where the range is open], ``unit``, ``source`` (green's, then red's when it
    differs, then the plausible range's), ``uncertain`` (a default is a practitioner guess).
    """
    cat = load_catalog()
    same = cat["green_source"] == cat["red_source"]
    source = cat["green_source"].where(
        same, "green: " + cat["green_source"] + "; red: " + cat["red_source"]
    )
    ranged = cat["plausible_source"] != ""
    return pd.DataFrame(
        {
            "kpi": cat["key"],
            "market": "",
            "channel": "",
            "category": "",
            "green_op": cat["green_op"],
            "green": cat["green"],
            "red_op": cat["red_op"],
            "red": cat["red"],
            "plausible_min": cat["plausible_min"],
            "plausible_max": cat["plausible_max"],
            "unit": cat["unit"],
            "source": source.where(
                ~ranged, source + "; plausible range: " + cat["plausible_source"]
            ),
            "uncertain": cat["green_uncertain"] | cat["red_uncertain"] | ranged,
        }
    )


# --- names -> keys ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for d in _definitions():
        for alias in (d.key, d.name_en, d.name_zh):
            out[_norm(alias)] = d.key
    return out


def _norm(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold()


def _resolve_keys(uniques: Iterable[object]) -> list[str]:
    """Catalog key for each raw KPI text; ``""`` when unknown or blank."""
    aliases = _aliases()
    return [aliases.get(_norm(u), "") if isinstance(u, str) else "" for u in uniques]


def _as_text(u: object) -> str:
    if u is None or (isinstance(u, float) and math.isnan(u)):
        return ""
    return " ".join(str(u).split())


def _factorize(s: pd.Series) -> tuple[np.ndarray, list[object]]:
    """Codes 0..n-1 (missing gets its own code) and the uniques as Python objects."""
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def _codes_of(values: np.ndarray) -> np.ndarray:
    return np.asarray(pd.factorize(values, use_na_sentinel=False)[0], dtype=np.int64)


def _combine_codes(parts: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the distinct tuples of several code arrays (each 0..k-1), and the position of
    each tuple's first row."""
    codes = parts[0]
    for part in parts[1:]:
        width = int(part.max()) + 1 if len(part) else 1
        codes = _codes_of(codes * width + part)
    # factorize numbers codes in order of first appearance, so the first rows come in code order
    first = np.flatnonzero(~pd.Series(codes).duplicated().to_numpy(dtype=bool))
    return codes, first.astype(np.int64)


# --- numbers ---------------------------------------------------------------------------------


class _Numbers(NamedTuple):
    number: np.ndarray  # float64; NaN where not a finite number
    blank: np.ndarray  # bool: empty cell
    text: np.ndarray  # bool: something that is not a number
    infinite: np.ndarray  # bool: +-inf


def _to_numbers(s: pd.Series) -> _Numbers:
    """Figures through the one cell parser; an infinite number is told apart from text that is
    not a number (they get different messages)."""
    number, bad = parse.parse_numbers(s)
    blank = parse.blank_mask(s)
    infinite = np.zeros(len(s), dtype=bool)
    for i in np.flatnonzero(bad):
        value = s.iloc[i]
        infinite[i] = isinstance(value, (float, np.floating)) and bool(np.isinf(value))
    return _Numbers(number, blank, bad & ~infinite, infinite)


def _format_threshold(value: float, unit: Unit) -> str:
    if unit is Unit.FRACTION:
        return f"{round(value * 100, 6):g}%"
    return f"{round(value, 6):g}"


# --- flagging --------------------------------------------------------------------------------


class KpiFlags(NamedTuple):
    """Result of :func:`flag_kpis`: the flagged table and error records."""

    table: pd.DataFrame
    errors: pd.DataFrame


class FlagOutcome(NamedTuple):
    """Result of :func:`flag_kpi` for one figure."""

    flag: Flag
    reason_en: str
    reason_zh: str
    green: float
    red: float


# Reason kinds: what a row's reason says. The first three are the flags of the same name, the
# next two (above the plausible max, below the plausible min) are ``check``, the rest no_data.
_GREEN, _AMBER, _RED, _HIGH, _LOW, _BLANK, _TEXT, _INF, _UNKNOWN, _NO_KEY = range(10)
_N_KINDS = 10
_FLAG_OF_KIND = np.array([0, 1, 2, 3, 3, 4, 4, 4, 4, 4], dtype=np.int64)
"""Position in :data:`FLAG_ORDER` of each reason kind."""


def flag_kpis(
    values: pd.DataFrame,
    overrides: pd.DataFrame | None = None,
    *,
    table: str = "kpi",
    overrides_table: str = "kpi_thresholds",
) -> KpiFlags:
    """Flag every KPI figure green, amber, red, check or no_data, with a reason in zh and en.

    Parameters
    ----------
    values
        KPI values (see the module docstring): ``kpi`` and ``value`` [KPI unit], optional
        ``market``, ``channel``, ``category``, ``month`` and any other columns.
    overrides
        Optional threshold overrides (see the module docstring); bad rows give error records
        and are ignored.
    table, overrides_table
        Table keys used in error records.

    Returns
    -------
    KpiFlags
        ``table``: ``values`` with its index and columns plus ``key`` (catalog key, ``""`` when
        unknown), ``flag`` (categorical, values of :class:`Flag`), ``green`` and ``red`` (the
        thresholds applied [KPI unit]; NaN for an unknown KPI), ``reason_en``, ``reason_zh``
        (one line each, e.g. ``inventory turnover 4.8 /yr ≤ 6: stock ties up cash``, or for a
        figure outside the plausible range ``inventory turnover 72.6 /yr > 24: implausible,
        check it: ...``; the figure is rounded for display so that the comparison it states
        reads true).
        ``errors``: records for unknown KPIs (column ``kpi``), values that are text or infinite
        (column ``value``) and bad override rows. A blank value is ``no_data`` without an error.
    """
    for col in ("kpi", "value"):
        if col not in values.columns:
            raise InputError(f"KPI 表缺少列 {col}", f"KPI table has no column {col}")
    defs = _definitions()
    kpi_codes, kpi_uniques = _factorize(values["kpi"])
    kpi_keys = _resolve_keys(kpi_uniques)

    over, over_errors = _valid_overrides(overrides, overrides_table)
    dims = [d for d in DIMENSIONS if d in values.columns] if len(over) else []
    combo_codes, combos = _combos(values, kpi_codes, kpi_keys, dims)
    levels = _resolve_thresholds(combos, over)

    # A threshold set: one KPI text with one value per level; reasons are built per set.
    combo_kpi = combos["kpi_code"].to_numpy(dtype=np.int64)
    set_of_combo, set_first = _combine_codes(
        [combo_kpi, *(_codes_of(levels[level]) for level in LEVELS)]
    )
    set_codes = set_of_combo[combo_codes]
    set_kpi = combo_kpi[set_first]
    set_green, set_red = levels["green"][set_first], levels["red"][set_first]
    set_low, set_high = levels["plausible_min"][set_first], levels["plausible_max"][set_first]
    by_key = {d.key: d for d in defs}
    set_def = [by_key.get(kpi_keys[c]) for c in set_kpi]

    def per_set(f: Callable[[KpiDefinition], float], default: float) -> np.ndarray:
        return np.array([default if d is None else f(d) for d in set_def], dtype=np.float64)

    sign = per_set(lambda d: _sign(d.direction), 1.0)
    green_incl = per_set(lambda d: float(d.green.op in (Op.GE, Op.LE)), 0.0).astype(bool)
    red_incl = per_set(lambda d: float(d.red.op in (Op.GE, Op.LE)), 0.0).astype(bool)
    high_incl = per_set(lambda d: float(_range_op(d, "plausible_max") is Op.GE), 0.0).astype(bool)
    low_incl = per_set(lambda d: float(_range_op(d, "plausible_min") is Op.LE), 0.0).astype(bool)
    mult = per_set(lambda d: _DISPLAY[d.unit].scale * 10 ** _DISPLAY[d.unit].decimals, 1.0)

    nums = _to_numbers(values["value"])
    s = sign[set_codes]
    x = s * nums.number
    g = (sign * set_green)[set_codes]
    r = (sign * set_red)[set_codes]
    is_green = (x > g) | ((x == g) & green_incl[set_codes])
    is_red = ~is_green & ((x < r) | ((x == r) & red_incl[set_codes]))
    kind = np.where(is_green, _GREEN, np.where(is_red, _RED, _AMBER)).astype(np.int64)
    hi, lo = set_high[set_codes], set_low[set_codes]
    with np.errstate(invalid="ignore"):
        kind[(nums.number > hi) | ((nums.number == hi) & high_incl[set_codes])] = _HIGH
        kind[(nums.number < lo) | ((nums.number == lo) & low_incl[set_codes])] = _LOW
    kind[nums.blank] = _BLANK
    kind[nums.text] = _TEXT
    kind[nums.infinite] = _INF
    kpi_text = np.array([_as_text(u) for u in kpi_uniques], dtype=object)
    unknown_kpi = np.array([k == "" for k in kpi_keys], dtype=bool)[kpi_codes]
    no_key = unknown_kpi & np.array([t == "" for t in kpi_text], dtype=bool)[kpi_codes]
    kind[unknown_kpi] = _UNKNOWN
    kind[no_key] = _NO_KEY

    flag_codes = _FLAG_OF_KIND[kind]
    templates = [
        t
        for d, k, gv, rv, lv, hv in zip(
            set_def, set_kpi, set_green, set_red, set_low, set_high, strict=True
        )
        for t in _templates(d, kpi_text[k], gv, rv, lv, hv)
    ]
    template_codes = set_codes * _N_KINDS + kind
    scaled = np.where(kind <= _LOW, nums.number * mult[set_codes], 0.0)
    shown = _shown_counts(scaled, templates, template_codes)
    reason_en, reason_zh = _reasons(template_codes, shown, templates)

    index = values.index
    reason_en.index = index
    reason_zh.index = index
    out = values.assign(
        key=_string_series(kpi_keys, kpi_codes, index),
        flag=pd.Series(pd.Categorical.from_codes(flag_codes, dtype=FLAG_DTYPE), index=index),
        green=pd.Series(np.where(unknown_kpi, np.nan, set_green[set_codes]), index=index),
        red=pd.Series(np.where(unknown_kpi, np.nan, set_red[set_codes]), index=index),
        reason_en=reason_en,
        reason_zh=reason_zh,
    )
    unknown_rows = np.flatnonzero(unknown_kpi & ~no_key)
    unknown_text = pd.Series(kpi_text[kpi_codes[unknown_rows]], dtype=object)
    errors = concat_errors(
        [
            errors_where(
                no_key,
                table=table,
                column="kpi",
                zh="缺少 KPI 名称",
                en="KPI key is missing",
            ),
            errors_where(
                np.ones(len(unknown_rows), dtype=bool),
                table=table,
                column="kpi",
                zh="未知 KPI：" + unknown_text,
                en="unknown KPI: " + unknown_text,
                positions=unknown_rows,
            ),
            errors_where(
                nums.text & ~unknown_kpi,
                table=table,
                column="value",
                zh="不是数字",
                en="not a number",
            ),
            errors_where(
                nums.infinite & ~unknown_kpi,
                table=table,
                column="value",
                zh="数值为无穷大（除以零？）",
                en="value is infinite (division by zero?)",
            ),
        ]
    )
    if len(over_errors):  # the overrides table's problems first, then the values'
        errors = pd.concat([over_errors, errors], ignore_index=True) if len(errors) else over_errors
    return KpiFlags(out, errors)


def flag_kpi(
    kpi: str,
    value: object,
    *,
    market: str = "",
    channel: str = "",
    category: str = "",
    overrides: pd.DataFrame | None = None,
) -> FlagOutcome:
    """Flag one figure: the one-row case of :func:`flag_kpis`.

    ``value`` is in the KPI's unit; an unknown ``kpi`` gives ``no_data`` with the reason.
    """
    row = pd.DataFrame(
        {
            "kpi": pd.Series([kpi], dtype=object),
            "value": pd.Series([value], dtype=object),
            "market": [market],
            "channel": [channel],
            "category": [category],
        }
    )
    out = flag_kpis(row, overrides).table.iloc[0]
    return FlagOutcome(
        Flag(str(out["flag"])),
        str(out["reason_en"]),
        str(out["reason_zh"]),
        float(out["green"]),
        float(out["red"]),
    )


def count_flags(flags: pd.DataFrame, by: Sequence[str] = ("market",)) -> pd.DataFrame:
    """How many figures are green, amber, red, check and no_data per group, for a dashboard.

    ``flags`` is the ``table`` of :func:`flag_kpis`; ``by`` names its grouping columns (blank
    groups kept). Returns one row per group (the ``by`` columns, in order of appearance) with
    integer columns ``green``, ``amber``, ``red``, ``check``, ``no_data`` and ``total``.
    """
    flag = flags["flag"].astype(FLAG_DTYPE)
    counts = pd.DataFrame(
        {f.value: (flag == f.value).to_numpy(dtype=np.int64) for f in FLAG_ORDER},
        index=flags.index,
    )
    if by:
        keys = [flags[c] for c in by]
        counts = counts.groupby(keys, sort=False, dropna=False).sum().reset_index()
    else:
        counts = counts.sum().to_frame().T.reset_index(drop=True)
    counts["total"] = counts[[f.value for f in FLAG_ORDER]].sum(axis=1)
    return counts


class _Template(NamedTuple):
    pre_en: str
    suf_en: str
    pre_zh: str
    suf_zh: str
    decimals: int
    op: Op | None = None  # the comparison the text states, if it shows the value
    threshold: float = math.nan  # [KPI unit]
    scale: float = 1.0  # display units per KPI unit (100 for a fraction shown in %)


def _shown_counts(
    scaled: np.ndarray, templates: Sequence[_Template], codes: np.ndarray
) -> np.ndarray:
    """The figure each reason shows, as a whole count of its last displayed decimal.

    ``scaled`` is value x display scale x 10**decimals. Rounded half-up, except where that
    would make the stated comparison read false (999.5 CNY as "1000 CNY < 1000"): there it
    is rounded toward the side of the threshold the value lies on.
    """
    shown = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    # The threshold as printed (6 places of its display unit), in counts; NaN: none stated.
    limit_of = np.array(
        [
            np.nan if t.op is None else round(t.threshold * t.scale, 6) * 10.0**t.decimals
            for t in templates
        ],
        dtype=np.float64,
    )
    limit = limit_of[codes]
    # Only a figure within one count of its threshold can read false; check those few rows.
    rows = np.flatnonzero(np.abs(shown - limit) <= 1.0)
    if len(rows):
        t_codes = codes[rows]
        below = np.array([t.op in (Op.LT, Op.LE) for t in templates], dtype=bool)[t_codes]
        strict = np.array([t.op in (Op.LT, Op.GT) for t in templates], dtype=bool)[t_codes]
        lim, raw, fixed = limit[rows], scaled[rows], shown[rows]
        for step in (0.0, 1.0):  # the second step only where float noise kept it on the line
            gap = np.where(below, lim - fixed, fixed - lim)  # > 0: reads true
            reads_true = (gap > 0) | ((gap == 0) & ~strict)
            directed = np.where(below, np.floor(raw) - step, np.ceil(raw) + step)
            fixed = np.where(reads_true, fixed, directed)
        shown[rows] = fixed
    return np.asarray(shown + 0.0, dtype=np.float64)  # + 0.0 turns -0.0 into 0.0: no "-0.0"


def _range_op(d: KpiDefinition, level: str) -> Op:
    """How a side of the plausible range compares (``>`` / ``<`` when the catalog leaves that
    side open and an override sets it)."""
    t: Threshold | None = getattr(d, level)
    return t.op if t is not None else (Op.GT if level == "plausible_max" else Op.LT)


def _templates(
    d: KpiDefinition | None, text: str, green: float, red: float, low: float, high: float
) -> list[_Template]:
    """The reason texts of one threshold set, one per reason kind; the value goes between."""
    if d is None:
        unknown = (
            _Template("KPI key is missing", "", "缺少 KPI 名称", "", 0)
            if text == ""
            else _Template(f"unknown KPI '{text}'", "", f"未知 KPI「{text}」", "", 0)
        )
        return [unknown] * _N_KINDS
    disp = _DISPLAY[d.unit]
    pre_en, pre_zh = f"{d.name_en} ", f"{d.name_zh} "

    def told(op: Op, value: float, en: str, zh: str) -> _Template:
        shown, thr = _SHOW_OP[op], _format_threshold(value, d.unit)
        return _Template(
            pre_en,
            f"{disp.suffix_en} {shown} {thr}: {en}",
            pre_zh,
            f"{disp.suffix_zh} {shown} {thr}：{zh}",
            disp.decimals,
            op,
            value,
            disp.scale,
        )

    def no_data(en: str, zh: str) -> _Template:
        return _Template(f"{d.name_en}: no data ({en})", "", f"{d.name_zh}：无数据（{zh}）", "", 0)

    def implausible(side: str, value: float) -> _Template:
        level = "plausible_max" if side == "high" else "plausible_min"
        # an override may open a side the catalog leaves open: then no hint is written for it
        hint_en = getattr(d, f"check_{side}_en") or "check how the figure was computed"
        hint_zh = getattr(d, f"check_{side}_zh") or "请核对数值的计算方法"
        return told(
            _range_op(d, level),
            value,
            f"implausible, check it: {hint_en}",
            f"数值存疑，请核实：{hint_zh}",
        )

    return [
        told(d.green.op, green, d.reason_good_en, d.reason_good_zh),
        told(_NEGATE[d.green.op], green, d.reason_bad_en, d.reason_bad_zh),
        told(d.red.op, red, d.reason_bad_en, d.reason_bad_zh),
        implausible("high", high),
        implausible("low", low),
        no_data("blank", "空白"),
        no_data("not a number", "非数字"),
        no_data("infinite", "无穷大"),
        no_data("unknown KPI", "未知 KPI"),
        no_data("KPI key is missing", "缺少 KPI 名称"),
    ]


def _reasons(
    template_codes: np.ndarray, shown: np.ndarray, flat: Sequence[_Template]
) -> tuple[pd.Series, pd.Series]:
    """Reason strings per row (en, zh), built once per distinct (template, shown value) pair.

    ``shown`` is the value already scaled and rounded to a whole count of its last decimal;
    rows whose template shows no value carry 0. The strings are joined in Arrow, so a million
    distinct figures cost about as much as a million repeated ones.
    """
    pair_codes: np.ndarray | None = None
    # Deduplicate when the rounded figures repeat (a sample tells); when they are mostly
    # distinct, hashing a million of them costs more than it saves.
    sample = shown[:: max(len(shown) // 10_000, 1)]
    if len(pd.unique(sample)) * 4 < len(sample):
        value_codes, value_uniques = pd.factorize(shown)
        n_values = max(len(value_uniques), 1)
        pair_codes, pairs = pd.factorize(template_codes * n_values + value_codes)
        pairs = np.asarray(pairs, dtype=np.int64)
        t = pairs // n_values
        value = np.asarray(value_uniques, dtype=np.float64)[pairs % n_values]
    else:  # mostly distinct: deduplicating would cost more than it saves
        t, value = template_codes, shown

    decimals = np.array([x.decimals for x in flat], dtype=np.int64)[t]
    has_value = np.array([x.suf_en != "" for x in flat], dtype=bool)[t]
    number = _format_numbers(np.where(has_value, value, 0.0), decimals)
    number = pc.if_else(pa.array(has_value), number, "")
    take = pa.array(t)
    out = []
    for pre, suf in (("pre_en", "suf_en"), ("pre_zh", "suf_zh")):
        prefix = pc.take(pa.array([getattr(x, pre) for x in flat], pa.string()), take)
        suffix = pc.take(pa.array([getattr(x, suf) for x in flat], pa.string()), take)
        joined = pc.binary_join_element_wise(prefix, number, suffix, "")
        if pair_codes is not None:
            joined = pc.take(joined, pa.array(np.asarray(pair_codes, dtype=np.int64)))
        out.append(pd.Series(pd.array(joined, dtype=_STRING)))
    return out[0], out[1]


def _format_numbers(counts: np.ndarray, decimals: np.ndarray) -> pa.Array:
    """``counts / 10**decimals`` as text with exactly ``decimals`` places (counts are whole)."""
    scale = 10**decimals
    magnitude = np.abs(counts)
    huge = magnitude >= 2.0**53  # beyond exact int64 arithmetic: shortest float text instead
    whole = np.where(huge, 0, magnitude).astype(np.int64)
    integer = pc.cast(pa.array(whole // scale), pa.string())
    # scale + remainder has a leading 1 followed by the zero-padded decimals
    fraction = pc.utf8_slice_codeunits(pc.cast(pa.array(whole % scale + scale), pa.string()), 1)
    point = pc.take(pa.array(["", "."]), pa.array((decimals > 0).astype(np.int8)))
    sign = pc.take(pa.array(["", "-"]), pa.array((counts < 0).astype(np.int8)))
    text = pc.binary_join_element_wise(sign, integer, point, fraction, "")
    if huge.any():
        big = pc.cast(pa.array(counts / scale), pa.string())
        text = pc.if_else(pa.array(huge), big, text)
    return text


def _string_series(texts: Sequence[str], codes: np.ndarray, index: pd.Index) -> pd.Series:
    """``texts[codes]`` as a string Series, without a Python loop over the rows."""
    taken = pc.take(pa.array(list(texts), pa.string()), pa.array(codes))
    return pd.Series(pd.array(taken, dtype=_STRING), index=index)


def _combos(
    values: pd.DataFrame, kpi_codes: np.ndarray, kpi_keys: list[str], dims: list[str]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Distinct (KPI, scope) combinations of the values: codes per row and the combos table.

    The combos table has ``kpi_code``, ``key`` and one normalised text column per dimension
    (``""`` for blank), so overrides resolve on a few rows instead of every figure.
    """
    dim_codes: list[np.ndarray] = []
    dim_uniques: list[list[str]] = []
    for dim in dims:
        c, u = _factorize(values[dim])
        dim_codes.append(c)
        dim_uniques.append([_as_text(x).casefold() for x in u])
    codes, first = _combine_codes([kpi_codes, *dim_codes])
    kpi_of_combo = kpi_codes[first]
    combos = pd.DataFrame(
        {
            "kpi_code": kpi_of_combo,
            "key": pd.Series([kpi_keys[c] for c in kpi_of_combo], dtype=object),
        }
    )
    for dim, c, texts in zip(dims, dim_codes, dim_uniques, strict=True):
        combos[dim] = pd.Series(np.asarray(texts, dtype=object)[c[first]], dtype=object)
    return codes, combos


def _resolve_thresholds(combos: pd.DataFrame, over: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each of :data:`LEVELS` per combo: the most specific override, else the catalog (NaN
    for an unknown KPI or an open side of the plausible range)."""
    by_key = kpi_definitions()
    keys = combos["key"].tolist()
    out = {
        level: np.array([by_key[k].bound(level) if k else np.nan for k in keys], dtype=np.float64)
        for level in LEVELS
    }
    if len(over) == 0 or len(combos) == 0:
        return out
    dims = [d for d in DIMENSIONS if d in combos.columns]
    left = combos.assign(_pos=np.arange(len(combos)))
    # Least specific first, so a more specific override writes over it.
    for rank in sorted(over["_rank"].unique()):
        group = over[over["_rank"] == rank]
        scope = [d for i, d in enumerate(DIMENSIONS) if int(rank) & (4 >> i)]
        if any(d not in dims for d in scope):
            continue  # the values carry no such column, so nothing can match
        matched = left[["_pos", "key", *scope]].merge(
            group[["key", *scope, *LEVELS]], on=["key", *scope], how="inner"
        )
        pos = matched["_pos"].to_numpy(dtype=np.int64)
        for level, target in out.items():
            v = matched[level].to_numpy(dtype=np.float64)
            ok = ~np.isnan(v)
            target[pos[ok]] = v[ok]
    return out


@lru_cache(maxsize=1)
def _no_overrides() -> pd.DataFrame:
    cols = ["key", *DIMENSIONS, *LEVELS, "_rank"]
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})


def _valid_overrides(
    overrides: pd.DataFrame | None, table: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Usable override rows (``key``, dims, :data:`LEVELS`, ``_rank``) and error records."""
    cols = ["key", *DIMENSIONS, *LEVELS, "_rank"]
    if overrides is None or len(overrides) == 0 or "kpi" not in overrides.columns:
        return _no_overrides(), empty_errors()
    n = len(overrides)
    codes, uniques = _factorize(overrides["kpi"])
    key = np.asarray(_resolve_keys(uniques), dtype=object)[codes]
    text = np.asarray([_as_text(u) for u in uniques], dtype=object)[codes]
    errors = [
        errors_where(
            key == "",
            table=table,
            column="kpi",
            zh="未知 KPI：" + pd.Series(text, dtype=object),
            en="unknown KPI: " + pd.Series(text, dtype=object),
        )
    ]
    frame = pd.DataFrame({"key": key})
    scope_rank = np.zeros(n, dtype=np.int64)
    for i, dim in enumerate(DIMENSIONS):
        if dim in overrides.columns:
            c, u = _factorize(overrides[dim])
            frame[dim] = np.asarray([_as_text(x).casefold() for x in u], dtype=object)[c]
        else:
            frame[dim] = np.full(n, "", dtype=object)
        filled = (frame[dim] != "").to_numpy(dtype=bool)
        scope_rank += filled.astype(np.int64) * (4 >> i)
    usable = key != ""
    for level in LEVELS:
        if level in overrides.columns:
            nums = _to_numbers(overrides[level])
            bad = (nums.text | nums.infinite) & usable
            errors.append(
                errors_where(
                    bad,
                    table=table,
                    column=level,
                    zh="阈值不是有限数字",
                    en="threshold is not a finite number",
                )
            )
            frame[level] = nums.number
        else:
            frame[level] = np.full(n, np.nan)
    by_key = kpi_definitions()
    sign = np.array([_sign(by_key[k].direction) if k else 1.0 for k in key], dtype=np.float64)
    g = frame["green"].to_numpy(dtype=np.float64)
    r = frame["red"].to_numpy(dtype=np.float64)
    inverted = usable & (sign * g < sign * r)
    errors.append(
        errors_where(
            inverted,
            table=table,
            column="green",
            zh="绿色阈值比红色阈值差；此行不生效",
            en="green threshold is worse than red; row ignored",
        )
    )
    usable &= ~inverted
    low = frame["plausible_min"].to_numpy(dtype=np.float64)
    high = frame["plausible_max"].to_numpy(dtype=np.float64)
    crossed = usable & (low >= high)
    errors.append(
        errors_where(
            crossed,
            table=table,
            column="plausible_min",
            zh="合理下限不低于合理上限；此行不生效",
            en="the plausible min is not below the plausible max; row ignored",
        )
    )
    usable &= ~crossed
    dup = np.zeros(n, dtype=bool)
    dup[usable] = frame[usable].duplicated(["key", *DIMENSIONS]).to_numpy(dtype=bool)
    errors.append(
        errors_where(
            dup,
            table=table,
            column="",
            zh="重复的阈值行（同一 KPI 与范围）；使用第一行",
            en="duplicate threshold row (same KPI and scope); the first one is used",
        )
    )
    usable &= ~dup
    # More filled scope columns win; between equals, market > channel > category.
    count = np.array([bin(int(m)).count("1") for m in scope_rank], dtype=np.int64)
    frame["_rank"] = count * 8 + scope_rank
    return frame[usable].reset_index(drop=True)[cols], concat_errors(errors)


def validate_thresholds(overrides: pd.DataFrame, *, table: str = "kpi_thresholds") -> pd.DataFrame:
    """Error records for a threshold overrides table (unknown KPI, bad number, green worse
    than red, a plausible range whose min is not below its max, duplicate scope). Rows with
    errors are ignored by :func:`flag_kpis`."""
    return _valid_overrides(overrides, table)[1]


# --- derived KPIs ----------------------------------------------------------------------------


_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}


def _formula_names(formula: str) -> list[str]:
    return [n.id for n in ast.walk(ast.parse(formula, mode="eval")) if isinstance(n, ast.Name)]


def _evaluate(
    formula: str, columns: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[tuple[np.ndarray, str]]]:
    """Evaluate ``+ - * /`` arithmetic over float arrays.

    Returns the result (NaN where a denominator is 0) and, per division, the rows where its
    denominator was 0 with the denominator's text.
    """
    zero_divisions: list[tuple[np.ndarray, str]] = []

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name):
            return columns[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            top, bottom = ev(node.left), ev(node.right)
            zero = np.asarray(bottom == 0, dtype=bool)
            zero_divisions.append((zero, ast.unparse(node.right)))
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(zero, np.nan, top / np.where(zero, 1.0, bottom))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(f"unsupported formula element: {ast.dump(node)}")

    result = ev(ast.parse(formula, mode="eval"))
    n = len(next(iter(columns.values()))) if columns else 0
    return np.broadcast_to(np.asarray(result, dtype=np.float64), (n,)).copy(), zero_divisions


def _round_significant(x: np.ndarray, digits: int) -> np.ndarray:
    """Round to ``digits`` significant digits.

    Binary floating point must not push a figure that is on a threshold by hand off it
    (115,000 vs 100,000 GMV is 15% growth, not 14.99999999999999%).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(x)))
    places = np.where(np.isfinite(magnitude), digits - 1 - magnitude, 0.0)
    scale = 10.0**places
    return np.asarray(np.round(x * scale) / scale, dtype=np.float64)


def _zero_division_errors(
    zero_divisions: list[tuple[np.ndarray, str]],
    columns: dict[str, np.ndarray],
    d: KpiDefinition,
    table: str,
) -> list[pd.DataFrame]:
    """Error records naming the input that is 0 (or the denominator text when none is)."""
    out = []
    for zero, denominator in zero_divisions:
        left = zero.copy()
        for name in _formula_names(denominator):
            hit = left & (columns[name] == 0)
            left &= ~hit
            out.append(
                errors_where(
                    hit,
                    table=table,
                    column=name,
                    zh=f"{name} 为 0：无法计算{d.name_zh}",
                    en=f"{name} is 0: {d.name_en} cannot be computed",
                )
            )
        out.append(
            errors_where(
                left,
                table=table,
                column="",
                zh=f"{denominator} 为 0：无法计算{d.name_zh}",
                en=f"{denominator} is 0: {d.name_en} cannot be computed",
            )
        )
    return out


class DerivedKpis(NamedTuple):
    """Result of :func:`derive_kpis`: the KPI table and error records."""

    table: pd.DataFrame
    errors: pd.DataFrame


def derive_kpis(raw: pd.DataFrame, *, table: str = "kpi_raw") -> DerivedKpis:
    """KPI values computed from raw figures, one column per KPI, same index as ``raw``.

    ``raw`` has one row per market / channel / category / month (the :data:`ID_COLUMNS` that
    are present are carried into the result) and one column per raw figure, keyed as in the
    catalog's ``inputs`` (``cogs`` [CNY], ``average_inventory`` [CNY], ``period_months``
    [month], ``aov`` [CNY/order], ``orders_per_year`` [1/yr], ``gross_margin`` [fraction],
    ``lifetime_years`` [yr], ``marketing_spend`` [CNY], ``new_customers`` [-], ``ad_revenue``
    and ``ad_spend`` [CNY], ``orders``, ``returned_orders``, ``sessions`` [-], ``revenue``,
    ``variable_costs``, ``profit``, ``commission``, ``gmv``, ``gmv_prev_month``,
    ``gmv_target`` [CNY], ``satisfied_responses``, ``survey_responses``, ``lost_parcels``,
    ``shipped_parcels``, ``negative_reviews``, ``reviews`` [-]). A column named after a KPI key
    is a figure entered directly; where it is filled it wins over the derived value.

    A KPI appears when it is entered or all its inputs are columns of ``raw``. A blank input
    gives NaN; a zero denominator gives NaN and an error record naming the denominator
    column; a non-numeric input gives NaN and an error record. NaN flags as ``no_data``.
    """
    n = len(raw)
    numbers: dict[str, np.ndarray] = {}
    errors = []

    def column(name: str) -> np.ndarray:
        if name not in numbers:
            nums = _to_numbers(raw[name])
            errors.append(
                errors_where(
                    nums.text | nums.infinite,
                    table=table,
                    column=name,
                    zh="不是有限数字",
                    en="not a finite number",
                )
            )
            numbers[name] = nums.number
        return numbers[name]

    derived: dict[str, np.ndarray] = {}
    for d in _definitions():
        entered = column(d.key) if d.key in raw.columns else None
        available = [i for i in d.inputs if i in raw.columns or i in derived]
        computed = None
        if d.formula and len(available) == len(d.inputs):
            cols = {i: derived[i] if i in derived else column(i) for i in d.inputs}
            computed, zero_divisions = _evaluate(d.formula, cols)
            pending = (
                zero_divisions
                if entered is None
                else [(zero & np.isnan(entered), text) for zero, text in zero_divisions]
            )
            errors.extend(_zero_division_errors(pending, cols, d, table))
            computed = _round_significant(computed, 12)
        if entered is not None and computed is not None:
            derived[d.key] = np.where(np.isnan(entered), computed, entered)
        elif entered is not None:
            derived[d.key] = entered
        elif computed is not None:
            derived[d.key] = computed
    ids = {c: raw[c] for c in ID_COLUMNS if c in raw.columns}
    out = pd.DataFrame(
        {**ids, **{k: pd.Series(v, index=raw.index) for k, v in derived.items()}},
        index=raw.index,
    )
    if n == 0:
        out = out.astype({k: np.float64 for k in derived})
    return DerivedKpis(out, concat_errors(errors))


def derive_kpi(kpi: str, inputs: Mapping[str, object]) -> float:
    """One KPI from raw figures: the one-row case of :func:`derive_kpis`.

    ``inputs`` maps raw keys (see :func:`derive_kpis`) to figures; the result is in the KPI's
    unit, NaN when an input is missing, blank, not a number or a denominator is 0.
    """
    keys = _resolve_keys([kpi])
    if not keys[0]:
        raise InputError(f"未知 KPI：{kpi}", f"unknown KPI: {kpi}")
    raw = pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in inputs.items()})
    table = derive_kpis(raw).table
    return float(table[keys[0]].iloc[0]) if keys[0] in table.columns else math.nan


def stack_kpis(wide: pd.DataFrame) -> pd.DataFrame:
    """The long KPI values table (input of :func:`flag_kpis`) from a wide one.

    ``wide`` has one column per KPI key (as :func:`derive_kpis` returns) and optional
    :data:`ID_COLUMNS`. The result has the present ID columns, ``kpi`` and ``value``, one
    row per (wide row, KPI) in row then catalog order, and a fresh ``RangeIndex``; the wide
    row's position is in ``row``.
    """
    keys = [k for k in kpi_definitions() if k in wide.columns]
    ids = [c for c in ID_COLUMNS if c in wide.columns]
    n, m = len(wide), len(keys)
    block = wide[keys].to_numpy(dtype=np.float64, na_value=np.nan) if m else np.zeros((n, 0))
    out = {
        "row": np.repeat(np.arange(n, dtype=np.int64), m),
        **{c: np.repeat(wide[c].to_numpy(), m) for c in ids},
        "kpi": np.tile(np.asarray(keys, dtype=object), n),
        "value": block.reshape(-1),
    }
    return pd.DataFrame(out)


def leaf_inputs(key: str) -> tuple[str, ...]:
    """The raw columns a KPI is computed from (through other KPIs), or itself if entered."""
    d = kpi_definitions()[key]
    if not d.inputs:
        return (key,)
    out: list[str] = []
    for name in d.inputs:
        out.extend(leaf_inputs(name) if name in kpi_definitions() else (name,))
    return tuple(dict.fromkeys(out))


def weighted_margin(markets: pd.DataFrame) -> float | None:
    """The plan's margin: each market's line margin weighted by its YTD plan, over the markets
    that have both (None when none has)."""
    if markets.empty:
        return None
    margin = pd.to_numeric(markets["margin"], errors="coerce")
    plan = pd.to_numeric(markets["ytd_plan"], errors="coerce")
    ok = margin.notna() & plan.notna() & (plan > 0)
    return float((margin[ok] * plan[ok]).sum() / plan[ok].sum()) if ok.any() else None
