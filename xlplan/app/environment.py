"""The Python that Excel will start, checked before anything touches Excel.

xlwings' add-in starts a Python named in its config sheet and loads ``xlwings64-<version>.dll``
from that Python's folder or the folder above it (VBA ``XLPyLoadDLL``: "standard installation",
then "virtualenv"). Some installs defeat that:

- **Microsoft Store Python** (``...\\WindowsApps\\PythonSoftwareFoundation.Python...``):
  sandboxed, its packages live in a per-app folder; the UDF server does not start
  ("Could not activate Python COM server").
- **user-site installs** (``pip install --user``, or pip's "Defaulting to user installation"):
  the DLL lands in ``%APPDATA%\\Python``, not beside the interpreter, so VBA cannot load it.
- **conda**: xlwings wants ``Conda Path`` and ``Conda Env`` and an *empty* ``Interpreter_Win``,
  so it activates the environment (numpy and pandas need its DLL folders on PATH).

:class:`PythonSetup` is a snapshot of the running Python (pure data, so every layout can be
tested on any OS); the ``check_*`` functions turn it into :class:`~xlplan.app.checks.Check`
results with the fix; :func:`excel_python` is what goes into the add-in's config.
Nothing here imports xlwings: versions and file locations come from package metadata.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import site
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from xlplan.app.checks import Check, failed, not_applicable, passed
from xlplan.core.errors import Message

XLWINGS_MIN = (0, 37, 8)
XLWINGS_BELOW = (0, 38)
XLWINGS_REQUIREMENT = "xlwings>=0.37.8,<0.38"
"""The xlwings versions XLPlan is built and tested against (the pin in ``pyproject.toml``).

The add-in's VBA declares one exact DLL, ``xlwings64-<version>.dll``, the version it was built
from: after any xlwings upgrade the add-in must be rebuilt (``xlplan addin install``)."""

STORE_MARK = "windowsapps"
DLL_PATTERN = re.compile(r"^xlwings(32|64)-(.+)\.dll$", re.IGNORECASE)


def version_tuple(text: str) -> tuple[int, ...]:
    """``"0.37.8"`` -> ``(0, 37, 8)``; anything after the numbers (``rc1``, ``.dev0``) is
    ignored."""
    parts = []
    for piece in text.split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group(0)))
        if digits.group(0) != piece:
            break
    return tuple(parts)


def xlwings_supported(version: str) -> bool:
    found = version_tuple(version)
    return XLWINGS_MIN <= found < XLWINGS_BELOW


def dll_name(version: str, bits: int = 64) -> str:
    """The DLL the add-in's VBA declares for ``version`` (``xlwings64-0.37.8.dll``)."""
    return f"xlwings{bits}-{version}.dll"


@dataclass(frozen=True)
class PythonSetup:
    """Facts about one Python installation, as far as Excel is concerned."""

    platform: str
    executable: PurePath
    prefix: PurePath
    base_prefix: PurePath
    user_site: PurePath | None = None
    xlwings_version: str | None = None
    xlwings_folder: PurePath | None = None
    xlwings_dlls: tuple[PurePath, ...] = ()
    package_folder: PurePath | None = None
    """The folder holding the ``udfs`` package (the sys.path entry that finds it)."""
    conda_root: PurePath | None = None
    conda_env: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def windows(self) -> bool:
        return self.platform.startswith("win")

    @property
    def mac(self) -> bool:
        return self.platform.startswith("darwin")

    @property
    def store(self) -> bool:
        """Microsoft Store Python (an app-execution alias under WindowsApps)."""
        places = (str(self.executable), str(self.base_prefix), str(self.prefix))
        return self.windows and any(STORE_MARK in p.lower() for p in places)

    @property
    def conda(self) -> bool:
        return self.conda_root is not None

    @property
    def venv(self) -> bool:
        return self.prefix != self.base_prefix

    @property
    def user_site_install(self) -> bool:
        """xlwings was installed into the per-user site-packages."""
        if self.user_site is None or self.xlwings_folder is None:
            return False
        return _inside(self.xlwings_folder, self.user_site)

    @property
    def kind(self) -> Message:
        if self.store:
            return Message("Microsoft Store 版 Python", "Microsoft Store Python")
        if self.conda:
            return Message(f"conda 环境 {self.conda_env}", f"conda environment {self.conda_env}")
        if self.venv:
            return Message("虚拟环境 (venv)", "virtual environment (venv)")
        return Message("系统安装的 Python", "system-wide Python")


