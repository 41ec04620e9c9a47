"""The XLPlan Excel add-in (``xlplan.xlam``), built from the xlwings package the user has installed.

The starting point is xlwings' own ribbon add-in template (``quickstart_addin_ribbon.xlam``, the
file ``xlwings quickstart NAME --addin --ribbon`` copies); the repository carries no copy of it.
:func:`build_addin` changes three parts of that package and copies every other member byte for
byte:

- the ribbon (``customUI/customUI.xml``, whichever part the package's ``ui/extensibility``
  relationship names): an "XLPlan" tab generated from the action registry, one button per
  action plus New plan and Help; every button's ``tag`` is an action name (or ``new`` /
  ``help``) and every ``onAction`` is the one VBA callback :data:`CALLBACK`, which the
  dispatcher module ``workbooks/addin/XLPlanRibbon.bas`` provides;
- the add-in's config sheet (``_myaddin.conf``): activated by dropping the underscore (xlwings
  reads the sheet ``<PROJECT_NAME>.conf``) and set to ``UDF Modules`` (the UDF modules, one
  per capability) and the interpreter;
- ``xl/workbook.xml``: the config sheet's new name.

What only Excel can do -- import the VBA module, import the UDFs into the add-in (xlwings'
``ImportPythonUDFsToAddin``), copy the add-in into Excel's XLSTART folder -- runs with
``excel=True`` on Windows, through xlwings (imported only then). It needs "Trust access to the
VBA project object model"; without it the build stops with :class:`~xlplan.errors.InputError`
saying where to switch it on.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from xlplan.actions import ACTIONS
from xlplan.core.errors import InputError, Message, TemplateError
from xlplan.workbook.package import Package, read_rels

TEMPLATE_NAME = "quickstart_addin_ribbon.xlam"
ADDIN_NAME = "xlplan.xlam"
VBA_MODULE = "XLPlanRibbon"
CALLBACK = f"{VBA_MODULE}.XLPlanDispatch"
UDF_MODULES = "udfs.landed_cost;udfs.planning;udfs.kpi;udfs.maps;udfs.supply"
BAS_NAME = f"{VBA_MODULE}.bas"

RT_RIBBON_SUFFIX = "/ui/extensibility"

# Buttons that are not registered actions: the dispatcher handles them itself.
SPECIAL_TAGS: dict[str, tuple[str, str]] = {
    "new": ("新建计划", "New plan"),
    "help": ("帮助", "Help"),
}

# Ribbon groups in order: (id, zh, en, tags). Registered actions not named here land in the
# "more" group, so every action in the registry gets a button.
GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("xlplanPlan", "计划", "Plan", ("new", "check")),
    ("xlplanCost", "成本", "Cost", ("landed_cost",)),
    ("xlplanMaps", "三张地图", "Three maps", ("business", "customers", "products")),
    ("xlplanTargets", "目标", "Targets", ("align", "split", "track")),
    ("xlplanSupply", "备货与资金", "Stock & cash", ("stock", "cash")),
    ("xlplanKpi", "KPI", "KPI", ("kpi",)),
    ("xlplanMore", "更多", "More", ()),
    ("xlplanHelp", "帮助", "Help", ("help",)),
)

IMAGES = {
    "new": "FileNew",
    "check": "DataValidation",
    "landed_cost": "Calculator",
    "kpi": "ChartInsert",
    "stock": "TableInsert",
    "cash": "ChartTypeLineInsertGallery",
    "help": "Help",
}
DEFAULT_IMAGE = "MacroPlay"

TRUST_CENTER = (
    "请在 Excel 中启用：文件 > 选项 > 信任中心 > 信任中心设置 > 宏设置 > "
    "“信任对 VBA 工程对象模型的访问”，然后重试",
    "In Excel enable: File > Options > Trust Center > Trust Center Settings > Macro Settings > "
    '"Trust access to the VBA project object model", then try again',
)


@dataclass
class AddinReport:
    """What a build did and what is left for Excel."""

    path: Path
    done: list[Message] = field(default_factory=list)
    remaining: list[Message] = field(default_factory=list)

    def lines(self, lang: str = "en") -> list[str]:
        out = [f"[x] {line.text(lang)}" for line in self.done]
        out += [f"[ ] {line.text(lang)}" for line in self.remaining]
        return out


@dataclass(frozen=True)
class Button:
    tag: str
    zh: str
    en: str

    @property
    def label(self) -> str:
        return self.en if self.zh == self.en else f"{self.zh} {self.en}"


def xlwings_template() -> Path:
    """The ribbon add-in template inside the installed xlwings package (found, not imported)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise InputError(
            "未安装 xlwings（pip install xlwings），无法生成加载项",
            "xlwings is not installed (pip install xlwings); cannot build the add-in",
        )
    path = Path(spec.origin).parent / TEMPLATE_NAME
    if not path.is_file():
        raise InputError(
            f"所装的 xlwings 缺少加载项模板 {TEMPLATE_NAME}: {path}",
            f"the installed xlwings lacks its add-in template {TEMPLATE_NAME}: {path}",
        )
    return path


