"""Shared fixtures: LibreOffice headless (``soffice``) for tests marked ``@pytest.mark.soffice``."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import settings

# CI gets one run to pass or fail: it explores the same examples every time (a failure there
# reproduces anywhere). Developers' runs keep hypothesis's random exploration.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _shared_empty_errors_stay_empty() -> Iterator[None]:
    """The empty error table is shared (``NO_ERRORS``): every test checks that nothing it ran
    changed it in place (error tables are values; a change works on a copy)."""
    yield
    from xlplan.core.errors import ERROR_COLUMNS, NO_ERRORS

    assert list(NO_ERRORS.columns) == ERROR_COLUMNS
    assert len(NO_ERRORS) == 0
    assert [str(d) for d in NO_ERRORS.dtypes] == ["object", "int64", "object", "object", "object"]


class Soffice:
    """Runs LibreOffice headless with a private profile, so parallel runs do not lock each other."""

    def __init__(self, binary: str, profile: Path) -> None:
        self.binary = binary
        self.profile = profile

    def convert(self, files: Sequence[Path], outdir: Path, to: str = "pdf") -> list[Path]:
        """Convert ``files`` into ``outdir``; return the expected output paths (may be missing)."""
        outdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            self.binary,
            f"-env:UserInstallation={self.profile.as_uri()}",
            "--headless",
            "--convert-to",
            to,
            "--outdir",
            str(outdir),
            *map(str, files),
        ]
        subprocess.run(cmd, check=False, capture_output=True, timeout=300)
        ext = to.split(":", 1)[0]
        return [outdir / f"{Path(f).stem}.{ext}" for f in files]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """LibreOffice renders take seconds each: every ``soffice`` test is also ``slow``."""
    for item in items:
        if item.get_closest_marker("soffice") is not None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def soffice(tmp_path_factory: pytest.TempPathFactory) -> Soffice:
    """LibreOffice, or a skip (a failure when ``XLPLAN_REQUIRE_SOFFICE=1``)."""
    binary = shutil.which("soffice")
    if binary is None:
        if os.environ.get("XLPLAN_REQUIRE_SOFFICE") == "1":
            pytest.fail("soffice not found but XLPLAN_REQUIRE_SOFFICE=1")
        pytest.skip("LibreOffice (soffice) is not installed")
    return Soffice(binary, tmp_path_factory.mktemp("lo-profile"))


@pytest.fixture(autouse=True, scope="session")
def _private_app_data(tmp_path_factory: pytest.TempPathFactory) -> None:
    """XLPlan's log and app-data folders (xlplan.app.places) go to a temporary folder, never
    the user's own."""
    root = tmp_path_factory.mktemp("xlplan-home")
    os.environ["XLPLAN_APP_DIR"] = str(root / "app")
    os.environ["XLPLAN_LOG_DIR"] = str(root / "logs")