def _inside(path: PurePath, folder: PurePath) -> bool:
    a = os.path.normcase(str(path)).rstrip("\\/")
    b = os.path.normcase(str(folder)).rstrip("\\/")
    return a == b or a.startswith(b + "\\") or a.startswith(b + "/")


def current_setup() -> PythonSetup:
    """The running Python's :class:`PythonSetup`."""
    prefix = Path(sys.prefix)
    try:
        user_site: Path | None = Path(site.getusersitepackages())
    except (AttributeError, TypeError):  # embedded Pythons without a user site
        user_site = None
    version, folder, dlls = _xlwings_facts()
    root, env_name = _conda(prefix, dict(os.environ))
    return PythonSetup(
        platform=sys.platform,
        executable=Path(sys.executable),
        prefix=prefix,
        base_prefix=Path(sys.base_prefix),
        user_site=user_site,
        xlwings_version=version,
        xlwings_folder=folder,
        xlwings_dlls=dlls,
        package_folder=_package_folder("udfs"),
        conda_root=root,
        conda_env=env_name,
        env={k: v for k, v in os.environ.items() if k.startswith(("CONDA", "LOCALAPPDATA"))},
    )


def _xlwings_facts() -> tuple[str | None, Path | None, tuple[PurePath, ...]]:
    try:
        dist = importlib.metadata.distribution("xlwings")
    except importlib.metadata.PackageNotFoundError:
        return None, None, ()
    spec = importlib.util.find_spec("xlwings")  # found, not imported
    folder = Path(spec.origin).parent if spec is not None and spec.origin else None
    dlls = tuple(
        Path(str(f.locate())) for f in dist.files or () if DLL_PATTERN.match(PurePath(f).name)
    )
    return dist.version, folder, dlls


def _package_folder(name: str) -> Path | None:
    """The sys.path entry a top-level package is found under (found, not imported)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).parent


def _conda(prefix: Path, env: dict[str, str]) -> tuple[Path | None, str | None]:
    """(conda root that holds ``condabin``, environment name or path), or (None, None)."""
    if not (prefix / "conda-meta").is_dir():
        return None, None
    if (prefix / "condabin").is_dir():
        return prefix, "base"
    if prefix.parent.name == "envs" and (prefix.parent.parent / "condabin").is_dir():
        return prefix.parent.parent, prefix.name
    if env.get("CONDA_EXE"):
        return Path(env["CONDA_EXE"]).parent.parent, str(prefix)
    return prefix, "base"


# --------------------------------------------------------------------------------------------
# What Excel is told to start
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExcelPython:
    """The config sheet's interpreter settings for one machine."""

    interpreter_win: str = ""
    interpreter_mac: str = ""
    conda_path: str = ""
    conda_env: str = ""
    pythonpath: str = ""

    @property
    def shown(self) -> str:
        if self.conda_path:
            return f"conda {self.conda_env} ({self.conda_path})"
        return self.interpreter_win or self.interpreter_mac


def excel_python(setup: PythonSetup, interpreter: str | None = None) -> ExcelPython:
    """What the add-in built on this machine tells Excel to start.

    Windows: ``pythonw.exe`` beside the running interpreter (no console window), or the given
    ``interpreter``; under conda an empty interpreter with ``Conda Path``/``Conda Env``, as
    xlwings documents. macOS: the running interpreter (the AppleScript's ``python`` would be
    another one). Elsewhere nothing: the add-in is finished on Windows.
    ``pythonpath`` puts the folder holding XLPlan's ``udfs`` package first on ``sys.path``, so
    a ``udfs.py`` in Excel's current folder cannot shadow it.
    """
    folder = str(setup.package_folder or "")
    if interpreter is not None:
        if setup.mac:
            return ExcelPython(interpreter_mac=interpreter, pythonpath=folder)
        return ExcelPython(interpreter_win=interpreter, pythonpath=folder if interpreter else "")
    if setup.windows:
        if setup.conda and setup.conda_root is not None:
            return ExcelPython(
                conda_path=str(setup.conda_root), conda_env=setup.conda_env or "base",
                pythonpath=folder,
            )  # fmt: skip
        return ExcelPython(interpreter_win=str(windowed(setup.executable)), pythonpath=folder)
    if setup.mac:
        return ExcelPython(interpreter_mac=str(setup.executable), pythonpath=folder)
    return ExcelPython()