# --------------------------------------------------------------------------------------------
# Ribbon
# --------------------------------------------------------------------------------------------


def ribbon_groups() -> list[tuple[str, str, str, list[Button]]]:
    """The ribbon's groups and buttons, from :data:`GROUPS` and the action registry."""
    placed = {tag for *_, tags in GROUPS for tag in tags}

    def button(tag: str) -> Button | None:
        if tag in SPECIAL_TAGS:
            return Button(tag, *SPECIAL_TAGS[tag])
        act = ACTIONS.get(tag)
        return None if act is None else Button(act.name, act.label.zh, act.label.en)

    out = []
    for gid, zh, en, tags in GROUPS:
        if gid == "xlplanMore":
            tags = tuple(name for name in ACTIONS if name not in placed)
        buttons = [b for b in (button(t) for t in tags) if b is not None]
        if buttons:
            out.append((gid, zh, en, buttons))
    return out


def ribbon_xml(namespace: str = "http://schemas.microsoft.com/office/2006/01/customui") -> str:
    """The customUI document: one XLPlan tab, every button dispatching through :data:`CALLBACK`."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        f"<customUI xmlns={quoteattr(namespace)}>",
        "  <ribbon>",
        "    <tabs>",
        '      <tab id="xlplanTab" label="XLPlan">',
    ]
    for gid, zh, en, buttons in ribbon_groups():
        label = en if zh == en else f"{zh} {en}"
        lines.append(f"        <group id={quoteattr(gid)} label={quoteattr(label)}>")
        for b in buttons:
            tip = f"{b.zh} / {b.en}"
            lines.append(
                f"          <button id={quoteattr('xlplan_' + b.tag)}"
                f" label={quoteattr(b.label)} tag={quoteattr(b.tag)}"
                f' screentip={quoteattr(tip)} size="large"'
                f" imageMso={quoteattr(IMAGES.get(b.tag, DEFAULT_IMAGE))}"
                f" onAction={quoteattr(CALLBACK)}/>"
            )
        lines.append("        </group>")
    lines += ["      </tab>", "    </tabs>", "  </ribbon>", "</customUI>", ""]
    return "\n".join(lines)


def _ribbon_parts(pkg: Package) -> list[str]:
    parts = [r.part for r in read_rels(pkg, "") if r.type.endswith(RT_RIBBON_SUFFIX) and r.part]
    if not parts or not all(pkg.has(p) for p in parts):
        raise TemplateError(f"{pkg.label}: no ribbon (customUI) part to replace")
    return parts


def _namespace(xml: bytes) -> str:
    found = re.search(rb"<(?:\w+:)?customUI\b[^>]*?\bxmlns(?::\w+)?=\"([^\"]+)\"", xml)
    if found is None:
        raise TemplateError("the template's ribbon part has no customUI namespace")
    return found.group(1).decode("utf-8")


# --------------------------------------------------------------------------------------------
# Config sheet
# --------------------------------------------------------------------------------------------

_CONF_SHEET = re.compile(r"<sheet\b[^>]*\bname=\"(_?)([\w.-]+)\.conf\"[^>]*/>")


def _config_sheet(pkg: Package) -> tuple[str, str, str]:
    """(current name, active name, part) of the add-in's config sheet."""
    workbook = "xl/workbook.xml"
    text = pkg.read_text(workbook)
    found = _CONF_SHEET.search(text)
    if found is None:
        raise TemplateError(f"{pkg.label}: the add-in template has no <name>.conf sheet")
    rid = re.search(r"\br:id=\"([^\"]+)\"", found.group(0))
    target = next((r.part for r in read_rels(pkg, workbook) if rid and r.id == rid.group(1)), "")
    if not target or not pkg.has(target):
        raise TemplateError(f"{pkg.label}: the config sheet's part is missing")
    name = f"{found.group(1)}{found.group(2)}.conf"
    return name, f"{found.group(2)}.conf", target


