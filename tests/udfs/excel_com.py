"""A stand-in for Excel as the add-in installer, doctor and self-test drive it through xlwings.

xlwings' ``App``/``Book`` on the outside (``xw.App(visible, add_book)``, ``app.books.open``,
``app.books[name]``, ``book.save/close``, ``app.startup_path``, ``app.version``,
``app.macro(name)``, ``app.status_bar``, ``app.calculation``, ``app.screen_updating``,
``xw.apps``) and the COM object model the installer reaches through ``.api`` on the inside:

- ``Workbook.VBProject`` (``Name``, ``VBComponents``: ``Count``, ``Item(index or name)``,
  ``__call__(name)``, ``Remove``, ``Import(path)``; a component's ``CodeModule``:
  ``CountOfLines``, ``Lines(start, count)``), ``Workbook.Name``, ``Workbook.Application``;
- ``Application``: ``Version``, ``MacroOptions``, ``Run(macro, *args)``, ``Workbooks.Add(path)``,
  ``Evaluate(text)``, ``CalculateFull()``, ``CalculateFullRebuild()``.

Excel's behaviour that the issue is about is modelled, each as documented or reported (see the
research notes the installer cites):

- with only an add-in open there is no ``ActiveWorkbook``; xlwings' VBA that reads it
  (``ImportPythonUDFsToAddin``, ``ImportXlwingsUdfsModule``) fails with VBA error 91, which
  reaches Python as a macro failure (scode 0x800A9C68);
- refused VBA access raises ``DISP_E_EXCEPTION`` with scode 0x800A03EC (VBA error 1004), the
  same code as many other refusals;
- a formula written by another program is not bound to an add-in's function until it is
  entered again while the add-in is loaded; an unbound or unknown ``XLP_`` call evaluates to
  the formula's fallback (``ISREF(INDIRECT(...))`` of the add-in's sheet is TRUE while the
  add-in is open);
- ``Workbooks.Add(template)`` gives a new, unsaved book named after the template plus a number.

Plans are xlwings doubles (``xlwings_double``) whose formula cells keep their formula
(:class:`FormulaSheet`); a calculation runs the real ``XLP_`` functions on the book's own
tables, as xlwings' ``call_udf`` would.
"""

from __future__ import annotations

import importlib
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.formula import ArrayFormula
from xlwings_double import App as DoubleApp
from xlwings_double import Book, Range, Sheet
from xlwings_windows import ComError as WindowsComError

import udfs

DISP_E_EXCEPTION = -2147352567
VBA_1004 = -2146827284
MACRO_FAILED = -2146788248
CLASS_NOT_REGISTERED = -2147221164
TEMPLATE_MODULES = ("ThisWorkbook", "Sheet2", "Dictionary", "RibbonMyAddin", "xlwings")


class ComError(WindowsComError):
    """pywintypes.com_error: args = (hresult, text, excepinfo, argerr) (the class
    ``xlwings_windows`` stands in for it, so xlwings' own ``except com_error`` catches it)."""


def com_error(hresult: int, text: str, scode: int | None = None, description: str = "") -> ComError:
    info = None if scode is None else (0, "Microsoft Excel", description, "xlmain11.chm", 0, scode)
    return ComError(hresult, text, info, None)


def not_trusted() -> ComError:
    return com_error(
        DISP_E_EXCEPTION,
        "Exception occurred.",
        VBA_1004,
        "Programmatic access to Visual Basic Project is not trusted\n",
    )


def error_91() -> ComError:
    return com_error(
        DISP_E_EXCEPTION,
        "Exception occurred.",
        MACRO_FAILED,
        "Object variable or With block variable not set",
    )


# --------------------------------------------------------------------------------------------
# The VBA project
# --------------------------------------------------------------------------------------------


@dataclass
class VbaState:
    """What an add-in file holds in its VBA project (kept per path, like the file itself)."""

    name: str = "MyAddin"
    modules: dict[str, str] = field(default_factory=lambda: dict.fromkeys(TEMPLATE_MODULES, ""))

    def copy(self) -> VbaState:
        return VbaState(self.name, dict(self.modules))


class CodeModule:
    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    @property
    def CountOfLines(self) -> int:  # noqa: N802  (COM names)
        return len(self._lines)

    def Lines(self, start: int, count: int) -> str:  # noqa: N802
        return "\r\n".join(self._lines[start - 1 : start - 1 + count])


