"""Key/value settings tables (``setting``, ``value``, ``label``) read into a typed model.

The Settings sheet and the three maps' settings tables are key/value tables. Each key declares
how its value is read (:class:`KeySpec`: a :class:`~xlplan.workbook.schema.Kind`) and where it goes
in a pydantic model. A value that does not parse, an unknown key, or a value the model refuses
becomes an error record on its cell (``Settings!B7``) and the key keeps its default: the run
goes on, and the error says what was used instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from xlplan.core import parse
from xlplan.core.errors import Message, concat_errors, empty_errors, errors_where
from xlplan.workbook.schema import NUMERIC_KINDS, Kind

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class KeySpec:
    """One key of a key/value table: how its value reads, where it goes in the model (``()``:
    a value the caller uses directly), and its description on the sheet."""

    kind: Kind
    path: tuple[str, ...]
    label: Message = Message("", "")


def record(table: str, row: int, column: str, message: Message) -> pd.DataFrame:
    """One error record (``row`` 0-based in ``table``)."""
    return errors_where(
        np.array([True]),
        table=table,
        column=column,
        zh=message.zh,
        en=message.en,
        positions=np.array([row]),
    )


def _blank(value: object) -> bool:
    return bool(parse.blank_mask(pd.Series([value], dtype=object))[0])


def _parse_value(value: object, kind: Kind) -> object | None:
    if kind is Kind.INT:
        number = parse.parse_number(value)
        return int(number) if number is not None and float(number).is_integer() else None
    if kind in NUMERIC_KINDS:
        return parse.parse_number(value)
    if kind is Kind.DATE:
        return parse.parse_date(value)
    if kind is Kind.BOOL:
        return parse.parse_bool(value)
    text = str(value).strip()
    return text.upper() if kind is Kind.CODE else text.lower()


_WHAT = {
    Kind.INT: Message("整数", "a whole number"),
    Kind.DATE: Message("日期（如 2027-01-01 或 2027年1月1日）", "a date (e.g. 2027-01-01)"),
    Kind.BOOL: Message("是/否（TRUE/FALSE）", "TRUE or FALSE"),
}


def read_key_values(
    raw: pd.DataFrame | None, table_key: str, specs: Mapping[str, KeySpec]
) -> tuple[dict[str, object], dict[str, int], pd.DataFrame]:
    """The typed values given in a raw key/value table, each key's row, and error records.

    Blank values are left out (the default applies); unknown keys and values that are not of
    the key's kind are reported on their cells.
    """
    if raw is None or raw.empty:
        return {}, {}, empty_errors()
    values: dict[str, object] = {}
    rows: dict[str, int] = {}
    errs: list[pd.DataFrame] = []
    for i, (key, value) in enumerate(zip(raw["setting"], raw["value"], strict=False)):
        name = "" if _blank(key) else str(key).strip()
        if name:
            rows.setdefault(name, i)
        if _blank(value):
            continue
        spec = specs.get(name)
        if spec is None:
            known = ", ".join(specs)
            errs.append(
                record(
                    table_key,
                    i,
                    "setting",
                    Message(
                        f"未知的设置项: '{name}'（可用: {known}）",
                        f"unknown setting: '{name}' (known: {known})",
                    ),
                )
            )
            continue
        parsed = _parse_value(value, spec.kind)
        if parsed is None:
            what = _WHAT.get(spec.kind, Message("数字", "a number"))
            shown = str(value)[:40]
            errs.append(
                record(
                    table_key,
                    i,
                    "value",
                    Message(
                        f"{name} 应为{what.zh}: '{shown}'", f"{name} must be {what.en}: '{shown}'"
                    ),
                )
            )
            continue
        values[name] = parsed
    return values, rows, concat_errors(errs)


def _set_path(tree: dict[str, Any], path: Sequence[str], value: object) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {})
    tree[path[-1]] = value


def build_model(
    make: Callable[[dict[str, Any]], Model],
    defaults: dict[str, Any],
    specs: Mapping[str, KeySpec],
    values: Mapping[str, object],
    *,
    table_key: str,
    rows: Mapping[str, int],
) -> tuple[Model, pd.DataFrame]:
    """The model with the workbook's values applied over ``defaults`` (a field tree).

    A value the model refuses is reported on its row and its default kept.
    """
    given = {k: v for k, v in values.items() if k in specs and specs[k].path}
    errs: list[pd.DataFrame] = []
    while True:
        tree = _deep_copy(defaults)
        for key, value in given.items():
            _set_path(tree, specs[key].path, value)
        try:
            return make(tree), concat_errors(errs)
        except ValidationError as exc:
            bad: list[str] = []
            for problem in exc.errors():
                loc = tuple(str(p) for p in problem["loc"])
                for key in given:
                    path = specs[key].path
                    if (loc[: len(path)] == path or not loc) and key not in bad:
                        bad.append(key)
                        msg = str(problem["msg"])
                        errs.append(
                            record(
                                table_key,
                                rows.get(key, 0),
                                "value",
                                Message(
                                    f"{key} 的值无效（{msg}），使用默认值",
                                    f"{key}: invalid value ({msg}); the default is used",
                                ),
                            )
                        )
            if not bad:  # not caused by a workbook value: the defaults themselves
                raise
            for key in bad:
                given.pop(key)


def _deep_copy(tree: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in tree.items()}


def read_model(
    raw: pd.DataFrame | None,
    table_key: str,
    specs: Mapping[str, KeySpec],
    make: Callable[[dict[str, Any]], Model],
    defaults: dict[str, Any],
) -> tuple[Model, dict[str, object], pd.DataFrame]:
    """A model from a raw key/value table (None: the defaults), the typed values given, and
    error records (values that do not parse, unknown keys, values the model refuses)."""
    values, rows, errors = read_key_values(raw, table_key, specs)
    built, model_errors = build_model(make, defaults, specs, values, table_key=table_key, rows=rows)
    return built, values, concat_errors([errors, model_errors])
