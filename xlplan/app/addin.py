"""The XLPlan Excel add-in (``xlplan.xlam``), built from the xlwings package the user has installed.

The starting point is xlwings' own ribbon add-in template (``quickstart_addin_ribbon.xlam``, the
file ``xlwings quickstart NAME --addin --ribbon`` copies); the repository carries no copy of it.
:func:`build_addin` changes these parts of that package and copies every other member byte for
byte:

- the ribbon (``customUI/customUI.xml``, whichever part the package's ``ui/extensibility``
  relationship names): an "XLPlan" tab generated from the action registry, one button per
  action plus New plan and Help, each with its own built-in icon and a bilingual supertip that
  says what it reads and writes; every button's ``tag`` is an action name (or ``new`` /
  ``help``) and every ``onAction`` is the one VBA callback :data:`CALLBACK`, which the
  dispatcher module ``workbooks/addin/XLPlanRibbon.bas`` provides;
- the add-in's config sheet (``_myaddin.conf``): activated by dropping the underscore (xlwings
  reads the sheet ``<PROJECT_NAME>.conf``) and set to the UDF modules, the Python to start
  (or conda's root and environment), ``Use UDF Server`` (one warm Python serves the ribbon),
  ``ADD_WORKBOOK_TO_PYTHONPATH = False`` and ``PYTHONPATH`` (so a ``udfs.py`` beside a plan
  cannot shadow XLPlan's ``udfs``), the XLPlan and xlwings versions it was built from and the
  log file (rows appended below the template's, which xlwings reads down to the first blank);
- ``xl/workbook.xml``: the config sheet's new name, without the template author's folder;
- ``docProps/core.xml``: XLPlan as title and author instead of the template's author.

What only Excel can do -- import the VBA dispatcher and the ``XLP_`` functions into the add-in,
drop the template's ``RibbonMyAddin`` module, name the VBA project, check the result, copy it
into Excel's XLSTART folder -- is the Excel edge's job (``udfs.addin_excel``, reached through
the ``xlplan.excel`` entry point: nothing under ``xlplan/`` imports xlwings). Before it touches
Excel, :func:`build_addin` checks the Python that Excel will start
(:mod:`xlplan.app.environment`) and stops with the fix when Excel could not use it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from xlplan import __version__
from xlplan.actions import ACTIONS
from xlplan.app import environment, places
from xlplan.app.checks import Check, all_pass, failed, fixes, not_applicable, passed
from xlplan.app.environment import ExcelPython, PythonSetup
from xlplan.app.logs import excel_setting, see_log
from xlplan.core.errors import InputError, Message, TemplateError, XlplanError
from xlplan.workbook.package import Package, read_rels
from xlplan.workbook.package.xmltext import escape, quoteattr
from xlplan.workbook.relink import ADDIN_CONFIG_SHEET, ADDIN_FILE

TEMPLATE_NAME = "quickstart_addin_ribbon.xlam"
ADDIN_NAME = ADDIN_FILE
VBA_MODULE = "XLPlanRibbon"
CALLBACK = f"{VBA_MODULE}.XLPlanDispatch"
RUN_MACRO = "XLPlanRun"
"""The dispatcher's entry point behind every button: ``XLPlanRun(tag, [quiet])`` (the
self-test calls it through ``Application.Run``; a ribbon callback cannot be called)."""
ADD_FROM_TEMPLATE = "XLPlanAddFromTemplate"
"""``XLPlanAddFromTemplate(path)``: ``Workbooks.Add(Template:=path)``, the new book's name."""
UDF_MODULES = "udfs.landed_cost;udfs.planning;udfs.kpi;udfs.maps;udfs.supply"
BAS_NAME = f"{VBA_MODULE}.bas"
UDF_MODULE = "xlwings_udfs"
"""The VBA module xlwings' importer writes the ``XLP_`` wrappers into."""
QUICKSTART_MODULE = "RibbonMyAddin"
"""The template's own ribbon module (``RunMain``), which the XLPlan ribbon does not use."""
PROJECT_NAME = "XLPlan"
"""The add-in's VBA project name (the template's is ``MyAddin``)."""
AUTHOR = "XLPlan"
CONFIG_SHEET = ADDIN_CONFIG_SHEET

RT_RIBBON_SUFFIX = "/ui/extensibility"


class Key:
    """The config sheet's keys (column A), spelled as the template spells them."""

    INTERPRETER_WIN = "Interpreter_Win"
    INTERPRETER_MAC = "Interpreter_Mac"
    PYTHONPATH = "PYTHONPATH"
    CONDA_PATH = "Conda Path"
    CONDA_ENV = "Conda Env"
    UDF_MODULES = "UDF Modules"
    USE_UDF_SERVER = "Use UDF Server"
    ADD_WORKBOOK_TO_PYTHONPATH = "ADD_WORKBOOK_TO_PYTHONPATH"
    XLPLAN_VERSION = "XLPLAN_VERSION"
    XLWINGS_VERSION = "XLWINGS_VERSION"
    XLPLAN_LOG = "XLPLAN_LOG"


