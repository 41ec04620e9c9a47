"""Chart primitives shared by the capabilities' sheets (XlsxWriter charts).

A chart is drawn from table columns on the sheet (references such as ``='Stock Plan'!$B$7:$B$18``),
so it follows the figures when a planner edits them. Nothing here knows a capability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xlplan.core.errors import Lang

Ref = str | list[object]
"""Cells of a series: ``='Sheet'!$B$7:$B$18`` or XlsxWriter's ``[sheet, first_row, col,
last_row, col]``."""

GRIDLINES = {"visible": True, "line": {"color": "#E3E6EC"}}


@dataclass(frozen=True)
class Series:
    """One series: its name, the cells of its values, its colour; lines may be dashed and
    marked."""

    name: str
    values: Ref
    colour: str
    dash: str = "solid"
    markers: bool = False


def new_chart(wb: Any, kind: str, subtype: str | None = None) -> Any:
    """A chart with XLPlan's look: legend below, no border."""
    spec = {"type": kind} if subtype is None else {"type": kind, "subtype": subtype}
    chart = wb.add_chart(spec)
    chart.set_legend({"position": "bottom", "font": {"size": 9}})
    chart.set_chartarea({"border": {"none": True}})
    return chart


def millions(lang: Lang | str) -> str:
    """The number format of an axis in millions: ``12.5M`` / ``12.5百万``."""
    return '#,##0.0,,"M"' if Lang(lang) is Lang.EN else '#,##0.0,,"百万"'


def columns_and_lines(
    wb: Any,
    categories: Ref,
    column: Series,
    lines: Sequence[Series],
    *,
    title: str,
    y_format: str,
    y2_name: str,
) -> Any:
    """One series as columns on the left axis and ``lines`` on the right axis (from 0): stock
    value by month against its days of cover and the safety stock, for one."""
    chart = new_chart(wb, "column")
    chart.add_series(
        {
            "name": column.name,
            "categories": categories,
            "values": column.values,
            "fill": {"color": column.colour},
            "gap": 60,
        }
    )
    overlay = wb.add_chart({"type": "line"})
    for s in lines:
        marker: dict[str, Any] = (
            {
                "type": "circle",
                "size": 4,
                "fill": {"color": s.colour},
                "border": {"color": s.colour},
            }
            if s.markers
            else {"type": "none"}
        )
        overlay.add_series(
            {
                "name": s.name,
                "categories": categories,
                "values": s.values,
                "line": {"color": s.colour, "width": 2.25, "dash_type": s.dash},
                "marker": marker,
                "y2_axis": True,
            }
        )
    chart.combine(overlay)
    chart.set_title({"name": title, "name_font": {"size": 11}})
    chart.set_y_axis({"num_format": y_format, "major_gridlines": GRIDLINES})
    overlay.set_y2_axis({"num_format": "0", "min": 0, "name": y2_name})
    chart.set_x_axis({"num_font": {"size": 8, "rotation": -45}})
    return chart
