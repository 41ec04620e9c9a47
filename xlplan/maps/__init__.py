"""The three maps: business (markets), customer (tiers), product (lifecycle)."""
