"""The file side: schema, template build, reading and writing workbooks."""

# Each area's schema module registers its sheets and tables with xlplan.workbook.schema.
from xlplan.kpi import tables as _kpi_tables  # noqa: F401
from xlplan.maps import tables as _maps_tables  # noqa: F401