def windowed(executable: PurePath, exists: Callable[[Path], bool] = Path.is_file) -> PurePath:
    """``pythonw.exe`` beside ``python.exe`` when it is there, else ``executable``."""
    if executable.name.lower() == "python.exe":
        candidate = executable.with_name("pythonw.exe")
        if exists(Path(candidate)):
            return candidate
    return executable


def conda_interpreter(conda_path: str, conda_env: str) -> Path:
    """The ``python.exe`` xlwings' VBA starts for a conda setting (``XLPyLoadDLL``)."""
    root = Path(conda_path)
    if conda_env in ("", "base"):
        return root / "python.exe"
    if "\\" in conda_env or "/" in conda_env:
        return Path(conda_env) / "python.exe"
    return root / "envs" / conda_env / "python.exe"


def dll_folders(interpreter: PurePath) -> tuple[PurePath, PurePath]:
    """The two folders xlwings' VBA loads the DLL from: the interpreter's and the one above."""
    return interpreter.parent, interpreter.parent.parent


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

PYTHON = Message("Python", "Python")
XLWINGS = Message("xlwings 版本", "xlwings version")
DLL = Message("xlwings DLL", "xlwings DLL")
CONDA = Message("conda 设置", "conda settings")
WINDOWS_ONLY = Message(
    "只在 Windows 上适用（xlwings 的 UDF 与 DLL 只在 Windows 上使用）",
    "applies on Windows only (xlwings uses its UDFs and DLL only there)",
)
VENV_FIX = Message(
    "在虚拟环境中安装: python -m venv %LOCALAPPDATA%\\xlplan-venv，然后用其中的 "
    "Scripts\\pip install xlplan，并用该环境运行 xlplan addin install",
    "install into a virtual environment: python -m venv %LOCALAPPDATA%\\xlplan-venv, then "
    "its Scripts\\pip install xlplan, and run xlplan addin install from that environment",
)


def check_python(setup: PythonSetup) -> Check:
    """Where Python lives and whether Excel can start it (Store Python cannot be used)."""
    where = Message(
        f"{setup.executable}（{setup.kind.zh}）", f"{setup.executable} ({setup.kind.en})"
    )
    if setup.store:
        return failed(
            "python",
            PYTHON,
            where + Message("：Excel 无法启动它的 UDF 服务", ": Excel cannot start its UDF server"),
            Message(
                "从 python.org 安装 Python（勾选“Add to PATH”），然后",
                "install Python from python.org (tick 'Add to PATH'), then ",
            )
            + VENV_FIX,
        )
    return passed("python", PYTHON, where)


def check_xlwings(setup: PythonSetup) -> Check:
    """xlwings is installed, in the supported range."""
    if setup.xlwings_version is None:
        return failed(
            "xlwings",
            XLWINGS,
            Message("未安装 xlwings", "xlwings is not installed"),
            Message(f'pip install "{XLWINGS_REQUIREMENT}"', f'pip install "{XLWINGS_REQUIREMENT}"'),
        )
    if not xlwings_supported(setup.xlwings_version):
        return failed(
            "xlwings",
            XLWINGS,
            Message(
                f"已安装 {setup.xlwings_version}，XLPlan 需要 {XLWINGS_REQUIREMENT}",
                f"{setup.xlwings_version} installed; XLPlan needs {XLWINGS_REQUIREMENT}",
            ),
            Message(
                f'pip install "{XLWINGS_REQUIREMENT}"，然后重新运行 xlplan addin install',
                f'pip install "{XLWINGS_REQUIREMENT}", then run xlplan addin install again',
            ),
        )
    where = Message(f"（{setup.xlwings_folder}）", f" ({setup.xlwings_folder})")
    shown = Message(setup.xlwings_version, setup.xlwings_version)
    return passed("xlwings", XLWINGS, shown + where if setup.xlwings_folder else shown)


def check_user_site(setup: PythonSetup) -> Check:
    """xlwings is not a ``pip install --user`` install (its DLL would not be found)."""
    title = Message("安装位置", "install location")
    if not setup.windows:
        return not_applicable("user_site", title, WINDOWS_ONLY)
    if setup.user_site_install:
        return failed(
            "user_site",
            title,
            Message(
                f"xlwings 装在用户目录 {setup.user_site}：它的 DLL 不在 Python 旁边，"
                "Excel 加载不到",
                f"xlwings is installed in the user site {setup.user_site}: its DLL is not "
                "beside Python, so Excel cannot load it",
            ),
            VENV_FIX,
        )
    return passed("user_site", title, Message("不是用户目录安装", "not a per-user install"))


