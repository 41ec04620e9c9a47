"""Values derived once per living object and key."""

from __future__ import annotations

import gc

import pandas as pd

from xlplan.core import memo
from xlplan.core.memo import derived


def test_made_once_per_owner_and_key() -> None:
    owner = pd.DataFrame({"a": [1, 2]})
    made: list[str] = []

    def make(key: str) -> list[str]:
        made.append(key)
        return [key]

    first = derived(owner, "x", lambda: make("x"))
    assert derived(owner, "x", lambda: make("x")) is first
    assert derived(owner, "y", lambda: make("y")) == ["y"]
    assert derived(pd.DataFrame({"a": [1, 2]}), "x", lambda: make("x2")) == ["x2"]  # equal, not it
    assert made == ["x", "y", "x2"]


def test_forgotten_with_its_owner() -> None:
    owner = pd.DataFrame({"a": [1]})
    ident = id(owner)
    derived(owner, "x", lambda: 1)
    assert ident in memo._DERIVED
    del owner
    gc.collect()
    assert ident not in memo._DERIVED
    # A new object, even at the same address, starts afresh.
    for _ in range(50):
        fresh = pd.DataFrame({"a": [2]})
        assert derived(fresh, "x", lambda: 2) == 2
        del fresh
