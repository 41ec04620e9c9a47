"""The add-in steps that need Excel: import the ribbon dispatcher and the UDFs, install.

They drive Excel through xlwings, so they live here at the Excel edge; ``xlplan.addin`` builds
everything else on any OS and calls :func:`run_excel_steps` when the CLI passes it in. Excel
refuses programmatic access to an add-in's VBA project unless "Trust access to the VBA project
object model" is on, and the error says so.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from xlplan.app.addin import (
    ADDIN_NAME,
    BAS_NAME,
    VBA_MODULE,
    AddinReport,
    dispatcher_bas,
    no_excel,
    require_windows,
)
from xlplan.core.errors import InputError, Message


def run_excel_steps(target: Path, report: AddinReport, install: bool) -> None:
    """Import the dispatcher and the UDFs into the add-in; with ``install`` copy it to XLSTART."""
    require_windows()
    import xlwings as xw  # imported here: on other systems the module must still import

    try:
        app = xw.App(visible=False, add_book=False)
    except Exception as exc:  # COM start-up failures come in many types
        raise no_excel(f"无法启动 Excel: {exc}", f"cannot start Excel: {exc}") from exc
    try:
        book = app.books.open(str(target))
        _import_vba(book)
        report.done.append(
            Message(f"已导入 VBA 模块 {VBA_MODULE}", f"VBA module {VBA_MODULE} imported")
        )
        book.macro("ImportPythonUDFsToAddin")()
        report.done.append(Message("UDF 已导入加载项", "UDFs imported into the add-in"))
        book.save()
        book.close()
        if install:
            installed = Path(str(app.startup_path)) / ADDIN_NAME
            shutil.copyfile(target, installed)
            report.done.append(Message(f"已安装到 {installed}", f"installed: {installed}"))
            report.done.append(Message("请重启 Excel", "restart Excel to load the ribbon"))
    except InputError:
        raise
    except Exception as exc:  # a COM error from Excel: say what to check
        raise no_excel(f"Excel 步骤失败: {exc}", f"the Excel step failed: {exc}") from exc
    finally:
        app.quit()
    report.remaining.clear()


def _import_vba(book: Any) -> None:
    try:
        components = book.api.VBProject.VBComponents
        existing = [components.Item(i).Name for i in range(1, components.Count + 1)]
    except Exception as exc:  # Excel refuses VBProject access unless trusted
        raise no_excel(
            "Excel 拒绝访问 VBA 工程", "Excel refused access to the VBA project"
        ) from exc
    if VBA_MODULE in existing:
        components.Remove(components.Item(VBA_MODULE))
    with tempfile.TemporaryDirectory() as tmp:
        bas = Path(tmp) / BAS_NAME
        bas.write_bytes(dispatcher_bas().encode("ascii"))
        components.Import(str(bas))