def _shared_strings(pkg: Package) -> list[str]:
    if not pkg.has("xl/sharedStrings.xml"):
        return []
    text = pkg.read_text("xl/sharedStrings.xml")
    return [
        "".join(re.findall(r"<t\b[^>]*>([^<]*)</t>", si))
        for si in re.findall(r"<si>(.*?)</si>", text, flags=re.S)
    ]


def set_config(sheet_xml: str, strings: Sequence[str], values: dict[str, str]) -> str:
    """The config sheet with column B set for each key of ``values`` (keys as in column A).

    Values are written as inline strings so the shared string table stays as it was.
    """
    rows: dict[str, tuple[int, re.Match[str]]] = {}
    for row in re.finditer(r"<row\b[^>]*\br=\"(\d+)\"[^>]*>(.*?)</row>", sheet_xml, re.S):
        cell = re.search(r"<c\b[^>]*\br=\"A\d+\"[^>]*\bt=\"s\"[^>]*>\s*<v>(\d+)</v>", row.group(2))
        if cell is not None and int(cell.group(1)) < len(strings):
            rows[strings[int(cell.group(1))].casefold()] = (int(row.group(1)), row)
    missing = [k for k in values if k.casefold() not in rows]
    if missing:
        raise TemplateError(f"the add-in's config sheet lacks the settings {missing}")
    edits = sorted(
        ((rows[k.casefold()], v) for k, v in values.items()),
        key=lambda item: item[0][1].start(),
        reverse=True,
    )
    for (number, row), value in edits:
        ref = f"B{number}"
        new_cell = (
            f'<c r="{ref}" s="1" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t>'
            "</is></c>"
            if value
            else ""  # an empty setting is an absent cell
        )
        body = row.group(2)
        old = re.search(rf"<c\b[^>]*\br=\"{ref}\"[^>]*?(?:/>|>.*?</c>)", body, re.S)
        if old is not None:
            body = body[: old.start()] + new_cell + body[old.end() :]
        elif not value:
            continue
        else:
            a_cell = re.search(r"<c\b[^>]*\br=\"A\d+\"[^>]*?(?:/>|>.*?</c>)", body, re.S)
            at = a_cell.end() if a_cell is not None else 0
            body = body[:at] + new_cell + body[at:]
        head = sheet_xml[row.start() : row.start(2)]
        head = re.sub(r"\bspans=\"(\d+):1\"", r'spans="\1:2"', head)
        sheet_xml = sheet_xml[: row.start()] + head + body + "</row>" + sheet_xml[row.end() :]
    return sheet_xml


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def build_addin_bytes(
    template: Path | bytes, *, interpreter_win: str = "", interpreter_mac: str = ""
) -> bytes:
    """The add-in package: ``template`` with XLPlan's ribbon and config (see the module doc)."""
    pkg = Package.load(template, "add-in template")
    for part in _ribbon_parts(pkg):
        pkg.write_text(part, ribbon_xml(_namespace(pkg.read(part))))
    name, active, sheet_part = _config_sheet(pkg)
    if name != active:
        workbook = pkg.read_text("xl/workbook.xml")
        pkg.write_text("xl/workbook.xml", workbook.replace(f'name="{name}"', f'name="{active}"', 1))
    values = {
        "UDF Modules": UDF_MODULES,
        "Interpreter_Win": interpreter_win,
        "Interpreter_Mac": interpreter_mac,
    }
    sheet = set_config(pkg.read_text(sheet_part), _shared_strings(pkg), values)
    pkg.write_text(sheet_part, sheet)
    return pkg.to_bytes()


