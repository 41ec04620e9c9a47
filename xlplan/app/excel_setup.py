"""What can be known about Excel on this machine without starting it.

On Windows the registry answers two questions: is Excel registered for automation
(``HKEY_CLASSES_ROOT\\Excel.Application``), and is "Trust access to the VBA project object
model" on (``AccessVBOM`` under ``HKCU\\Software\\Microsoft\\Office\\<version>\\Excel\\Security``;
under ``...\\Software\\Policies\\...`` an administrator can force it off). COM error texts are
localised and the error code for "not trusted" (0x800A03EC) is the generic VBA error 1004, so
the registry is how the installer tells the Trust Center apart from other refusals.
On macOS Excel is an application bundle; VBA access is not scriptable there at all.

The registry is read through :class:`Registry`, so every answer is testable on any OS.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from xlplan.app.checks import Check, failed, not_applicable, passed
from xlplan.core.errors import Message

OFFICE_VERSIONS = ("16.0", "15.0")  # Excel 2016-2024 and Microsoft 365 are all 16.0
HKCU = "HKEY_CURRENT_USER"
HKCR = "HKEY_CLASSES_ROOT"
MAC_EXCEL = Path("/Applications/Microsoft Excel.app")

TRUST_PATH = Message(
    "Excel：文件 > 选项 > 信任中心 > 信任中心设置 > 宏设置 > 勾选“信任对 VBA 工程对象模型的访问”，"
    "关闭 Excel 后重新运行 xlplan addin install",
    "in Excel: File > Options > Trust Center > Trust Center Settings > Macro Settings > tick "
    '"Trust access to the VBA project object model", quit Excel, then run '
    "xlplan addin install again",
)
TRUST_POLICY = Message(
    "“信任对 VBA 工程对象模型的访问”被组织的组策略关闭，本机无法打开：请联系 IT 管理员，"
    "或让管理员在有权限的电脑上生成并分发 xlplan.xlam",
    'your organisation\'s group policy switches "Trust access to the VBA project object model" '
    "off and it cannot be switched on here: ask IT, or have xlplan.xlam built on a machine that "
    "allows it",
)


class Registry(Protocol):
    def __call__(self, root: str, key: str, name: str) -> object | None:
        """The value ``name`` under ``root\\key`` (``""`` = the key's default), or None."""
        ...


def windows_registry(root: str, key: str, name: str) -> object | None:
    """Read one registry value with ``winreg`` (Windows only; None where it is missing)."""
    if sys.platform != "win32":
        return None
    try:
        import winreg
    except ImportError:  # a test pretending to be Windows
        return None

    hive = {HKCU: winreg.HKEY_CURRENT_USER, HKCR: winreg.HKEY_CLASSES_ROOT}[root]
    try:
        with winreg.OpenKey(hive, key) as handle:
            value: object = winreg.QueryValueEx(handle, name)[0]
            return value
    except OSError:
        return None


def fake_registry(values: Mapping[tuple[str, str, str], object]) -> Registry:
    """A registry holding ``values`` (for tests and for other systems)."""

    def read(root: str, key: str, name: str) -> object | None:
        return values.get((root, key, name))

    return read


def access_vbom(registry: Registry) -> tuple[int | None, int | None]:
    """(the user's AccessVBOM, the policy's AccessVBOM) for the newest Office that has one."""
    for version in OFFICE_VERSIONS:
        user = registry(HKCU, rf"Software\Microsoft\Office\{version}\Excel\Security", "AccessVBOM")
        policy = registry(
            HKCU, rf"Software\Policies\Microsoft\Office\{version}\Excel\Security", "AccessVBOM"
        )
        if user is not None or policy is not None:
            return _int(user), _int(policy)
    return None, None


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def vba_trusted(registry: Registry) -> bool | None:
    """True/False when the registry says whether VBA access is trusted; None when it is silent
    (Excel's default: not trusted)."""
    user, policy = access_vbom(registry)
    if policy == 0:
        return False
    if policy == 1 or user == 1:
        return True
    return False if user == 0 else None


def trust_fix(registry: Registry) -> Message:
    """What to do about refused VBA access: the Trust Center, or IT when a policy forces it."""
    _, policy = access_vbom(registry)
    return TRUST_POLICY if policy == 0 else TRUST_PATH


TRUST = Message("信任 VBA 工程访问", "trust access to the VBA project")
EXCEL = Message("Excel", "Excel")
WINDOWS_ONLY = Message("只在 Windows 上适用", "applies on Windows only")


def check_trust(registry: Registry, platform: str | None = None) -> Check:
    platform = platform or sys.platform
    if not platform.startswith("win"):
        return not_applicable(
            "trust",
            TRUST,
            Message(
                "只在 Windows 上适用（macOS 上 VBA 模块需在 VBA 编辑器中手动导入）",
                "applies on Windows only (on macOS the VBA module is imported by hand)",
            ),
        )
    trusted = vba_trusted(registry)
    if trusted:
        return passed("trust", TRUST, Message("已开启（AccessVBOM = 1）", "on (AccessVBOM = 1)"))
    return failed(
        "trust",
        TRUST,
        Message(
            "未开启：安装时无法导入 VBA 与 XLP_ 函数",
            "off: install cannot import the VBA and the XLP_ functions",
        ),
        trust_fix(registry),
    )


def check_excel(
    registry: Registry,
    platform: str | None = None,
    exists: Callable[[Path], bool] = Path.exists,
) -> Check:
    """Excel is installed where xlwings can drive it."""
    platform = platform or sys.platform
    if platform.startswith("win"):
        clsid = registry(HKCR, r"Excel.Application\CLSID", "")
        if clsid:
            version = registry(HKCR, r"Excel.Application\CurVer", "") or "Excel.Application"
            return passed("excel", EXCEL, Message(f"已注册: {version}", f"registered: {version}"))
        return failed(
            "excel",
            EXCEL,
            Message(
                "未找到可自动化的 Excel（Excel.Application 未注册）",
                "no Excel that can be automated (Excel.Application is not registered)",
            ),
            Message(
                "安装桌面版 Excel（Microsoft 365 应用/Office）；"
                "Microsoft Store 版 Excel 无法被 xlwings 驱动",
                "install desktop Excel (Microsoft 365 Apps / Office); the Microsoft Store version "
                "cannot be driven by xlwings",
            ),
        )
    if platform.startswith("darwin"):
        if exists(MAC_EXCEL):
            return passed("excel", EXCEL, Message(f"{MAC_EXCEL}", f"{MAC_EXCEL}"))
        return failed(
            "excel",
            EXCEL,
            Message(f"未找到 {MAC_EXCEL}", f"{MAC_EXCEL} not found"),
            Message("安装 Microsoft Excel for Mac", "install Microsoft Excel for Mac"),
        )
    return not_applicable(
        "excel",
        EXCEL,
        Message(
            "此系统上没有 Excel：用命令行（xlplan run）或 LibreOffice 打开生成的文件",
            "no Excel on this system: use the command line (xlplan run); the files open in "
            "LibreOffice",
        ),
    )
