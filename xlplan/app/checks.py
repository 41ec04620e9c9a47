"""One check of the Excel set-up: what was checked, whether it passed, and the fix.

``xlplan doctor``, ``xlplan addin install`` (its checks before touching Excel) and
``xlplan addin selftest`` all report lists of :class:`Check`. A check that does not apply on
this system (UDFs on macOS, the Trust Center on Linux) says so with :attr:`Status.NA` and does
not fail the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from xlplan.core.errors import Message


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"


@dataclass(frozen=True)
class Check:
    """The outcome of one check: ``key`` is stable (JSON, tests), the texts are for people."""

    key: str
    title: Message
    status: Status
    detail: Message
    fix: Message | None = None

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def lines(self, lang: str) -> list[str]:
        mark = {Status.PASS: "[ok]  ", Status.FAIL: "[FAIL]", Status.NA: "[n/a] "}[self.status]
        out = [f"{mark} {self.title.text(lang)}: {self.detail.text(lang)}"]
        if self.fix is not None and self.status is Status.FAIL:
            out.append(f"       {FIX.text(lang)}{self.fix.text(lang)}")
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status.value,
            "title": _texts(self.title),
            "detail": _texts(self.detail),
            "fix": None if self.fix is None else _texts(self.fix),
        }


FIX = Message("修复: ", "fix: ")


def _texts(message: Message) -> dict[str, str]:
    return {"zh": message.zh, "en": message.en}


def passed(key: str, title: Message, detail: Message) -> Check:
    return Check(key, title, Status.PASS, detail)


def failed(key: str, title: Message, detail: Message, fix: Message) -> Check:
    return Check(key, title, Status.FAIL, detail, fix)


def not_applicable(key: str, title: Message, why: Message) -> Check:
    return Check(key, title, Status.NA, why)


def all_pass(checks: Iterable[Check]) -> bool:
    """True when no check that applies failed."""
    return not any(c.failed for c in checks)


def fixes(checks: Iterable[Check]) -> Message:
    """The failed checks with their fixes, one per line (for an error message)."""
    bad = [c for c in checks if c.failed]
    zh = "\n".join(
        f"- {c.title.zh}: {c.detail.zh}" + (f"\n  修复: {c.fix.zh}" if c.fix else "") for c in bad
    )
    en = "\n".join(
        f"- {c.title.en}: {c.detail.en}" + (f"\n  fix: {c.fix.en}" if c.fix else "") for c in bad
    )
    return Message(zh, en)
