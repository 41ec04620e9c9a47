"""Fixtures for the Excel edge: xlwings' real Windows UDF machinery, stood up on Linux."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from xlwings_windows import WindowsXlwings, windows_xlwings


@pytest.fixture(scope="module")
def xlwings_windows() -> Iterator[WindowsXlwings]:
    """xlwings as on Windows (see ``xlwings_windows.py``); restored after the module's tests.

    ``xlwings_windows.load("udfs.kpi")`` gives a copy of a UDF module decorated by the real
    ``xlfunc/xlarg/xlret`` (``load_udfs()`` all of them); ``.call(f, *cells)`` runs it the way
    ``call_udf`` does.
    """
    with windows_xlwings() as state:
        yield state
