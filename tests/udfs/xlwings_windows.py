"""xlwings' real Windows UDF machinery, importable on Linux for contract tests.

On Linux ``xw.func/arg/ret`` are no-ops, so a UDF module's own tests see plain functions. What
Excel on Windows sees is different: ``xlwings.udfs.xlfunc/xlarg/xlret`` record metadata,
``generate_vba_wrapper`` writes the VBA that Excel calls, and ``xlwings.conversion`` converts
every argument and return value. This helper imports exactly that code (xlwings 0.37) with the
Windows-only modules stood in, as ARCHITECTURE.md describes: pandas first; stand-in modules for
pythoncom, pywintypes (a real ``TimeType`` class), win32com (+ client, server, server.util,
client.gencache), win32api, win32con, win32event, win32gui, win32process, win32timezone; stand-ins
for ``ctypes.windll/oledll/WinDLL/OleDLL/PyDLL``; then ``xlwings._xlwindows`` and its engine in
``xlwings.engines``.

:func:`windows_xlwings` undoes all of it on exit (``sys.modules``, ``ctypes``, the engines, the
atexit hook), so the rest of the test session still sees Linux xlwings. UDF modules are loaded
as separate copies (:meth:`WindowsXlwings.load`) and never replace the plain ones.
"""

from __future__ import annotations

import atexit
import ctypes
import datetime as dt
import importlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pandas  # noqa: F401  -- xlwings' Windows modules must find pandas already imported

STUB_MODULES = (
    "pythoncom",
    "pywintypes",
    "win32com",
    "win32com.client",
    "win32com.client.gencache",
    "win32com.server",
    "win32com.server.util",
    "win32api",
    "win32con",
    "win32event",
    "win32gui",
    "win32process",
    "win32timezone",
)
CTYPES_STANDINS = ("windll", "oledll", "WinDLL", "OleDLL", "PyDLL")
XLWINGS_WINDOWS_MODULES = ("xlwings._xlwindows", "xlwings._win32patch", "xlwings.udfs")
ALIAS_PREFIX = "_xlwings_windows_copy_of_"

# Excel's error values as COM hands them to Python (xlwings._xlwindows.cell_errors).
CELL_ERRORS = {"#N/A": -2146826246, "#VALUE!": -2146826273, "#DIV/0!": -2146826281}