# Rows XLPlan appends below the template's nine (xlwings reads column A down to the first blank).
APPENDED = (
    Key.ADD_WORKBOOK_TO_PYTHONPATH,
    Key.XLPLAN_VERSION,
    Key.XLWINGS_VERSION,
    Key.XLPLAN_LOG,
)


# --------------------------------------------------------------------------------------------
# The ribbon
# --------------------------------------------------------------------------------------------

# Buttons that are not registered actions: the dispatcher handles them itself.
SPECIAL_TAGS: dict[str, tuple[str, str]] = {
    "new": ("新建计划", "New plan"),
    "help": ("帮助", "Help"),
}
SPECIAL_TIPS: dict[str, Message] = {
    "new": Message(
        "从 Excel 模板（.xltx）新建下一年度的计划：Excel 会询问保存位置。"
        "不读取也不改动当前工作簿。",
        "Opens a new plan for next year from the Excel template (.xltx): Excel asks where to "
        "save it. Reads and changes nothing in the open workbook.",
    ),
    "help": Message(
        "列出每个按钮读取和写入的内容，以及日志文件的位置。不写入任何内容。",
        "Lists what every button reads and writes, and where the log file is. Writes nothing.",
    ),
}

# Ribbon groups in order: (id, zh, en, tags). Registered actions not named here land in the
# "more" group, so every action in the registry gets a button.
GROUPS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("xlplanPlan", "计划", "Plan", ("new", "check")),
    ("xlplanCost", "成本", "Cost", ("landed_cost", "scenarios")),
    ("xlplanMaps", "三张地图", "Three maps", ("business", "customers", "products")),
    ("xlplanTargets", "目标", "Targets", ("align", "split", "track")),
    ("xlplanSupply", "备货与资金", "Stock & cash", ("stock", "cash")),
    ("xlplanKpi", "KPI", "KPI", ("kpi",)),
    ("xlplanMore", "更多", "More", ()),
    ("xlplanHelp", "帮助", "Help", ("help",)),
)

# One built-in (imageMso) icon per button; actions added later take the spares in order.
IMAGES = {
    "new": "FileNew",
    "check": "DataValidation",
    "landed_cost": "Calculator",
    "scenarios": "WhatIfAnalysisMenu",
    "business": "HyperlinkInsert",
    "customers": "PivotTableInsert",
    "products": "CreateTable",
    "align": "GoalSeek",
    "split": "CalendarInsert",
    "track": "AutoSum",
    "kpi": "ChartInsert",
    "stock": "TableInsert",
    "cash": "ChartTypeLineInsertGallery",
    "relink": "Refresh",
    "help": "Help",
}
SPARE_IMAGES = ("TableFormulaDialog", "QueryBuilder", "TraceError", "AcceptInvitation")
DEFAULT_IMAGE = "MacroPlay"


@dataclass(frozen=True)
class Button:
    tag: str
    zh: str
    en: str
    tip: Message = Message("", "")
    image: str = DEFAULT_IMAGE

    @property
    def label(self) -> str:
        return self.en if self.zh == self.en else f"{self.zh} {self.en}"

    @property
    def screentip(self) -> str:
        return Message(self.zh, self.en).both

    @property
    def supertip(self) -> str:
        """What the button reads and writes, in Chinese then English (Excel allows 1024)."""
        return f"{self.tip.zh}\n{self.tip.en}"


