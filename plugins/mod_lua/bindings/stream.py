"""``freeswitch.Stream`` (behaviour reference §8): a growable buffer, or the API's output
stream handed to a script as the ``stream`` global."""

from __future__ import annotations

from typing import Any

from fsd.api import Stream

from . import register_class
from .spec import Arg, ClassSpec, Method, args


def _new(ctx: Any) -> Stream:
    return Stream()


def _write(s: Any, text: str | None) -> None:
    if text is not None:
        s.write(text)


def _raw_write(s: Any, data: str | None, length: int) -> None:
    if data is None:
        return
    raw = data.encode("utf-8", "surrogateescape")
    s.raw_write(raw[: max(0, length)])


def _get_data(s: Any) -> str:
    return s.get_data()


def _read(s: Any) -> tuple[Any, int]:
    reader = getattr(s, "read", None)
    if reader is None:
        return "", 0
    data, n = reader()
    return data, n


register_class(ClassSpec(
    "Stream",
    ctor=Method("Stream", _new, []),
    methods=[
        Method("write", _write, args(Arg("s", "char const *"))),
        Method("raw_write", _raw_write, args(Arg("s", "void const *"), "i")),
        Method("get_data", _get_data, []),
        Method("read", _read, []),
    ],
))
