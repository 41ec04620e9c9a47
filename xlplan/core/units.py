"""Units of the figures XLPlan reads and writes, as the sub-headers under each table show them.

Docstrings write them in brackets: ``[market ccy/unit]``, ``[cost ccy/unit]``, ``[fraction]``
(0.15 = 15 %), ``[reporting ccy]`` (the plan's reporting currency, Settings), ``[1/yr]``.
"""

from __future__ import annotations

from xlplan.core.errors import Message

PER_UNIT = Message("市场币/件", "mkt ccy/unit")
"""Money per unit sold, in the currency of the line's market."""

COST_PER_UNIT = Message("成本币/件", "cost ccy/unit")
"""Money per unit in the currency the goods are bought in."""

PER_PARCEL = Message("市场币/包裹", "mkt ccy/parcel")
"""Money per parcel (consignment), in the market currency."""

FRACTION = Message("比例", "fraction")
"""A share or rate: 0.15 = 15 %."""

REPORTING = Message("报告币种", "reporting ccy")
"""A plan amount in the reporting currency (Settings ``reporting_currency``)."""

MONTHS: tuple[Message, ...] = tuple(
    Message(f"{m}月", en)
    for m, en in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
)
"""Month names, January first."""
