"""What every capability shares about a plan: the Settings sheet as one typed model, the FX
table, and the action contract (port in, context, result out).

Kept import-free: ``xlplan.plan.settings`` is imported by pure calculators, which must not pull
in the workbook machinery that :mod:`xlplan.plan.tables` and :mod:`xlplan.plan.action` use.
"""
