"""The Excel edge: the only code that imports xlwings.

:data:`MODULES` are the UDF modules, one per capability; the add-in's config sheet names them
(``UDF Modules``) so xlwings imports every ``XLP_`` function from them.
"""

MODULES: tuple[str, ...] = (
    "udfs.landed_cost",
    "udfs.planning",
    "udfs.kpi",
    "udfs.maps",
    "udfs.supply",
)
