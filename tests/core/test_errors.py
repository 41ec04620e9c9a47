"""Error records: the empty table is shared cheaply and never changed through a copy."""

from __future__ import annotations

import numpy as np

from xlplan.core.errors import ERROR_COLUMNS, concat_errors, empty_errors, errors_where


def test_changing_an_empty_error_table_leaves_the_next_one_empty() -> None:
    first = empty_errors()
    first["row"] = first["row"] + 1
    first["zh"] = "changed"
    first["extra"] = 1
    first.index.name = "x"
    second = empty_errors()
    assert second.empty and list(second.columns) == list(ERROR_COLUMNS)
    assert second.index.name is None and str(second["row"].dtype) == "int64"
    nothing = errors_where(np.zeros(3, dtype=bool), table="t", column="c", zh="中", en="en")
    nothing["table"] = "changed"
    assert concat_errors([]).empty and list(empty_errors().columns) == list(ERROR_COLUMNS)