class Component:
    def __init__(self, name: str, text: str) -> None:
        self.Name = name
        self.CodeModule = CodeModule(text)


class Components:
    def __init__(self, state: VbaState, refusal: Exception | None) -> None:
        self.state = state
        self.refusal = refusal
        self.imports: list[str] = []

    def _check(self) -> None:
        if self.refusal is not None:
            raise self.refusal

    @property
    def Count(self) -> int:  # noqa: N802
        self._check()
        return len(self.state.modules)

    def Item(self, key: int | str) -> Component:  # noqa: N802
        self._check()
        name = list(self.state.modules)[key - 1] if isinstance(key, int) else key
        if name not in self.state.modules:
            raise com_error(DISP_E_EXCEPTION, "Subscript out of range", VBA_1004)
        return Component(name, self.state.modules[name])

    __call__ = Item

    def Remove(self, component: Component) -> None:  # noqa: N802
        self._check()
        del self.state.modules[component.Name]

    def Import(self, path: str) -> None:  # noqa: N802
        self._check()
        text = Path(path).read_text(encoding="ascii", errors="replace")
        name = re.search(r'Attribute VB_Name = "(\w+)"', text)
        assert name is not None, text[:80]
        module = name.group(1)
        while module in self.state.modules:  # as the VBA editor: a clash gets a number
            module += "1"
        body = "\n".join(line for line in text.splitlines() if not line.startswith("Attribute VB_"))
        self.state.modules[module] = body
        self.imports.append(module)


class VBProject:
    def __init__(self, book: AddinBook) -> None:
        self._book = book

    @property
    def Name(self) -> str:  # noqa: N802
        self._book.components._check()
        return self._book.state.name

    @Name.setter
    def Name(self, value: str) -> None:  # noqa: N802
        self._book.components._check()
        self._book.state.name = value

    @property
    def VBComponents(self) -> Components:  # noqa: N802
        if self._book.excel.trust_refusal is not None:
            raise self._book.excel.trust_refusal
        return self._book.components


class ComWorkbook:
    """``Book.api`` of an add-in."""

    def __init__(self, book: AddinBook) -> None:
        self._book = book
        self.Name = book.name
        self.Application = book.excel.api
        self.VBProject = VBProject(book)
        self.Worksheets: list[Any] = []


class AddinBook:
    """An opened add-in: its VBA state is the file's until saved."""

    def __init__(self, excel: FakeExcel, path: Path, read_only: bool) -> None:
        self.excel = excel
        self.path = path
        self.name = path.name
        self.fullname = str(path)
        self.read_only = read_only
        self.state = excel.disk.vba(path).copy()
        self.components = Components(self.state, excel.components_refusal)
        self.api = ComWorkbook(self)
        self.closed = False

    def save(self) -> None:
        assert not self.read_only, "a read-only book cannot be saved in place"
        self.excel.disk.saved[self.path] = self.state.copy()

    def close(self) -> None:
        self.closed = True
        self.excel.addins.pop(self.name, None)

    def macro(self, name: str) -> Callable[..., Any]:
        return self.excel.macro(name)


@dataclass
class Disk:
    """The VBA projects of add-in files, by path (a file not seen yet is the template's)."""

    saved: dict[Path, VbaState] = field(default_factory=dict)

    def vba(self, path: Path) -> VbaState:
        return self.saved.get(Path(path), VbaState())

    def install(self, path: Path, functions: set[str] | None = None) -> None:
        """An add-in as ``xlplan addin install`` leaves it (every function, or ``functions``)."""
        from xlplan.app.addin import PROJECT_NAME, VBA_MODULE, dispatcher_bas

        modules = {n: "" for n in TEMPLATE_MODULES if n != "RibbonMyAddin"}
        modules[VBA_MODULE] = dispatcher_bas()
        modules["xlwings_udfs"] = wrappers(all_functions() if functions is None else functions)
        self.saved[Path(path)] = VbaState(PROJECT_NAME, modules)


def all_functions() -> dict[str, str]:
    """Every XLP_ function -> its UDF module."""
    out = {}
    for module_name in udfs.MODULES:
        module = importlib.import_module(module_name)
        out.update({a: module_name for a in dir(module) if a.startswith("XLP_")})
    return out