def ribbon_groups() -> list[tuple[str, str, str, list[Button]]]:
    """The ribbon's groups and buttons, from :data:`GROUPS` and the action registry."""
    placed = {tag for *_, tags in GROUPS for tag in tags}
    spares = iter(img for img in SPARE_IMAGES if img not in IMAGES.values())

    def image(tag: str) -> str:
        return IMAGES.get(tag) or next(spares, DEFAULT_IMAGE)

    def button(tag: str) -> Button | None:
        if tag in SPECIAL_TAGS:
            return Button(tag, *SPECIAL_TAGS[tag], SPECIAL_TIPS[tag], image(tag))
        act = ACTIONS.get(tag)
        if act is None:
            return None
        tip = act.help if act.help.en else act.label
        return Button(act.name, act.label.zh, act.label.en, tip, image(tag))

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
            lines.append(
                f"          <button id={quoteattr('xlplan_' + b.tag)}"
                f" label={quoteattr(b.label)} tag={quoteattr(b.tag)}"
                f" screentip={quoteattr(b.screentip)}"
                f" supertip={quoteattr(b.supertip)}"
                f' size="large" imageMso={quoteattr(b.image)}'
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
# The config sheet
# --------------------------------------------------------------------------------------------

_CONF_SHEET = re.compile(r"<sheet\b[^>]*\bname=\"(_?)([\w.-]+)\.conf\"[^>]*/>")
_ROW = re.compile(r"<row\b[^>]*\br=\"(\d+)\"[^>]*?(?:/>|>(.*?)</row>)", re.S)

ConfigValue = str | bool


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


def _cell_text(cell: str, strings: Sequence[str]) -> str:
    """The value of one ``<c>`` element as text (shared, inline, boolean or number)."""
    kind = re.search(r"\bt=\"(\w+)\"", cell.split(">", 1)[0])
    value = re.search(r"<v>([^<]*)</v>", cell)
    if kind is not None and kind.group(1) == "inlineStr":
        return _unescape("".join(re.findall(r"<t\b[^>]*>([^<]*)</t>", cell)))
    if value is None:
        return ""
    if kind is not None and kind.group(1) == "s":
        index = int(value.group(1))
        return _unescape(strings[index]) if index < len(strings) else ""
    if kind is not None and kind.group(1) == "b":
        return "TRUE" if value.group(1) == "1" else "FALSE"
    return _unescape(value.group(1))


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


def _cells(row_body: str) -> dict[str, str]:
    """Column letter -> the ``<c>`` element, for one row's body."""
    out = {}
    for cell in re.finditer(r"<c\b[^>]*?(?:/>|>.*?</c>)", row_body, re.S):
        ref = re.search(r"\br=\"([A-Z]+)\d+\"", cell.group(0))
        if ref is not None:
            out[ref.group(1)] = cell.group(0)
    return out


def read_config_sheet(sheet_xml: str, strings: Sequence[str]) -> dict[str, str]:
    """The settings as xlwings' VBA reads them: column A down to the first blank, -> column B."""
    rows = {int(m.group(1)): _cells(m.group(2) or "") for m in _ROW.finditer(sheet_xml)}
    out: dict[str, str] = {}
    number = 1
    while number in rows and "A" in rows[number]:
        key = _cell_text(rows[number]["A"], strings)
        if not key:
            break
        out[key] = _cell_text(rows[number].get("B", ""), strings)
        number += 1
    return out


def _value_cell(ref: str, value: ConfigValue) -> str:
    if isinstance(value, bool):
        return f'<c r="{ref}" s="1" t="b"><v>{int(value)}</v></c>'
    if not value:
        return ""  # an empty setting is an absent cell
    return (
        f'<c r="{ref}" s="1" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
    )


def set_config(
    sheet_xml: str,
    strings: Sequence[str],
    values: Mapping[str, ConfigValue],
    append: Mapping[str, ConfigValue] | None = None,
) -> str:
    """The config sheet with column B set for each key of ``values`` (keys as in column A) and
    a new row for each key of ``append`` that is not there yet, right below the last setting
    (xlwings stops reading at the first blank cell in column A).

    Text is written as inline strings so the shared string table stays as it was; booleans as
    Excel booleans, as the template has them.
    """
    append = dict(append or {})
    rows: dict[str, tuple[int, re.Match[str]]] = {}
    for row in _ROW.finditer(sheet_xml):
        cells = _cells(row.group(2) or "")
        if "A" in cells:
            key = _cell_text(cells["A"], strings)
            if key:
                rows[key.casefold()] = (int(row.group(1)), row)
    missing = [k for k in values if k.casefold() not in rows]
    if missing:
        raise TemplateError(f"the add-in's config sheet lacks the settings {missing}")
    wanted = {**values, **{k: v for k, v in append.items() if k.casefold() in rows}}
    edits = sorted(
        ((rows[k.casefold()], v) for k, v in wanted.items()),
        key=lambda item: item[0][1].start(),
        reverse=True,
    )
    for (number, row), value in edits:
        ref = f"B{number}"
        new_cell = _value_cell(ref, value)
        body = row.group(2) or ""
        old = re.search(rf"<c\b[^>]*\br=\"{ref}\"[^>]*?(?:/>|>.*?</c>)", body, re.S)
        if old is not None:
            body = body[: old.start()] + new_cell + body[old.end() :]
        elif not new_cell:
            continue
        else:
            a_cell = re.search(r"<c\b[^>]*\br=\"A\d+\"[^>]*?(?:/>|>.*?</c>)", body, re.S)
            at = a_cell.end() if a_cell is not None else 0
            body = body[:at] + new_cell + body[at:]
        head = re.sub(r"/?>$", ">", sheet_xml[row.start() : row.start() + _head_len(row)])
        head = re.sub(r"\bspans=\"(\d+):1\"", r'spans="\1:2"', head)
        sheet_xml = sheet_xml[: row.start()] + head + body + "</row>" + sheet_xml[row.end() :]
    new_keys = [k for k in append if k.casefold() not in rows]
    if new_keys:
        sheet_xml = _append_rows(sheet_xml, strings, [(k, append[k]) for k in new_keys])
    return sheet_xml


def _head_len(row: re.Match[str]) -> int:
    """Length of a row element's start tag."""
    return row.group(0).index(">") + 1


def _append_rows(
    sheet_xml: str, strings: Sequence[str], items: Sequence[tuple[str, ConfigValue]]
) -> str:
    last = len(read_config_sheet(sheet_xml, strings))
    for number, (key, value) in enumerate(items, last + 1):
        new_row = (
            f'<row r="{number}" spans="1:2">'
            f'<c r="A{number}" s="1" t="inlineStr"><is><t>{escape(key)}</t></is></c>'
            f"{_value_cell(f'B{number}', value)}</row>"
        )
        rows = list(_ROW.finditer(sheet_xml))
        same = next((r for r in rows if int(r.group(1)) == number), None)
        later = next((r for r in rows if int(r.group(1)) > number), None)
        if same is not None:  # a formatted but empty row of the template
            sheet_xml = sheet_xml[: same.start()] + new_row + sheet_xml[same.end() :]
        elif later is not None:
            sheet_xml = sheet_xml[: later.start()] + new_row + sheet_xml[later.start() :]
        else:
            at = sheet_xml.index("</sheetData>")
            sheet_xml = sheet_xml[:at] + new_row + sheet_xml[at:]
    bottom = max(int(r.group(1)) for r in _ROW.finditer(sheet_xml))
    return re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:B{bottom}"/>', sheet_xml)


def read_config(source: Path | bytes) -> dict[str, str]:
    """The settings of a built add-in (its ``<name>.conf`` sheet), as xlwings' VBA reads them."""
    pkg = Package.load(source, "add-in")
    _, _, part = _config_sheet(pkg)
    return read_config_sheet(pkg.read_text(part), _shared_strings(pkg))


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamps:
    """The versions an add-in was built from (its config's ``XLPLAN_VERSION`` and
    ``XLWINGS_VERSION``): the xlwings version is also the DLL its VBA declares."""

    xlplan: str
    xlwings: str


def current_stamps(setup: PythonSetup | None = None) -> Stamps:
    setup = setup or environment.current_setup()
    return Stamps(__version__, setup.xlwings_version or "")


def config_values(python: ExcelPython, stamps: Stamps, log: str) -> dict[str, ConfigValue]:
    """Every setting XLPlan writes into the add-in's config sheet."""
    return {
        Key.UDF_MODULES: UDF_MODULES,
        Key.INTERPRETER_WIN: python.interpreter_win,
        Key.INTERPRETER_MAC: python.interpreter_mac,
        Key.CONDA_PATH: python.conda_path,
        Key.CONDA_ENV: python.conda_env,
        Key.PYTHONPATH: python.pythonpath,
        Key.USE_UDF_SERVER: True,
        Key.ADD_WORKBOOK_TO_PYTHONPATH: "False",
        Key.XLPLAN_VERSION: stamps.xlplan,
        Key.XLWINGS_VERSION: stamps.xlwings,
        Key.XLPLAN_LOG: log,
    }


def build_addin_bytes(
    template: Path | bytes,
    *,
    python: ExcelPython | None = None,
    stamps: Stamps | None = None,
    log: str = "",
) -> bytes:
    """The add-in package: ``template`` with XLPlan's ribbon and config (see the module doc)."""
    pkg = Package.load(template, "add-in template")
    for part in _ribbon_parts(pkg):
        pkg.write_text(part, ribbon_xml(_namespace(pkg.read(part))))
    name, active, sheet_part = _config_sheet(pkg)
    workbook = pkg.read_text("xl/workbook.xml")
    if name != active:
        workbook = workbook.replace(f'name="{name}"', f'name="{active}"', 1)
    # the template author's folder (x15ac:absPath) has no business in the user's add-in
    workbook = re.sub(
        r"<mc:AlternateContent\b[^>]*>(?:(?!</mc:AlternateContent>).)*?absPath.*?"
        r"</mc:AlternateContent>",
        "",
        workbook,
        flags=re.S,
    )
    pkg.write_text("xl/workbook.xml", workbook)
    values = config_values(python or ExcelPython(), stamps or Stamps(__version__, ""), log)
    fixed = {k: v for k, v in values.items() if k not in APPENDED}
    added = {k: v for k, v in values.items() if k in APPENDED}
    sheet = set_config(pkg.read_text(sheet_part), _shared_strings(pkg), fixed, added)
    pkg.write_text(sheet_part, sheet)
    if pkg.has("docProps/core.xml"):
        pkg.write_text("docProps/core.xml", _core_properties(pkg.read_text("docProps/core.xml")))
    return pkg.to_bytes()


def _core_properties(xml: str) -> str:
    """The document properties with XLPlan as title and author (not the template's author)."""
    for tag in ("dc:title", "dc:creator", "cp:lastModifiedBy"):
        xml = re.sub(
            rf"<{tag}\s*/>|<{tag}\b[^>]*>[^<]*</{tag}>", f"<{tag}>{AUTHOR}</{tag}>", xml, count=1
        )
    return xml


# --------------------------------------------------------------------------------------------
# The VBA dispatcher
# --------------------------------------------------------------------------------------------

OPEN_A_PLAN = Message(
    "请先打开一个计划工作簿（或点“新建计划”）。", "Open a plan workbook first (or click New plan)."
)
PYTHON_FAILED = Message(
    "XLPlan 无法运行 Python。请在命令行运行 xlplan doctor，它会指出原因和修复方法。",
    "XLPlan could not run Python. Run xlplan doctor in a terminal: it names the cause and the fix.",
)
LOG_LABEL = Message("日志", "Log")


def vba_string(text: str) -> str:
    """A VBA expression for ``text`` in ASCII source: non-ASCII characters as ``ChrW(&H...)``
    (the VBA editor imports a .bas file in the system's ANSI code page)."""
    parts: list[str] = []
    run = ""
    for ch in text:
        if " " <= ch <= "~":
            run += '""' if ch == '"' else ch
            continue
        if run:
            parts.append(f'"{run}"')
            run = ""
        parts.append("vbLf" if ch == "\n" else f"ChrW(&H{ord(ch):04X})")
    if run or not parts:
        parts.append(f'"{run}"')
    return " & ".join(parts)


def _vba_assign(name: str, text: str, indent: int = 4, width: int = 90) -> list[str]:
    """``name = <text>`` as statements of at most about ``width`` characters each."""
    pieces = vba_string(text).split(" & ")
    lines, current = [], ""
    for piece in pieces:
        if current and len(current) + len(piece) > width:
            lines.append(current)
            current = piece
        else:
            current = f"{current} & {piece}" if current else piece
    lines.append(current)
    pad = " " * indent
    out = [f"{pad}{name} = {lines[0]}"]
    out += [f"{pad}{name} = {name} & {line}" for line in lines[1:]]
    return out


def dispatcher_bas() -> str:
    """The VBA source of the dispatcher module (``workbooks/addin/XLPlanRibbon.bas``).

    ASCII only (text in Chinese is spelled with ``ChrW``), CRLF line ends, as the VBA editor
    exports them.
    """
    module, callback = CALLBACK.split(".")
    lines = [
        f'Attribute VB_Name = "{module}"',
        "Option Explicit",
        "' XLPlan ribbon dispatcher. Every button of the XLPlan tab calls " + callback + ";",
        "' the button's Tag is the action name and Python (udfs.ribbon.dispatch) does the rest,",
        "' through xlwings' RunPython (with 'Use UDF Server' the same warm Python that serves",
        "' the XLP_ functions). Generated by xlplan.app.addin.dispatcher_bas(); `xlplan addin",
        "' install` imports it into the add-in.",
        "",
        f"Sub {callback}(control As IRibbonControl)",
        f"    {RUN_MACRO} control.Tag",
        "End Sub",
        "",
        "' One button's work; quiet (the self-test) reports on the status bar, not in a box.",
        f"Public Sub {RUN_MACRO}(ByVal tag As String, Optional ByVal quiet As Boolean = False)",
        "    Dim cmd As String, text As String",
        "    If ActiveWorkbook Is Nothing Then",
        '        If tag = "new" Or tag = "help" Then',
        "            Workbooks.Add",
        "        Else",
        *_vba_assign("text", OPEN_A_PLAN.zh + "\n" + OPEN_A_PLAN.en, indent=12),
        '            MsgBox text, vbExclamation, "XLPlan"',
        "            Exit Sub",
        "        End If",
        "    End If",
        '    cmd = "import udfs.ribbon; udfs.ribbon.dispatch(\'" & tag & "\'"',
        '    If quiet Then cmd = cmd & ", quiet=True"',
        "    On Error GoTo failed",
        '    RunPython cmd & ")"',
        "    Exit Sub",
        "failed:",
        "    XLPlanFailed Err.Description, quiet",
        "End Sub",
        "",
        "' A new workbook from a template (.xltx): unsaved, so Excel asks where to save it.",
        f"Public Function {ADD_FROM_TEMPLATE}(ByVal path As String) As String",
        f"    {ADD_FROM_TEMPLATE} = Workbooks.Add(Template:=path).Name",
        "End Function",
        "",
        "' Python could not be reached (DLL, interpreter, COM server): say so, with the log.",
        "Private Sub XLPlanFailed(ByVal description As String, ByVal quiet As Boolean)",
        "    Dim text As String, label As String, logFile As String",
        "    On Error Resume Next",
        '    logFile = GetConfig("XLPLAN_LOG")',
        *_vba_assign("text", PYTHON_FAILED.zh + "\n" + PYTHON_FAILED.en),
        *_vba_assign("label", LOG_LABEL.both),
        '    text = text & vbLf & vbLf & description & vbLf & vbLf & label & ": " & logFile',
        "    If quiet Then",
        '        Application.StatusBar = "XLPlan failed: " & description',
        "    Else",
        '        MsgBox text, vbCritical, "XLPlan"',
        "    End If",
        "End Sub",
        "",
    ]
    return "\r\n".join(lines)


# --------------------------------------------------------------------------------------------
# The Excel edge (udfs.addin_excel), found through an entry point
# --------------------------------------------------------------------------------------------


@dataclass
class AddinReport:
    """What a build did and what is left for Excel."""

    path: Path
    done: list[Message] = field(default_factory=list)
    remaining: list[Message] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    installed: Path | None = None
    """Where the Excel edge installed the add-in (Excel's XLSTART folder)."""

    def lines(self, lang: str = "en") -> list[str]:
        out = [line for c in self.checks for line in c.lines(lang)]
        out += [f"[x] {line.text(lang)}" for line in self.done]
        out += [f"[ ] {line.text(lang)}" for line in self.remaining]
        return out


class ExcelEdge(Protocol):
    """What only Excel can do, provided by ``udfs.addin_excel`` (entry point
    ``xlplan.excel:edge``). Every method reports the real cause of a failure as an
    :class:`~xlplan.core.errors.XlplanError` or a failed :class:`Check`."""

    def install(self, target: Path, report: AddinReport, install: bool) -> None:
        """Import the dispatcher and the ``XLP_`` functions into ``target``, check them, and
        with ``install`` copy it into Excel's XLSTART folder."""
        ...

    def close_loaded(self) -> int:
        """Close ``xlplan.xlam`` in every running Excel; how many copies were closed."""
        ...

    def probe(self, addin: Path | None) -> list[Check]:
        """Excel found and scriptable, VBA access trusted, the functions in ``addin``."""
        ...

    def selftest(self, addin: Path, lang: str, visible: bool) -> list[Check]:
        """A new plan in a hidden Excel: computed by the add-in, one ribbon action run."""
        ...


EXCEL_GROUP = "xlplan.excel"
"""Entry-point group through which the Excel edge (``udfs.addin_excel``) plugs in: ``xlplan``
itself never imports xlwings or ``udfs``."""


def installed_edge() -> ExcelEdge | None:
    """The Excel edge the installed ``udfs`` package provides (entry point
    ``xlplan.excel:edge``)."""
    from importlib.metadata import entry_points

    for point in entry_points(group=EXCEL_GROUP):
        if point.name == "edge":
            edge: ExcelEdge = point.load()
            return edge
    return None


def require_edge(edge: ExcelEdge | None) -> ExcelEdge:
    found = edge or installed_edge()
    if found is None:
        raise InputError(
            "找不到驱动 Excel 的 udfs 包（请用 pip install xlplan 重新安装）",
            "the udfs package that drives Excel is missing (reinstall: pip install xlplan)",
        )
    return found


# --------------------------------------------------------------------------------------------
# Build, install, status, remove
# --------------------------------------------------------------------------------------------


def xlwings_template() -> Path:
    """The ribbon add-in template inside the installed xlwings package (found, not imported)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or spec.origin is None:
        raise InputError(
            f'未安装 xlwings（pip install "{environment.XLWINGS_REQUIREMENT}"），无法生成加载项',
            f'xlwings is not installed (pip install "{environment.XLWINGS_REQUIREMENT}"); '
            "cannot build the add-in",
        )
    path = Path(spec.origin).parent / TEMPLATE_NAME
    if not path.is_file():
        raise InputError(
            f"所装的 xlwings 缺少加载项模板 {TEMPLATE_NAME}: {path}",
            f"the installed xlwings lacks its add-in template {TEMPLATE_NAME}: {path}",
        )
    return path


def build_addin(
    target: Path,
    *,
    excel: bool,
    install: bool = False,
    interpreter: str | None = None,
    template: Path | None = None,
    edge: ExcelEdge | None = None,
    setup: PythonSetup | None = None,
) -> AddinReport:
    """Write ``xlplan.xlam`` to ``target``; with ``excel`` also run the steps that need Excel.

    Those steps drive Excel through xlwings, so they live at the Excel edge
    (``udfs.addin_excel``), found through the ``xlplan.excel`` entry point unless the caller
    passes one as ``edge``: nothing in ``xlplan/`` imports xlwings.

    ``install`` (with ``excel``) then copies the add-in into Excel's XLSTART folder.
    ``interpreter`` is the Python that Excel starts (config ``Interpreter_Win`` on Windows,
    ``Interpreter_Mac`` on macOS); by default the one running this build (``pythonw.exe`` on
    Windows; under conda the conda root and environment instead), left empty on other systems.
    With ``excel``, that Python is checked first (:func:`xlplan.app.environment.python_checks`)
    and nothing is written when Excel could not use it.
    """
    setup = setup or environment.current_setup()
    python = environment.excel_python(setup, interpreter)
    checks: list[Check] = []
    if excel:
        require_windows(setup.platform)
        checks = environment.python_checks(setup, python)
        if not all_pass(checks):
            raise InputError(
                "安装前检查未通过，Excel 未被改动:\n" + fixes(checks).zh,
                "the checks before installing failed; Excel was not touched:\n" + fixes(checks).en,
            )
    source = template or xlwings_template()
    data = build_addin_bytes(
        source, python=python, stamps=current_stamps(setup), log=excel_setting(setup.platform)
    )
    _write(target, data)
    report = AddinReport(target, checks=checks)
    report.done += [
        Message(
            f"加载项已生成: {target}（模板: {source}）", f"add-in written: {target} (from {source})"
        ),
        Message(
            "功能区: XLPlan 选项卡，按钮来自操作注册表",
            "ribbon: XLPlan tab, buttons from the registry",
        ),
        Message(
            f"配置表: UDF Modules = {UDF_MODULES}；Use UDF Server；"
            "ADD_WORKBOOK_TO_PYTHONPATH = False；版本 "
            f"XLPlan {__version__} / xlwings {setup.xlwings_version}",
            f"config sheet: UDF Modules = {UDF_MODULES}; Use UDF Server; "
            f"ADD_WORKBOOK_TO_PYTHONPATH = False; versions XLPlan {__version__} / "
            f"xlwings {setup.xlwings_version}",
        ),
    ]
    if python.shown:
        report.done.append(Message(f"解释器: {python.shown}", f"interpreter: {python.shown}"))
    else:
        report.remaining.append(
            Message(
                "填写 Interpreter_Win（在 Windows 上运行 xlplan addin install 会自动填写）",
                "set Interpreter_Win (running `xlplan addin install` on Windows fills it in)",
            )
        )
    if not excel:
        report.remaining += excel_steps(install=True)
        return report
    require_edge(edge).install(target, report, install)
    if install:
        write_record(report.installed or target, current_stamps(setup))
    else:
        report.remaining += excel_steps(install=True)[-1:]
    return report


def _write(target: Path, data: bytes) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        raise InputError(f"无法写入 {target}: {exc}", f"cannot write {target}: {exc}") from exc


def excel_steps(*, install: bool) -> list[Message]:
    """What the Excel edge does, for a build that stops before Excel."""
    steps = [
        Message(
            f"导入 VBA 模块 {BAS_NAME}，删除模板的 {QUICKSTART_MODULE} 模块，"
            f"把 VBA 工程命名为 {PROJECT_NAME}（需要 Windows 上的 Excel）",
            f"import the VBA module {BAS_NAME}, drop the template's {QUICKSTART_MODULE} module, "
            f"name the VBA project {PROJECT_NAME} (needs Excel on Windows)",
        ),
        Message(
            "用 xlwings 的 import_udfs 把 XLP_ 函数导入加载项并逐个核对（需要 Windows 上的 Excel）",
            "import the XLP_ functions into the add-in with xlwings' import_udfs and check each "
            "one (needs Excel on Windows)",
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


def require_windows(platform: str | None = None) -> None:
    if not (platform or sys.platform).startswith("win"):
        raise InputError(
            "导入 VBA 模块和 XLP_ 函数需要 Windows 上的 Excel（xlwings 只在 Windows 上能访问 "
            "VBA 工程）；在此系统上请用 xlplan addin build --no-excel，"
            "再在 Windows 上运行 xlplan addin install（macOS 步骤见 README）",
            "importing the VBA module and the XLP_ functions needs Excel on Windows (xlwings "
            "reaches the VBA project only there); here use `xlplan addin build --no-excel`, then "
            "run `xlplan addin install` on Windows (macOS: see the README)",
        )


@dataclass(frozen=True)
class Installed:
    """Where the add-in is installed and what it was built from (the install record)."""

    path: Path
    stamps: Stamps


def write_record(path: Path, stamps: Stamps) -> None:
    record = places.record_file()
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(
            json.dumps(
                {
                    "path": str(path),
                    "xlplan": stamps.xlplan,
                    "xlwings": stamps.xlwings,
                    "date": date.today().isoformat(),
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    except OSError:
        pass  # the record only saves a look-up; the default folder is searched too


def installed_path(platform: str | None = None) -> Path | None:
    """Where the add-in is (or would be) installed: the recorded place, else Excel's usual
    start-up folder; None where there is no Excel."""
    record = places.record_file(platform)
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
        recorded = Path(str(data["path"]))
        if recorded.is_file():
            return recorded
    except (OSError, ValueError, KeyError, TypeError):
        pass
    folder = places.default_startup_folder(platform)
    return None if folder is None else folder / ADDIN_NAME


ADDIN = Message("加载项", "add-in")
STAMPS = Message("加载项版本", "add-in versions")
CONFIG = Message("加载项配置", "add-in config")


def status_checks(path: Path | None, setup: PythonSetup | None = None) -> list[Check]:
    """Installed?, its stamped versions against what is installed, its config values."""
    setup = setup or environment.current_setup()
    if path is None:
        return [
            not_applicable("addin", ADDIN, Message("此系统上没有 Excel", "no Excel on this system"))
        ]
    if not path.is_file():
        return [
            failed(
                "addin",
                ADDIN,
                Message(f"未安装（{path} 不存在）", f"not installed ({path} does not exist)"),
                Message("运行 xlplan addin install", "run xlplan addin install"),
            )
        ]
    checks = [passed("addin", ADDIN, Message(f"已安装: {path}", f"installed: {path}"))]
    try:
        config = read_config(path)
    except XlplanError as exc:
        return [
            *checks,
            failed(
                "config",
                CONFIG,
                Message(f"无法读取: {exc.zh}", f"cannot be read: {exc.en}"),
                Message("运行 xlplan addin install", "run xlplan addin install"),
            ),
        ]
    checks.append(stamp_check(config, current_stamps(setup)))
    checks.append(config_check(config, setup))
    return checks


def stamp_check(config: Mapping[str, str], now: Stamps) -> Check:
    """The versions stamped into the add-in against the installed XLPlan and xlwings."""
    built = Stamps(config.get(Key.XLPLAN_VERSION, ""), config.get(Key.XLWINGS_VERSION, ""))
    shown = Message(
        f"加载项: XLPlan {built.xlplan or '?'} / xlwings {built.xlwings or '?'}；"
        f"已安装: XLPlan {now.xlplan} / xlwings {now.xlwings}",
        f"add-in: XLPlan {built.xlplan or '?'} / xlwings {built.xlwings or '?'}; "
        f"installed: XLPlan {now.xlplan} / xlwings {now.xlwings}",
    )
    if built != now:
        why = (
            Message(
                f"。加载项的 VBA 找的是 xlwings{{64,32}}-{built.xlwings or '?'}.dll，"
                "已不存在：XLP_ 函数会报错",
                f". The add-in's VBA loads xlwings64-{built.xlwings or '?'}.dll, which is gone: "
                "the XLP_ functions will fail",
            )
            if built.xlwings != now.xlwings
            else Message("。按钮与函数来自旧版本", ". Its buttons and functions are the old ones")
        )
        return failed(
            "stamps",
            STAMPS,
            shown + why,
            Message(
                "关闭 Excel，重新运行 xlplan addin install",
                "quit Excel and run xlplan addin install",
            ),
        )
    return passed("stamps", STAMPS, shown)


def config_check(config: Mapping[str, str], setup: PythonSetup) -> Check:
    """The settings XLPlan relies on are there and point at a Python that exists."""
    problems: list[Message] = []
    if config.get(Key.UDF_MODULES) != UDF_MODULES:
        problems.append(
            Message(f"UDF Modules 应为 {UDF_MODULES}", f"UDF Modules is not {UDF_MODULES}")
        )
    if config.get(Key.ADD_WORKBOOK_TO_PYTHONPATH, "").lower() != "false":
        problems.append(
            Message(
                "ADD_WORKBOOK_TO_PYTHONPATH 不是 False：计划旁的 udfs.py 会遮住 XLPlan 的 udfs",
                "ADD_WORKBOOK_TO_PYTHONPATH is not False: a udfs.py beside a plan would shadow "
                "XLPlan's udfs",
            )
        )
    if config.get(Key.USE_UDF_SERVER, "").upper() != "TRUE":
        problems.append(
            Message(
                "Use UDF Server 未开启：每次点击都会启动新的 Python",
                "Use UDF Server is off: every click starts a new Python",
            )
        )
    interpreter = config.get(
        Key.INTERPRETER_MAC if setup.mac else Key.INTERPRETER_WIN, ""
    ) or _conda_python(config)
    if (setup.windows or setup.mac) and not interpreter:
        problems.append(Message("没有指定 Python", "names no Python"))
    elif (setup.windows or setup.mac) and not Path(interpreter).is_file():
        problems.append(
            Message(
                f"指定的 Python 不存在: {interpreter}", f"its Python does not exist: {interpreter}"
            )
        )
    shown = Message(
        f"Python = {interpreter or '-'}；PYTHONPATH = {config.get(Key.PYTHONPATH) or '-'}",
        f"Python = {interpreter or '-'}; PYTHONPATH = {config.get(Key.PYTHONPATH) or '-'}",
    )
    if problems:
        detail = Message(
            "；".join(p.zh for p in problems) + "（" + shown.zh + "）",
            "; ".join(p.en for p in problems) + " (" + shown.en + ")",
        )
        return failed(
            "config",
            CONFIG,
            detail,
            Message(
                "在要给 Excel 用的 Python 中运行 xlplan addin install",
                "run xlplan addin install from the Python Excel is to use",
            ),
        )
    return passed("config", CONFIG, shown)


def _conda_python(config: Mapping[str, str]) -> str:
    if not config.get(Key.CONDA_PATH):
        return ""
    return str(environment.conda_interpreter(config[Key.CONDA_PATH], config.get(Key.CONDA_ENV, "")))


def remove_addin(path: Path, edge: ExcelEdge | None) -> list[Message]:
    """Close the add-in in every running Excel and delete it, as ``xlwings addin remove`` does.

    A file Excel still holds (an Excel without a workbook window cannot be reached to close
    it) is reported with what to do; so is an add-in that is not there.
    """
    done: list[Message] = []
    if not path.is_file():
        raise InputError(
            f"加载项未安装（{path} 不存在）", f"the add-in is not installed ({path} does not exist)"
        )
    if edge is not None:
        closed = edge.close_loaded()
        if closed:
            done.append(
                Message(f"已在 {closed} 个 Excel 中关闭加载项", f"closed it in {closed} Excel(s)")
            )
    try:
        os.remove(path)
    except PermissionError as exc:
        raise locked(path, exc) from exc
    except OSError as exc:
        raise InputError(
            f"无法删除 {path}: {exc}。{see_log().zh}",
            f"cannot delete {path}: {exc}. {see_log().en}",
        ) from exc
    places.record_file().unlink(missing_ok=True)
    done.append(Message(f"已删除 {path}", f"removed {path}"))
    done.append(Message("请重启 Excel", "restart Excel"))
    return done


def locked(path: Path, exc: OSError) -> InputError:
    """The error for a file in XLSTART that cannot be replaced or deleted: held by a running
    Excel (errno 13 / winerror 32), or a folder without write permission."""
    folder = path.parent
    if folder.exists() and not os.access(folder, os.W_OK):
        return InputError(
            f"没有 {folder} 的写权限（{exc}）。请以有权限的用户运行，或联系管理员。{see_log().zh}",
            f"no permission to write to {folder} ({exc}). Run as a user who may, or ask your "
            f"administrator. {see_log().en}",
        )
    return InputError(
        f"{path} 正被运行中的 Excel 使用（{exc}）。请关闭所有 Excel 窗口，并在任务管理器中结束 "
        f"EXCEL.EXE（只加载了加载项的 Excel 没有窗口），然后重试。{see_log().zh}",
        f"{path} is in use by a running Excel ({exc}). Quit every Excel window, end EXCEL.EXE in "
        "Task Manager (an Excel with only add-ins open has no window), then try again. "
        f"{see_log().en}",
    )