def dispatcher_bas() -> str:
    """The VBA source of the dispatcher module (``workbooks/addin/XLPlanRibbon.bas``).

    ASCII only: the VBA editor imports a .bas file in the system's ANSI code page. CRLF line
    ends, as the VBA editor exports them.
    """
    module, callback = CALLBACK.split(".")
    lines = [
        f'Attribute VB_Name = "{module}"',
        "Option Explicit",
        "' XLPlan ribbon dispatcher. Every button of the XLPlan tab calls " + callback + ";",
        "' the button's Tag is the action name and Python (udfs.ribbon.dispatch) does the rest.",
        "' Generated by xlplan.addin.dispatcher_bas(); `xlplan addin build` imports it into the",
        "' add-in. RunPython comes from the add-in's own xlwings module.",
        "",
        f"Sub {callback}(control As IRibbonControl)",
        "    Dim tag As String",
        "    tag = control.Tag",
        "    If ActiveWorkbook Is Nothing Then",
        '        If tag = "new" Or tag = "help" Then',
        "            Workbooks.Add",
        "        Else",
        '            MsgBox "Open a plan workbook first (or click New plan).", _',
        '                vbExclamation, "XLPlan"',
        "            Exit Sub",
        "        End If",
        "    End If",
        '    RunPython "import udfs.ribbon; udfs.ribbon.dispatch(\'" & tag & "\')"',
        "End Sub",
        "",
    ]
    return "\r\n".join(lines)


ExcelSteps = Callable[[Path, AddinReport, bool], None]
"""Import the dispatcher and the UDFs into the add-in at a path (and install it when asked)."""

EXCEL_STEPS_GROUP = "xlplan.excel"
"""Entry-point group through which the Excel edge (``udfs.addin_excel``) plugs its steps in:
``xlplan`` itself never imports xlwings or ``udfs``."""


def installed_excel_steps() -> ExcelSteps | None:
    """The Excel steps the installed Excel edge provides (entry point ``xlplan.excel:steps``)."""
    from importlib.metadata import entry_points

    for point in entry_points(group=EXCEL_STEPS_GROUP):
        if point.name == "steps":
            steps: ExcelSteps = point.load()
            return steps
    return None