def check_conda(setup: PythonSetup, python: ExcelPython | None = None) -> Check:
    """Under conda the add-in names the conda root and environment, not an interpreter."""
    if not setup.conda:
        return not_applicable("conda", CONDA, Message("不是 conda 环境", "not a conda environment"))
    if not setup.windows:
        return not_applicable("conda", CONDA, WINDOWS_ONLY)
    python = python or excel_python(setup)
    bat = Path(python.conda_path or str(setup.conda_root)) / "condabin" / "conda.bat"
    if python.interpreter_win or not python.conda_path:
        return failed(
            "conda",
            CONDA,
            Message(
                f"加载项指定了解释器 {python.interpreter_win}：xlwings 不会激活 conda 环境",
                f"the add-in names the interpreter {python.interpreter_win}: xlwings will not "
                "activate the conda environment",
            ),
            Message(
                "在 conda 环境中运行 xlplan addin install（不要加 --interpreter）",
                "run xlplan addin install inside the conda environment (without --interpreter)",
            ),
        )
    if not bat.is_file():
        return failed(
            "conda",
            CONDA,
            Message(f"找不到 {bat}（conda 太旧？）", f"{bat} not found (conda older than 4.6?)"),
            Message("conda update conda", "conda update conda"),
        )
    return passed(
        "conda",
        CONDA,
        Message(
            f"Conda Path = {python.conda_path}，Conda Env = {python.conda_env}",
            f"Conda Path = {python.conda_path}, Conda Env = {python.conda_env}",
        ),
    )


def check_dll(
    setup: PythonSetup, interpreter: PurePath, version: str | None = None, bits: int = 64
) -> Check:
    """``xlwings<bits>-<version>.dll`` is where the add-in's VBA will look for it."""
    if not setup.windows:
        return not_applicable("dll", DLL, WINDOWS_ONLY)
    version = version or setup.xlwings_version or "?"
    name = dll_name(version, bits)
    folders = dll_folders(interpreter)
    found = [f for f in folders if Path(f, name).is_file()]
    if found:
        return passed("dll", DLL, Message(f"{found[0] / name}", f"{found[0] / name}"))
    elsewhere = [str(p) for p in setup.xlwings_dlls if p.name.lower() == name.lower()]
    seen = (
        Message(f"；它在 {elsewhere[0]}", f"; it is at {elsewhere[0]}")
        if elsewhere
        else Message("；本机的 xlwings 没有带这个 DLL", "; the installed xlwings has no such DLL")
    )
    return failed(
        "dll",
        DLL,
        Message(
            f"Excel 会在 {'、'.join(str(f) for f in folders)} 中找 {name}，但找不到",
            f"Excel looks for {name} in {' and '.join(str(f) for f in folders)}: absent",
        )
        + seen,
        Message(
            "在该 Python 中重新安装 xlwings: pip install --force-reinstall "
            f'"{XLWINGS_REQUIREMENT}"；若仍不行，',
            "reinstall xlwings into that Python: pip install --force-reinstall "
            f'"{XLWINGS_REQUIREMENT}"; if that does not help, ',
        )
        + VENV_FIX,
    )


def python_checks(setup: PythonSetup, python: ExcelPython | None = None) -> list[Check]:
    """Everything about the Python that can be checked before Excel is touched."""
    python = python or excel_python(setup)
    checks = [check_python(setup), check_xlwings(setup), check_user_site(setup)]
    checks.append(check_conda(setup, python))
    interpreter = excel_interpreter(python)
    if interpreter is None:
        checks.append(
            not_applicable("dll", DLL, WINDOWS_ONLY)
            if not setup.windows
            else failed(
                "dll",
                DLL,
                Message("加载项没有指定解释器", "the add-in names no interpreter"),
                Message("运行 xlplan addin install", "run xlplan addin install"),
            )
        )
    else:
        checks.append(check_dll(setup, interpreter))
    return checks


def excel_interpreter(python: ExcelPython) -> Path | None:
    """The Windows interpreter the config makes Excel start (resolving conda), or None."""
    if python.conda_path:
        return conda_interpreter(python.conda_path, python.conda_env)
    if python.interpreter_win:
        return Path(python.interpreter_win)
    return None
