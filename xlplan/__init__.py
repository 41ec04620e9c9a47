"""XLPlan: three-maps sales planning for cross-border e-commerce."""

__version__ = "0.1.0"
