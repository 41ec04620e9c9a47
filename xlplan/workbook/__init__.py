"""The file side: schema, template build, reading and writing workbooks."""

# Each area's schema module registers its sheets and tables with xlplan.workbook.schema.
from xlplan.workbook import (  # noqa: F401
    schema_kpi,
    schema_maps,
)