def wrappers(functions: dict[str, str] | set[str]) -> str:
    """VBA wrappers as xlwings' generate_vba_wrapper writes them (one line each is enough)."""
    owners = functions if isinstance(functions, dict) else dict.fromkeys(functions, "udfs.kpi")
    return "\n".join(
        f'Function {name}(a)\n    {name} = XLPy.CallUDF("{module}", "{name}", Array(a), '
        "ActiveWorkbook, Application.Caller)\nEnd Function"
        for name, module in owners.items()
    )


def importer(
    functions: dict[str, str] | None = None, fail: Exception | None = None
) -> types.ModuleType:
    """A stand-in for ``xlwings.udfs`` whose ``import_udfs`` does what xlwings' does to the
    VBA project (write ``xlwings_udfs``, remove the old one, import the new one), for
    ``functions`` (default: all), then raises ``fail`` if given (as MacroOptions can)."""
    module = types.ModuleType("xlwings.udfs")
    calls: list[tuple[str, Any]] = []

    def import_udfs(module_names: str, xl_workbook: Any) -> None:
        import tempfile

        calls.append((module_names, xl_workbook))
        components = xl_workbook.VBProject.VBComponents
        try:
            components.Remove(components("xlwings_udfs"))
        except ComError:
            pass
        body = wrappers(all_functions() if functions is None else functions)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "udfs.bas"
            path.write_text('Attribute VB_Name = "xlwings_udfs"\n' + body, encoding="ascii")
            components.Import(str(path))
        if fail is not None:
            raise fail

    module.import_udfs = import_udfs  # type: ignore[attr-defined]
    module.calls = calls  # type: ignore[attr-defined]
    return module


def silent_importer() -> types.ModuleType:
    """``import_udfs`` that returns normally and imports nothing: what the VBA path did when
    xlwings caught its own error and showed a popup."""
    module = types.ModuleType("xlwings.udfs")
    module.import_udfs = lambda module_names, xl_workbook: None  # type: ignore[attr-defined]
    return module


# --------------------------------------------------------------------------------------------
# Plans: xlwings doubles whose formula cells keep their formulas
# --------------------------------------------------------------------------------------------


class FormulaRange(Range):
    """A range whose ``formula``/``formula2`` is the cell's formula when it has one."""

    sheet: FormulaSheet

    @property
    def formula(self) -> Any:
        rows, cols = self.shape
        grid = tuple(
            tuple(self.sheet.formula_at((self.top[0] + i, self.top[1] + j)) for j in range(cols))
            for i in range(rows)
        )
        return grid[0][0] if rows == 1 and cols == 1 else grid

    @formula.setter
    def formula(self, text: str) -> None:
        self.sheet.enter(self.top, text)

    formula2 = formula


class FormulaSheet(Sheet):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.formulas: dict[tuple[int, int], str] = {}
        self.entered: list[tuple[int, int]] = []

    def range(self, cell1: Any, cell2: Any = None) -> FormulaRange:
        base = super().range(cell1, cell2)
        return FormulaRange(self, base.top, base.bottom)

    def formula_at(self, cell: tuple[int, int]) -> str:
        if cell in self.formulas:
            return self.formulas[cell]
        value = self.cells.get(cell)
        return "" if value is None else str(value)

    def enter(self, cell: tuple[int, int], text: str) -> None:
        """The user (or Excel through COM) typed ``text`` into the cell: a formula entered
        while the add-in is open binds to its functions."""
        if isinstance(text, str) and text.startswith("="):
            self.formulas[cell] = text
            if ADDIN in getattr(self.book.app, "addins", {}):
                self.entered.append(cell)
        else:
            self.formulas.pop(cell, None)
            self.cells[cell] = text


class PlanBook(Book):
    """A plan: tables, values, formulas and defined names of a workbook file."""

    def __init__(self, name: str, app: Any, fullname: str = "") -> None:
        super().__init__(name, app)
        self.fullname = fullname or name
        self.names: dict[str, Any] = {}
        self.closed = False
        self.bound: set[tuple[str, tuple[int, int]]] = set()

    def close(self) -> None:
        self.closed = True
        books: Any = self.app.books
        books.drop(self)


