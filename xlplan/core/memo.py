"""Values derived from an object that does not change, made once per object and key.

A one-line UDF computes with the same rules thousands of times: what the calculation derives
from the rules alone (a table's columns as arrays, the set of known markets, a rate looked up
for a pair of currencies) is made on the first call and read on the others. The values are
kept while their object lives (by identity, dropped when it is collected) and shared: their
users never change them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["derived"]

_T = TypeVar("_T")

_DERIVED: dict[int, tuple[weakref.ref[Any], dict[Hashable, Any]]] = {}


def derived(owner: object, key: Hashable, make: Callable[[], _T]) -> _T:
    """``make()``, computed once for ``owner`` (by identity, while it lives) and ``key``."""
    ident = id(owner)
    cached = _DERIVED.get(ident)
    if cached is None or cached[0]() is not owner:

        def forget(_: object) -> None:
            _DERIVED.pop(ident, None)

        cached = (weakref.ref(owner, forget), {})
        _DERIVED[ident] = cached
    values = cached[1]
    if key not in values:
        values[key] = make()
    return values[key]  # type: ignore[no-any-return]
