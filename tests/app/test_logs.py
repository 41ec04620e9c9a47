"""Finding 9 of issue 10: errors inside Excel leave a trace -- a rotating log under the user's
local app-data folder, named by every error message."""

from __future__ import annotations

from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from xlplan.app import logs, places


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        (
            "win32",
            {"LOCALAPPDATA": r"C:\Users\li\AppData\Local", "USERPROFILE": r"C:\Users\li"},
            Path(r"C:\Users\li\AppData\Local") / "XLPlan" / "logs",
        ),
        ("darwin", {"HOME": "/Users/li"}, Path("/Users/li/Library/Logs/XLPlan")),
        ("linux", {"HOME": "/home/li"}, Path("/home/li/.local/state/xlplan/logs")),
        ("linux", {"HOME": "/home/li", "XDG_STATE_HOME": "/s"}, Path("/s/xlplan/logs")),
        ("win32", {"XLPLAN_LOG_DIR": "/elsewhere"}, Path("/elsewhere")),
    ],
)
def test_the_log_lives_under_local_app_data(
    platform: str, env: dict[str, str], expected: Path
) -> None:
    assert places.log_dir(platform, env) == expected


def test_app_data_and_the_start_up_folder_per_system() -> None:
    win = {"LOCALAPPDATA": "L", "APPDATA": "R", "USERPROFILE": "U"}
    assert places.app_dir("win32", win) == Path("L") / "XLPlan"
    assert places.default_startup_folder("win32", win) == Path("R/Microsoft/Excel/XLSTART")
    mac = places.default_startup_folder("darwin", {"HOME": "/Users/li"})
    assert mac is not None and mac.parts[-3:] == (
        "User Content.localized",
        "Startup.localized",
        "Excel",
    )
    assert places.default_startup_folder("linux", {"HOME": "/h"}) is None
    assert places.templates_dir("linux", {"HOME": "/h"}) == Path("/h/.local/share/xlplan/templates")


def test_the_log_rotates_and_keeps_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLPLAN_LOG_DIR", str(tmp_path / "logs"))
    try:
        raise ValueError("disk on fire")
    except ValueError as exc:
        path = logs.log_exception("ribbon landed_cost", exc)
    assert path == tmp_path / "logs" / "xlplan.log"
    text = path.read_text(encoding="utf-8")
    assert "ribbon landed_cost: ValueError: disk on fire" in text
    assert "Traceback (most recent call last)" in text
    (handler,) = [h for h in logs.logger().handlers if isinstance(h, RotatingFileHandler)]
    assert handler.maxBytes == logs.MAX_BYTES and handler.backupCount == logs.BACKUPS


def test_every_error_sentence_names_the_file(tmp_path: Path) -> None:
    hint = logs.see_log(tmp_path / "x.log")
    assert str(tmp_path / "x.log") in hint.zh and str(tmp_path / "x.log") in hint.en
    assert hint.zh.startswith("详情见日志") and hint.en.startswith("details in the log")


def test_a_folder_that_cannot_be_made_falls_back_to_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XLPLAN_LOG_DIR", str(blocker / "logs"))
    path = logs.log_info("hello")
    assert path.name == "xlplan.log" and path.parent != blocker / "logs"
    assert "hello" in path.read_text(encoding="utf-8")


def test_the_add_in_names_the_log_the_way_its_vba_expands_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XLPLAN_LOG_DIR", raising=False)
    monkeypatch.delenv("XLPLAN_APP_DIR", raising=False)
    assert logs.excel_setting("win32") == "%LOCALAPPDATA%\\XLPlan\\logs\\xlplan.log"
    monkeypatch.setenv("XLPLAN_LOG_DIR", "/x")
    assert logs.excel_setting("win32") == str(Path("/x") / "xlplan.log")


def test_a_udf_that_fails_unexpectedly_names_the_log_and_logs_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from udfs.common import never_raises

    monkeypatch.setenv("XLPLAN_LOG_DIR", str(tmp_path))

    @never_raises
    def XLP_BROKEN() -> list[list[object]]:  # noqa: N802
        raise ZeroDivisionError("x" * 500)

    (cell,) = XLP_BROKEN()[0]
    assert str(cell).startswith("#XLPLAN!")
    assert f"log: {tmp_path / 'xlplan.log'}" in str(cell)
    text = (tmp_path / "xlplan.log").read_text(encoding="utf-8")
    assert "XLP_BROKEN: ZeroDivisionError" in text and "x" * 500 in text  # not cut to 200
    assert "Traceback" in text