def load_plan(path: Path, app: Any, name: str, fullname: str = "") -> PlanBook:
    """A :class:`PlanBook` of the workbook (or template) at ``path``."""
    values = load_workbook(path, data_only=True)
    formulas = load_workbook(path)
    book = PlanBook(name, app, fullname)
    for ws in values.worksheets:
        sheet = FormulaSheet(ws.title, book)
        book.sheets._items.append(sheet)
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    sheet.cells[(cell.row, cell.column)] = cell.value
        for row in formulas[ws.title].iter_rows():
            for cell in row:
                value = cell.value
                text = value.text if isinstance(value, ArrayFormula) else value
                if isinstance(text, str) and text.startswith("="):
                    sheet.formulas[(cell.row, cell.column)] = text
        for table_name, obj in ws.tables.items():
            ref = obj.ref if hasattr(obj, "ref") else str(obj)
            c1, r1, c2, r2 = range_boundaries(ref)
            sheet.tables.add(source=sheet.range((r1, c1), (r2, c2)), name=table_name)
    for defined in values.defined_names.values():
        for title, ref in defined.destinations:
            cell = ref.replace("$", "").split(":")[0]
            book.names[defined.name] = (title, cell)
    return book


CALL = re.compile(r"(XLP_[A-Z_]+)\(")
STRUCTURED = re.compile(r"^(tbl\w+)\[#All\]$")


def _call(text: str) -> tuple[str, list[str]]:
    m = CALL.search(text)
    assert m, text
    depth, end = 1, m.end()
    while depth:
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        end += 1
    args, depth, current = [], 0, ""
    for ch in text[m.end() : end - 1]:
        if ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        depth += ch in "(["
        depth -= ch in ")]"
        current += ch
    return m.group(1), [*args, current.strip()]


def _argument(book: PlanBook, arg: str) -> Any:
    m = STRUCTURED.match(arg)
    if m:
        for sheet in book.sheets:
            for table in sheet.tables:
                if table.name == m.group(1):
                    return table.range.options(ndim=2).value
        raise AssertionError(f"no table {m.group(1)}")
    title, cell = book.names[arg]
    return book.sheets[title].range(cell).value


def _fallback(text: str, addin_open: bool) -> str:
    """What ``=IFERROR(call, IF(ISREF(INDIRECT(probe)), bound, not_loaded))`` shows for a
    call that did not bind."""
    texts = re.findall(r'"([^"]*)"', text.split("ISREF(", 1)[-1])
    return str(texts[-2] if addin_open else texts[-1])


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------


class Workbooks:
    def __init__(self, excel: FakeExcel) -> None:
        self.excel = excel
        self.added: list[str] = []

    def Add(self, template: str = "") -> Any:  # noqa: N802
        path = Path(template)
        count = sum(1 for b in self.excel.plans if b.name.startswith(path.stem)) + 1
        name = f"{path.stem}{count}"
        book = load_plan(path, self.excel, name)
        self.excel.plans.append(book)
        self.excel.active = book
        self.added.append(template)
        return types.SimpleNamespace(Name=name, Path="")


class Application:
    """``App.api``."""

    def __init__(self, excel: FakeExcel) -> None:
        self.excel = excel
        self.Version = "16.0"
        self.Workbooks = Workbooks(excel)
        self.macro_options: list[str] = []

    def MacroOptions(self, macro: str, **options: Any) -> None:  # noqa: N802
        if self.excel.macro_options_error is not None:
            raise self.excel.macro_options_error
        self.macro_options.append(macro)

    def Run(self, name: str, *args: Any) -> Any:  # noqa: N802
        return self.excel.macro(name)(*args)

    def Evaluate(self, text: str) -> Any:  # noqa: N802
        if text.startswith("ISREF(INDIRECT("):
            return "xlplan.xlam" in self.excel.addins
        raise AssertionError(f"the double evaluates only the add-in probe, not {text}")

    def CalculateFull(self) -> None:  # noqa: N802
        self.excel.calculate_all()

    CalculateFullRebuild = CalculateFull


class Books:
    def __init__(self, excel: FakeExcel) -> None:
        self.excel = excel
        self.opened: list[str] = []

    def open(self, fullname: str, read_only: bool = False, **_: Any) -> Any:
        path = Path(fullname)
        self.opened.append(fullname)
        if self.excel.open_error is not None:
            raise self.excel.open_error
        if path.suffix == ".xlam":
            book = AddinBook(self.excel, path, read_only)
            self.excel.addins[book.name] = book
            return book
        plan = load_plan(path, self.excel, path.name, str(path))
        self.excel.plans.append(plan)
        self.excel.active = plan
        return plan

    def __getitem__(self, name: str) -> Any:
        if name in self.excel.addins:
            return self.excel.addins[name]
        for book in self.excel.plans:
            if book.name == name:
                return book
        raise KeyError(name)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self.excel.plans))

    def drop(self, book: Any) -> None:
        if book in self.excel.plans:
            self.excel.plans.remove(book)
        if self.excel.active is book:
            self.excel.active = self.excel.plans[-1] if self.excel.plans else None