def build_addin(
    target: Path,
    *,
    excel: bool,
    install: bool = False,
    interpreter: str | None = None,
    template: Path | None = None,
    excel_steps: ExcelSteps | None = None,
) -> AddinReport:
    """Write ``xlplan.xlam`` to ``target``; with ``excel`` also run the steps that need Excel.

    Those steps drive Excel through xlwings, so they live at the Excel edge
    (``udfs.addin_excel.run_excel_steps``), found through the ``xlplan.excel`` entry point
    unless the caller passes them in as ``excel_steps``: nothing in ``xlplan/`` imports xlwings.

    ``install`` (with ``excel``) then copies the add-in into Excel's XLSTART folder.
    ``interpreter`` is the Python that Excel starts (config ``Interpreter_Win`` on Windows,
    ``Interpreter_Mac`` on macOS); by default the one running this build on those systems, and
    left empty elsewhere (xlwings then uses ``python`` on the PATH of the machine running Excel).
    """
    if excel:
        require_windows()  # fail before writing anything
    source = template or xlwings_template()
    win, mac = _interpreters(interpreter)
    data = build_addin_bytes(source, interpreter_win=win, interpreter_mac=mac)
    _write(target, data)
    report = AddinReport(target)
    report.done += [
        Message(
            f"加载项已生成: {target}（模板: {source}）", f"add-in written: {target} (from {source})"
        ),
        Message(
            "功能区: XLPlan 选项卡，按钮来自操作注册表",
            "ribbon: XLPlan tab, buttons from the registry",
        ),
        Message(
            f"配置表: UDF Modules = {UDF_MODULES}", f"config sheet: UDF Modules = {UDF_MODULES}"
        ),
    ]
    if win or mac:
        report.done.append(Message(f"解释器: {win or mac}", f"interpreter: {win or mac}"))
    else:
        report.remaining.append(
            Message(
                "填写 Interpreter_Win（在 Windows 上运行 xlplan addin install 会自动填写）",
                "set Interpreter_Win (running `xlplan addin install` on Windows fills it in)",
            )
        )
    if not excel:
        report.remaining += _excel_steps(install=True)
        return report
    if excel_steps is None:
        excel_steps = installed_excel_steps()
    if excel_steps is None:
        raise no_excel(
            "没有提供驱动 Excel 的步骤（请用 xlplan addin install）",
            "no Excel driver was given (use `xlplan addin install`)",
        )
    excel_steps(target, report, install)
    if not install:
        report.remaining += _excel_steps(install=True)[2:]
    return report


def _interpreters(interpreter: str | None) -> tuple[str, str]:
    mac = sys.platform.startswith("darwin")
    if interpreter is not None:
        return ("", interpreter) if mac else (interpreter, "")
    if sys.platform.startswith("win"):
        return sys.executable, ""
    return ("", sys.executable) if mac else ("", "")


def _write(target: Path, data: bytes) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        raise InputError(f"无法写入 {target}: {exc}", f"cannot write {target}: {exc}") from exc


def _excel_steps(*, install: bool) -> list[Message]:
    steps = [
        Message(
            f"导入 VBA 模块 {BAS_NAME}（需要 Windows 上的 Excel）",
            f"import the VBA module {BAS_NAME} (needs Excel on Windows)",
        ),
        Message(
            "把 UDF 导入加载项（xlwings ImportPythonUDFsToAddin，需要 Windows 上的 Excel）",
            "import the UDFs into the add-in (xlwings ImportPythonUDFsToAddin; Excel on Windows)",
        ),
    ]
    if install:
        steps.append(
            Message(
                "复制到 Excel 的 XLSTART 文件夹（xlplan addin install）",
                "copy it into Excel's XLSTART folder (xlplan addin install)",
            )
        )
    return steps


# --------------------------------------------------------------------------------------------
# The steps that need Excel
# --------------------------------------------------------------------------------------------


def no_excel(zh: str, en: str) -> InputError:
    return InputError(f"{zh}。{TRUST_CENTER[0]}", f"{en}. {TRUST_CENTER[1]}")


def require_windows() -> None:
    if not sys.platform.startswith("win"):
        raise no_excel(
            "导入 VBA 模块和 UDF 需要 Windows 上的 Excel（xlwings 只在 Windows 上能访问 "
            "VBA 工程）；在此系统上请用 xlplan addin build --no-excel，"
            "再在 Windows 上运行 xlplan addin install",
            "importing the VBA module and the UDFs needs Excel on Windows (xlwings reaches the VBA "
            "project only there); here use `xlplan addin build --no-excel`, then run "
            "`xlplan addin install` on Windows",
        )
