"""Where XLPlan keeps its files on the user's machine, per operating system.

- the app-data folder (:func:`app_dir`): Windows ``%LOCALAPPDATA%\\XLPlan``, macOS
  ``~/Library/Application Support/XLPlan``, elsewhere ``$XDG_DATA_HOME/xlplan``
  (``~/.local/share/xlplan``); it holds the record of the installed add-in and the templates
  "New plan" opens;
- the log folder (:func:`log_dir`): Windows ``%LOCALAPPDATA%\\XLPlan\\logs``, macOS
  ``~/Library/Logs/XLPlan``, elsewhere ``$XDG_STATE_HOME/xlplan/logs``
  (``~/.local/state/xlplan/logs``); ``XLPLAN_LOG_DIR`` overrides it;
- Excel's per-user start-up folder (:func:`default_startup_folder`), where an add-in loads from
  when Excel starts: Windows ``%APPDATA%\\Microsoft\\Excel\\XLSTART``, macOS Excel's
  ``Startup.localized/Excel`` in its Office group container. Excel itself reports the folder
  (``Application.StartupPath``); the installer records the one it used.

Each function takes the platform and environment, so every system's answer is testable here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ENV_LOG_DIR = "XLPLAN_LOG_DIR"
ENV_APP_DIR = "XLPLAN_APP_DIR"
MAC_STARTUP = (
    "Library/Group Containers/UBF8T346G9.Office/User Content.localized/Startup.localized/Excel"
)


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("USERPROFILE") or env.get("HOME") or Path.home())


def app_dir(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """XLPlan's own folder under the user's local app data (``XLPLAN_APP_DIR`` overrides)."""
    platform, env = platform or sys.platform, _env(env)
    if env.get(ENV_APP_DIR):
        return Path(env[ENV_APP_DIR])
    home = _home(env)
    if platform.startswith("win"):
        local = Path(env["LOCALAPPDATA"]) if env.get("LOCALAPPDATA") else home / "AppData/Local"
        return local / "XLPlan"
    if platform.startswith("darwin"):
        return home / "Library" / "Application Support" / "XLPlan"
    data = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    return data / "xlplan"


def log_dir(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The folder of XLPlan's log (``XLPLAN_LOG_DIR`` overrides)."""
    platform, env = platform or sys.platform, _env(env)
    if env.get(ENV_LOG_DIR):
        return Path(env[ENV_LOG_DIR])
    if platform.startswith("win") or env.get(ENV_APP_DIR):
        return app_dir(platform, env) / "logs"
    home = _home(env)
    if platform.startswith("darwin"):
        return home / "Library" / "Logs" / "XLPlan"
    state = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else home / ".local" / "state"
    return state / "xlplan" / "logs"


def default_startup_folder(
    platform: str | None = None, env: Mapping[str, str] | None = None
) -> Path | None:
    """Excel's usual per-user start-up folder on ``platform``; None where there is no Excel."""
    platform, env = platform or sys.platform, _env(env)
    home = _home(env)
    if platform.startswith("win"):
        roaming = Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"
        return roaming / "Microsoft" / "Excel" / "XLSTART"
    if platform.startswith("darwin"):
        return home / MAC_STARTUP
    return None


def record_file(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Where ``xlplan addin install`` records what it installed and where."""
    return app_dir(platform, env) / "addin.json"


def templates_dir(platform: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """Where "New plan" keeps the Excel templates (.xltx) it opens."""
    return app_dir(platform, env) / "templates"