class StandIn(types.ModuleType):
    """A module whose every (non-dunder) attribute is a callable stand-in."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = mock.MagicMock(name=f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class TimeType(dt.datetime):
    """pywintypes.TimeType: what COM hands over for a date cell (a datetime subclass)."""


class ComError(Exception):
    """pywintypes.com_error."""


def _stand_ins() -> dict[str, types.ModuleType]:
    modules: dict[str, types.ModuleType] = {name: StandIn(name) for name in STUB_MODULES}
    pywintypes = modules["pywintypes"]
    pywintypes.TimeType = TimeType  # type: ignore[attr-defined]
    pywintypes.com_error = ComError  # type: ignore[attr-defined]
    pywintypes.error = ComError  # type: ignore[attr-defined]
    pythoncom = modules["pythoncom"]
    pythoncom.__file__ = "pythoncom311.dll"
    pythoncom.ole_error = ComError  # type: ignore[attr-defined]
    pythoncom.com_error = ComError  # type: ignore[attr-defined]
    for name, module in modules.items():
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(modules[parent], child, module)
    return modules


@dataclass
class WindowsXlwings:
    """The imported Windows machinery: ``xlwings``, ``xlwings.udfs``, ``xlwings.conversion``."""

    xlwings: types.ModuleType
    udfs: types.ModuleType
    conversion: types.ModuleType
    time_type: type[dt.datetime] = TimeType
    loaded: list[str] = field(default_factory=list)

    def load(self, module_name: str) -> types.ModuleType:
        """A fresh copy of ``module_name`` whose ``xw.func/arg/ret`` are xlwings' real
        Windows decorators (``xlwings.udfs.xlfunc/xlarg/xlret``)."""
        spec = importlib.util.find_spec(module_name)
        assert spec is not None and spec.origin is not None, module_name
        alias = ALIAS_PREFIX + module_name.replace(".", "_")
        copy_spec = importlib.util.spec_from_file_location(alias, spec.origin)
        assert copy_spec is not None and copy_spec.loader is not None
        module = importlib.util.module_from_spec(copy_spec)
        xw: Any = self.xlwings
        saved = {name: getattr(xw, name) for name in ("func", "arg", "ret")}
        try:
            xw.func, xw.arg, xw.ret = self.udfs.xlfunc, self.udfs.xlarg, self.udfs.xlret
            sys.modules[alias] = module
            self.loaded.append(alias)
            copy_spec.loader.exec_module(module)
        finally:
            for name, value in saved.items():
                setattr(xw, name, value)
        return module

    def load_udfs(self) -> types.SimpleNamespace:
        """Every UDF module (:data:`udfs.MODULES`) loaded as on Windows, their functions in one
        namespace (``module.XLP_LANDED_COST``...)."""
        import udfs

        merged = types.SimpleNamespace()
        for name in udfs.MODULES:
            module = self.load(name)
            for attr in dir(module):
                if attr.startswith("XLP_"):
                    setattr(merged, attr, getattr(module, attr))
        return merged

    def read(self, value: Any, options: dict[str, Any]) -> Any:
        """An argument as a Windows call receives it (``call_udf`` for a non-range value)."""
        return self.conversion.read(None, value, options)

    def write(self, value: Any, options: dict[str, Any]) -> Any:
        """A return value as ``call_udf`` hands it back to Excel."""
        return self.conversion.write(value, None, options)

    def call(self, func: Any, *args: Any) -> Any:
        """Call a UDF the way ``xlwings.udfs.call_udf`` does: missing trailing arguments take
        their recorded default, every argument goes through ``conversion.read`` with the
        options its decorator recorded, the result through ``conversion.write``."""
        info = func.__xlfunc__
        values = list(args)
        for arg in info["args"][len(values) :]:
            assert "optional" in arg, f"{info['name']}: required argument {arg['name']} missing"
            values.append(arg["optional"])
        converted = [
            self.read(v, info["args"][i]["options"]) if i < len(args) else v
            for i, v in enumerate(values)
        ]
        return self.write(func(*converted), info["ret"]["options"])


@contextmanager
def windows_xlwings() -> Iterator[WindowsXlwings]:
    """Import xlwings' Windows UDF machinery with stand-ins; restore everything on exit."""
    saved_modules = {
        name: sys.modules.get(name) for name in (*STUB_MODULES, *XLWINGS_WINDOWS_MODULES)
    }
    saved_ctypes = {name: ctypes.__dict__.get(name) for name in CTYPES_STANDINS}
    import xlwings

    saved_attrs = {name: xlwings.__dict__.get(name) for name in ("_xlwindows", "udfs")}
    engines = xlwings.engines
    saved_active, saved_by_name = engines.active, dict(engines.engines_by_name)
    saved_engine_list = list(engines.engines)
    state: WindowsXlwings | None = None
    xlwindows: Any = None
    try:
        sys.modules.update(_stand_ins())
        for name in CTYPES_STANDINS:
            setattr(ctypes, name, mock.MagicMock(name=f"ctypes.{name}"))
        xlwindows = importlib.import_module("xlwings._xlwindows")
        if "excel" not in engines.engines_by_name:
            engines.add(xlwings.main.Engine(impl=xlwindows.engine))
        udfs = importlib.import_module("xlwings.udfs")
        state = WindowsXlwings(xlwings, udfs, importlib.import_module("xlwings.conversion"))
        yield state
    finally:
        if xlwindows is not None:
            atexit.unregister(xlwindows.cleanup)
        if state is not None:
            state.udfs.com_executor.shutdown(wait=False)
            for alias in state.loaded:
                sys.modules.pop(alias, None)
        engines.engines[:] = saved_engine_list
        engines.engines_by_name.clear()
        engines.engines_by_name.update(saved_by_name)
        engines.active = saved_active
        for name, module in saved_modules.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        for name, value in saved_ctypes.items():
            if value is None:
                if name in ctypes.__dict__:
                    delattr(ctypes, name)
            else:
                setattr(ctypes, name, value)
        for name, value in saved_attrs.items():
            if value is None:
                xlwings.__dict__.pop(name, None)
            else:
                setattr(xlwings, name, value)
