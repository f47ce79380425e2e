"""The host of the loaded mod_python (for objects created outside any run)."""

from __future__ import annotations

from typing import Any

_HOST: dict[str, Any] = {}


def set_host(host: Any) -> None:
    _HOST["host"] = host


def host() -> Any:
    h = _HOST.get("host")
    if h is None:
        raise RuntimeError("mod_python is not loaded")
    return h
