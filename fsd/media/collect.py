"""Digit collection: getDigits, read and playAndGetDigits with FreeSWITCH's semantics (§4.2).

These are plain functions over a :class:`MediaPort` (its DTMF queue and readiness) plus a
variable store with ``get(name)`` / ``set(name, value_or_None)`` (the channel's variables;
:class:`DictVars` for tests).  Prompts are played through a ``player(file, capture_digit)``
callable so that the session layer can route ``phrase:``/``say:`` prompts to its own
handlers; the default plays files through the port.

Statuses mirror FreeSWITCH's: ``success``, ``timeout``, ``too_small``, ``restart`` (an
``xX`` terminator), ``break``, ``false`` (hangup or failure).  Timers follow
switch_ivr_collect_digits_count: with an inter-digit timeout, ``first_timeout`` covers
the first digit and ``digit_timeout`` each later one; with only one of them it is used for
all and restarted after every digit; ``abs_timeout`` caps the whole collection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import regex

from fsd.log import ERR, log
from fsd.media.errors import MediaError
from fsd.media.port import MediaPort, PlaybackResult

READ_RESULT = "read_result"
READ_TERMINATOR_USED = "read_terminator_used"
GETDIGITS_BUFLEN = 511  # CoreSession::getDigits buffer (512 with the NUL)
READ_BUFLEN = 128

Player = Callable[[str, bool], PlaybackResult]


class DictVars:
    """A variable store over a dict (``None`` unsets), for tests and standalone use."""

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        self.data: dict[str, str] = dict(initial or {})

    def get(self, name: str) -> str | None:
        return self.data.get(name)

    def set(self, name: str, value: str | None) -> None:
        if value is None:
            self.data.pop(name, None)
        else:
            self.data[name] = value


def default_player(port: MediaPort) -> Player:
    def play(file: str, capture_digit: bool) -> PlaybackResult:
        try:
            return port.play(file, capture_digit=capture_digit)
        except MediaError as exc:
            log(ERR, f"cannot play {file}: {exc}", uuid=port.uuid)
            return PlaybackResult("error", name=file, errors=[str(exc)])

    return play


# ---------------------------------------------------------------------------- regex
def compile_fs_regex(expr: str) -> regex.Pattern | None:
    """A PCRE-style pattern, or ``/re/flags`` with flags i (caseless) and s (dotall)."""
    flags = 0
    body = expr
    if len(expr) > 1 and expr.startswith("/"):
        end = expr.rfind("/")
        if end > 0:
            body = expr[1:end]
            for f in expr[end + 1 :]:
                if f == "i":
                    flags |= regex.IGNORECASE
                elif f == "s":
                    flags |= regex.DOTALL
    try:
        return regex.compile(body, flags)
    except regex.error as exc:
        log(ERR, f"invalid regex {expr!r}: {exc}")
        return None


def regex_match(text: str, expr: str) -> bool:
    """switch_regex_match: true when the pattern matches anywhere in ``text``."""
    pat = compile_fs_regex(expr)
    return pat is not None and pat.search(text) is not None


# ---------------------------------------------------------------------------- collect
def collect_digits_count(
    port: MediaPort,
    buf: str,
    maxdigits: int,
    terminators: str,
    first_timeout: int,
    digit_timeout: int,
    abs_timeout: int,
    buflen: int = GETDIGITS_BUFLEN,
) -> tuple[str, str, str]:
    """Collect into ``buf``; returns (status, digits, terminator). Times in ms."""
    if terminators:
        for i, ch in enumerate(buf):
            if ch in terminators:
                return "success", buf[:i], ch
    now = time.monotonic
    started = now() if abs_timeout else 0.0
    if digit_timeout and first_timeout:
        eff = first_timeout
    elif digit_timeout and not first_timeout:
        first_timeout = eff = digit_timeout
    elif first_timeout:
        digit_timeout = eff = first_timeout
    else:
        eff = 0
    digit_started = now() if eff else 0.0
    status = "false"
    while port.ready():
        waits = []
        if abs_timeout:
            left = abs_timeout / 1000 - (now() - started)
            if left <= 0:
                status = "timeout"
                break
            waits.append(left)
        if eff:
            left = eff / 1000 - (now() - digit_started)
            if left <= 0:
                status = "timeout"
                break
            waits.append(left)
        if port.has_dtmf():
            if eff:
                eff = digit_timeout
                digit_started = now()
            for _ in range(maxdigits + 1):
                d = port.get_dtmf(0)
                if d is None:
                    break
                if terminators and d.digit in terminators:
                    return "success", buf, d.digit
                buf += d.digit
                if len(buf) >= buflen or len(buf) >= maxdigits:
                    return "success", buf, ""
            continue
        port.wait_dtmf(min(waits) if waits else None)
    return status, buf, ""


def get_digits(
    port: MediaPort,
    maxdigits: int,
    terminators: str,
    timeout: int,
    interdigit: int = 0,
    abstimeout: int = 0,
) -> tuple[str, str, str]:
    """session:getDigits: (digits, terminator, status). Does not flush, no callback."""
    if maxdigits <= 0:
        return "", "", "false"
    status, digits, term = collect_digits_count(
        port, "", maxdigits, terminators or "", max(0, timeout), max(0, interdigit),
        max(0, abstimeout), GETDIGITS_BUFLEN,
    )  # fmt: skip
    return digits, term, status


# ---------------------------------------------------------------------------- read
@dataclass
class ReadResult:
    status: str
    digits: str
    terminator: str = ""

    @property
    def read_result(self) -> str | None:
        return {"success": "success", "timeout": "timeout"}.get(self.status, "failure")


def ivr_read(
    port: MediaPort,
    min_digits: int,
    max_digits: int,
    prompt: str,
    var_name: str | None,
    timeout: int,
    terminators: str,
    digit_timeout: int = 0,
    variables: DictVars | None = None,
    player: Player | None = None,
    buflen: int = READ_BUFLEN,
) -> ReadResult:
    """switch_ivr_read: play ``prompt`` (a digit breaks it and counts), then collect.

    Sets ``read_result`` (success / timeout / failure), ``read_terminator_used`` when a
    terminator was pressed, and ``var_name`` to the digits when there are any.
    """
    vars_ = variables if variables is not None else DictVars()
    play = player or default_player(port)
    terminators = terminators or ""
    term_required = terminators.startswith("=")
    if not digit_timeout:
        digit_timeout = timeout
    if max_digits < min_digits:
        max_digits = min_digits
    vars_.set(READ_RESULT, None)
    if var_name:
        vars_.set(var_name, None)
    if (min_digits and buflen < min_digits) or buflen < max_digits:
        log(ERR, "read: buffer too small", uuid=port.uuid)
        return ReadResult("false", "")
    if not port.ready():
        return ReadResult("false", "")
    digits, tb, status = "", "", "success"
    if prompt and prompt.lower() != "silence":
        res = play(prompt, True)
        if res.status in ("done", "break"):
            digits = res.digit
            status = "success"
        else:
            status = "false"
    if status == "success":
        if (min_digits and len(digits) < min_digits) or len(digits) < max_digits:
            status, digits, tb = collect_digits_count(
                port, digits, max_digits, terminators,
                digit_timeout if digits else timeout, digit_timeout, 0, buflen,
            )  # fmt: skip
        if tb:
            vars_.set(READ_TERMINATOR_USED, tb)
            p = terminators.find(tb)
            if p >= 1 and terminators[p - 1] in "+x":
                digits += tb
                if terminators[p - 1] == "x":
                    status = "restart"
        elif term_required:
            status = "too_small"
        if min_digits and len(digits) < min_digits:
            status = "too_small"
        result = {"success": "success", "timeout": "timeout"}.get(status, "failure")
        vars_.set(READ_RESULT, result)
    if status != "restart" and max_digits == 1 and len(digits) == 1 and digits in terminators:
        digits = ""
    if var_name and digits:
        vars_.set(var_name, digits)
    return ReadResult(status, digits, tb)


def session_read(
    port: MediaPort,
    min_digits: int,
    max_digits: int,
    prompt: str,
    timeout: int,
    terminators: str,
    digit_timeout: int = 0,
    variables: DictVars | None = None,
    player: Player | None = None,
) -> str:
    """session:read(min, max, prompt, timeout, terms[, digit_timeout]) -> digits."""
    min_digits = max(1, min_digits)
    max_digits = max(1, max_digits)
    timeout = max(1, timeout)
    res = ivr_read(
        port, min_digits, max_digits, prompt, None, timeout, terminators, digit_timeout,
        variables, player,
    )  # fmt: skip
    return res.digits


# ---------------------------------------------------------------------------- PAGD
@dataclass
class PlayAndGetResult:
    status: str  # success / restart / false
    digits: str
    transfer: tuple[str, str | None, str | None] | None = None  # (ext, dialplan, context)


def play_and_get_digits(
    port: MediaPort,
    min_digits: int,
    max_digits: int,
    max_tries: int,
    timeout: int,
    terminators: str,
    prompt: str,
    bad_prompt: str,
    var_name: str | None,
    digits_regex: str | None,
    digit_timeout: int = 0,
    transfer_on_failure: str | None = None,
    variables: DictVars | None = None,
    player: Player | None = None,
) -> PlayAndGetResult:
    """switch_play_and_get_digits; the caller performs ``transfer`` when it is set."""
    vars_ = variables if variables is not None else DictVars()
    play = player or default_player(port)
    if digits_regex and var_name:
        vars_.set(f"{var_name}_invalid", None)
    while port.ready() and max_tries > 0:
        res = ivr_read(
            port, min_digits, max_digits, prompt, var_name, timeout, terminators,
            digit_timeout, vars_, play,
        )  # fmt: skip
        status, digits = res.status, res.digits
        if status == "restart":
            return PlayAndGetResult("restart", digits)
        if status == "timeout" and len(digits) >= min_digits:
            status = "success"
        if min_digits == 0 and not digits and vars_.get(READ_TERMINATOR_USED) is not None:
            return PlayAndGetResult("success", "")
        if not (status == "too_small" and not digits):
            if status == "success" and digits:
                if not digits_regex:
                    return PlayAndGetResult("success", digits)
                if regex_match(digits, digits_regex):
                    return PlayAndGetResult("success", digits)
                if var_name:
                    vars_.set(var_name, None)
                    vars_.set(f"{var_name}_invalid", digits)
        if not port.ready():
            break
        if bad_prompt:
            # Played without input handling: digits pressed now stay queued for the
            # next prompt, as in FreeSWITCH.
            try:
                port.play(bad_prompt) if player is None else play(bad_prompt, False)
            except MediaError as exc:
                log(ERR, f"cannot play {bad_prompt}: {exc}", uuid=port.uuid)
        max_tries -= 1
    transfer = None
    if transfer_on_failure and transfer_on_failure.strip():
        parts = transfer_on_failure.split()
        transfer = (
            parts[0],
            parts[1] if len(parts) > 1 else None,
            parts[2] if len(parts) > 2 else None,
        )
        log(
            ERR,
            f"PAGD failure! Transfer to: {' / '.join(p or '' for p in transfer)}",
            uuid=port.uuid,
        )
    return PlayAndGetResult("false", "", transfer)
