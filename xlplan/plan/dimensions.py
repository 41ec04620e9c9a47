"""The target-line contract the three maps and the planning capability share.

A target line claims an amount of the plan on a slice of five dimensions (a blank dimension
means "all"): the maps propose lines in this shape, the Alignment sheet reconciles them, the
Monthly Plan and Actuals carry the same dimensions. Pure: enums and key tuples only.
"""

from __future__ import annotations

from enum import Enum

DIMENSIONS: tuple[str, ...] = ("market", "channel", "customer_tier", "category", "customer_type")
"""Keys of the plan's dimensions, in the order sheets show them."""

TARGET_LINE_KEYS: tuple[str, ...] = (
    "map",
    "owner",
    *DIMENSIONS,
    "amount",
    "priority",
    "adjustment",
    "note",
)
"""Columns of a target line (``tblTargetLines``, and the maps' ``tblMapProposals``)."""


class PlanMap(str, Enum):
    """The three maps whose owners claim parts of the target."""

    BUSINESS = "business"
    CUSTOMER = "customer"
    PRODUCT = "product"


class CustomerType(str, Enum):
    """New or existing customers; blank in a line means both."""

    NEW = "new"
    EXISTING = "existing"
