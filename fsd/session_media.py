"""Media for sessions: one MediaPort per channel (see fsd/media/port.py).

Placeholder wiring until the media integration lands: sessions work without media."""

from __future__ import annotations

from typing import Any


def attach_media(switch: Any, session: Any) -> None:
    return None


def link_media(switch: Any, a: Any, b: Any) -> None:
    return None


def bridge_media(switch: Any, a: Any, b: Any) -> None:
    return None


def unbridge_media(switch: Any, a: Any, b: Any) -> None:
    return None
