"""Error records: the empty table is shared cheaply and never changed through a copy."""

from __future__ import annotations

import numpy as np

from xlplan.core.errors import (
    ERROR_COLUMNS,
    NO_ERRORS,
    concat_errors,
    empty_errors,
    errors_where,
)


def test_changing_an_empty_error_table_leaves_the_next_one_empty() -> None:
    first = empty_errors()
    first["row"] = first["row"] + 1
    first["zh"] = "changed"
    first["extra"] = 1
    first.index.name = "x"
    second = empty_errors()
    assert second.empty and list(second.columns) == list(ERROR_COLUMNS)
    assert second.index.name is None and str(second["row"].dtype) == "int64"
    assert concat_errors([]).empty and list(empty_errors().columns) == list(ERROR_COLUMNS)


def test_nothing_wrong_is_the_one_shared_empty_table() -> None:
    """errors_where and concat_errors hand out NO_ERRORS when nothing is wrong (no copy per
    check); error tables are values, and the fixture of tests/conftest.py checks after every
    test that nothing changed the shared one in place."""
    nothing = errors_where(np.zeros(3, dtype=bool), table="t", column="c", zh="中", en="en")
    assert nothing is NO_ERRORS
    assert concat_errors([nothing, empty_errors()]) is NO_ERRORS
    own = nothing.copy()
    own["table"] = "changed"  # a change works on a copy
    assert NO_ERRORS["table"].dtype == object
