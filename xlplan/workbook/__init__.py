"""The file side's generic machinery: schema types, coercion, the catalog, render primitives,
the file port and the OOXML package writer. It imports no capability."""
