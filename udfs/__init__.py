"""The Excel edge: xlwings UDFs, ribbon dispatcher and the live workbook port."""