class FakeExcel(DoubleApp):
    """One Excel instance (``xw.App``)."""

    def __init__(self, world: FakeXlwings, startup: Path) -> None:
        super().__init__()
        self.world = world
        self.disk = world.disk
        self.startup_path = str(startup)
        self.version = "16.0"
        self.display_alerts = True
        self.calculation = "automatic"
        self.trust_refusal: Exception | None = world.trust_refusal
        self.components_refusal: Exception | None = world.components_refusal
        self.macro_options_error: Exception | None = None
        self.open_error: Exception | None = None
        self.addins: dict[str, AddinBook] = {}
        self.plans: list[PlanBook] = []
        self.active: PlanBook | None = None
        self.api = Application(self)
        self.books = Books(self)  # type: ignore[assignment]
        self.quit_called = False
        self.calculations = 0

    def quit(self) -> None:
        self.quit_called = True

    def calculate(self) -> None:
        self.calculate_all()

    def macro(self, name: str) -> Callable[..., Any]:
        """The add-in's and xlwings' macros, as far as the installer and self-test use them."""
        short = name.rsplit("!", 1)[-1].rsplit(".", 1)[-1]
        if short in ("ImportPythonUDFsToAddin", "ImportXlwingsUdfsModule"):

            def needs_active_workbook(*args: Any) -> None:
                if self.active is None:
                    raise error_91()

            return needs_active_workbook
        if short == "XLPlanRun":
            return self.world.run_python
        if short == "XLPlanAddFromTemplate":
            return lambda path: self.api.Workbooks.Add(path).Name
        raise com_error(DISP_E_EXCEPTION, f"Cannot run the macro '{name}'", VBA_1004)

    def calculate_all(self) -> None:
        """Every formula calling an XLP_ function: its block when it is bound to a loaded
        add-in, its fallback text otherwise."""
        self.calculations += 1
        addin_open = ADDIN in self.addins
        for book in self.plans:
            for sheet in book.sheets:
                if not isinstance(sheet, FormulaSheet):
                    continue
                for cell, text in sheet.formulas.items():
                    if "XLP_" not in text:
                        continue
                    bound = addin_open and cell in sheet.entered
                    if not bound:
                        sheet.cells[cell] = _fallback(text, addin_open)
                        continue
                    name, args = _call(text)
                    func = getattr(importlib.import_module(all_functions()[name]), name)
                    block = func(*[_argument(book, a) for a in args])
                    for i, row in enumerate(block):
                        for j, v in enumerate(row):
                            sheet.cells[(cell[0] + i, cell[1] + j)] = v


ADDIN = "xlplan.xlam"


class FakeXlwings(types.ModuleType):
    """The ``xlwings`` module as the Excel edge uses it: ``App`` and ``apps``."""

    def __init__(self, startup: Path) -> None:
        super().__init__("xlwings")
        all_functions()  # the UDF modules import the real xlwings before this one stands in
        self.startup = startup
        self.disk = Disk()
        self.started: list[FakeExcel] = []
        self.running: list[FakeExcel] = []  # the user's own Excels (xw.apps)
        self.start_error: Exception | None = None
        self.trust_refusal: Exception | None = None
        self.components_refusal: Exception | None = None
        self.ribbon_calls: list[tuple[str, bool]] = []

    def App(self, visible: bool = True, add_book: bool = True) -> FakeExcel:  # noqa: N802
        if self.start_error is not None:
            raise self.start_error
        excel = FakeExcel(self, self.startup)
        self.started.append(excel)
        return excel

    @property
    def apps(self) -> list[FakeExcel]:
        return list(self.running)

    def user_excel(self) -> FakeExcel:
        """A running Excel of the user's (listed by ``xw.apps``)."""
        excel = FakeExcel(self, self.startup)
        self.running.append(excel)
        return excel

    def run_python(self, tag: str, quiet: bool = False) -> None:
        """The dispatcher's ``RunPython`` through the UDF server: ``udfs.ribbon.dispatch`` on
        the active workbook (``BOOK_CALLER``)."""
        from udfs import ribbon

        self.ribbon_calls.append((tag, quiet))
        excel = self.started[-1]
        ribbon.dispatch(tag, book=excel.active, quiet=quiet)
