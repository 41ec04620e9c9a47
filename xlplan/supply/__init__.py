"""Stock and cash: the replenishment plan (备货计划) and the cash plan (资金计划)."""
