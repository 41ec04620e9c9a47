"""The stock and cash calculators, pure: DataFrames and arrays in, DataFrames and records out.

``demand``    the Monthly Plan's revenue spread over SKUs and turned into units
``calendar``  each supplier's capacity day by day (Chinese New Year, closures) and order dates
``stock``     the replenishment plan: purchase orders, month-end stock, cover, turnover, risk
``costs``     per-unit money from the landed-cost lines and results, at the plan's FX
``cash``      the monthly cash curve, its low point, the cash conversion cycle
``levers``    payment terms and transit mode, side by side
``settings``  the supply settings model and the closed sets (transit mode, closure kind)

Everything is vectorised over routes (SKU x market) and months; the only Python loops run over
the twelve months of the stock balance and over the few calendar windows.
"""
