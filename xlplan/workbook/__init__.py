"""The file side: schema, template build, reading and writing workbooks."""
