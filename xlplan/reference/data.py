"""Reading the shipped CSV files of ``reference/data/`` (described in ``data/SOURCES.md``)."""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import pandas as pd

from xlplan.core.errors import InputError

DATA_DIR = Path(__file__).parent / "data"


@functools.cache
def _read(name: str) -> pd.DataFrame:
    try:
        return pd.read_csv(DATA_DIR / name, dtype=str, keep_default_na=False, encoding="utf-8")
    except OSError as exc:  # a broken installation, not a user error
        raise InputError(
            f"找不到参考数据文件 {name}（安装不完整）",
            f"reference data file {name} is missing (a broken installation): {exc}",
        ) from exc


def read_data(name: str) -> pd.DataFrame:
    """A shipped table as text cells (``keep_default_na=False``: the region ``NA`` stays a
    string); read once, copied on every call so callers may change their copy."""
    return _read(name).copy()


def in_force(frame: pd.DataFrame, on: date) -> pd.DataFrame:
    """The rows of a dated table in force on ``on``: ``effective_from`` (inclusive, blank = since
    ever) <= ``on`` < ``effective_to`` (exclusive, blank = still in force); ISO date text."""
    start = pd.to_datetime(frame["effective_from"].replace("", None), format="%Y-%m-%d")
    end = pd.to_datetime(frame["effective_to"].replace("", None), format="%Y-%m-%d")
    day = pd.Timestamp(on)
    mask = (start.isna() | (start <= day)) & (end.isna() | (day < end))
    return frame.loc[mask.to_numpy()]
