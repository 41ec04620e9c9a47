"""The three maps' actions: ``business``, ``customers``, ``products``, one module per map.

Each reads its input sheet, calls the domain (:mod:`xlplan.maps.calc`), writes its result sheet
and replaces its own rows of the Map Proposals table (shaped like the Alignment sheet's
``tblTargetLines``), leaving the other maps' rows as they are.
"""

from __future__ import annotations

from xlplan.core.errors import Message
from xlplan.maps.action.business import (
    allocate_pool,
    incremental_pool,
    landed_cost_margins,
    median_margins,
    run_business,
    screening_table,
)
from xlplan.maps.action.common import (
    DEFAULT_INCREMENTAL_POOL,
    FAIL_TEXT,
    KEPT_TEXT,
    LANDED_COST_RESULTS,
    MODELS,
    PASS_TEXT,
    STATUS_TEXT,
    default_setting_values,
    model_from_table,
    setting_rows,
    usd_rate,
)
from xlplan.maps.action.customer import (
    WARNING,
    customer_proposals,
    import_orders,
    run_customers,
    tier_assumptions,
    tier_customers_in,
    tier_label,
    tier_table,
)
from xlplan.maps.action.product import (
    product_as_of,
    product_lines_table,
    product_mix_table,
    product_sales,
    run_products,
)
from xlplan.plan.action import Action

ACTIONS = (
    Action(
        "business",
        Message("业务地图", "Business map"),
        run_business,
        produces=("business_screening", "map_proposals"),
        needs=(LANDED_COST_RESULTS,),
        help=Message(
            "读取“业务地图”的候选市场（含保留的市场）、阈值与权重、落地成本结果的毛利，"
            "写入“业务地图结果”与地图提案。",
            "Reads the Business Map candidates (and the markets kept), thresholds, weights and "
            "the landed-cost margins; writes Business Map Result and the map proposals.",
        ),
    ),
    Action(
        "customers",
        Message("客户地图", "Customer map"),
        run_customers,
        produces=("customer_totals", "order_import_log", "customer_tiers", "map_proposals"),
        help=Message(
            "导入“客户地图”列出的订单文件，分层并写入“客户地图结果”与地图提案。",
            "Imports the order files listed on the Customer Map, tiers the customers; writes "
            "Customer Map Result and the map proposals.",
        ),
    ),
    Action(
        "products",
        Message("产品地图", "Product map"),
        run_products,
        produces=("product_lines", "product_mix", "map_proposals"),
        help=Message(
            "读取“产品地图”的月度销售与经济性，写入“产品地图结果”与地图提案。",
            "Reads the Product Map sales and economics; writes Product Map Result and the map "
            "proposals.",
        ),
    ),
)

__all__ = [
    "ACTIONS",
    "DEFAULT_INCREMENTAL_POOL",
    "FAIL_TEXT",
    "KEPT_TEXT",
    "LANDED_COST_RESULTS",
    "MODELS",
    "PASS_TEXT",
    "STATUS_TEXT",
    "WARNING",
    "allocate_pool",
    "customer_proposals",
    "default_setting_values",
    "import_orders",
    "incremental_pool",
    "landed_cost_margins",
    "median_margins",
    "model_from_table",
    "product_as_of",
    "product_lines_table",
    "product_mix_table",
    "product_sales",
    "run_business",
    "run_customers",
    "run_products",
    "screening_table",
    "setting_rows",
    "tier_assumptions",
    "tier_customers_in",
    "tier_label",
    "tier_table",
    "usd_rate",
]
