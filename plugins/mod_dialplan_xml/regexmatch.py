"""PCRE-style matching for dialplan conditions, the way FreeSWITCH's switch_regex does it.

* ``expression`` may be written ``/pattern/flags`` (flags ``i`` = caseless, ``s`` = dotall);
  a leading ``/`` without a closing one never matches.
* The match is an unanchored search (``pcre_exec``), ASCII classes as PCRE without UTF.
* ``$N`` in action data is replaced by capture N (empty when unset); ``$`` before anything
  but a digit stays as written, so ``${var}`` survives for expansion at execute time.
* Captures pushed into a variable build FreeSWITCH's array form ``ARRAY::a|:b``.

A pattern that does not compile is reported once per call through ``on_error`` and simply
does not match; a pathological pattern is cut off by a timeout instead of hanging a call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import regex

#: Longest time one search may take before it counts as "no match" (catastrophic patterns).
SEARCH_TIMEOUT = 1.0


class RegexError(Exception):
    """The expression does not compile (message names the reason and position)."""


@lru_cache(maxsize=2048)
def _compile(pattern: str, flags: int) -> regex.Pattern | RegexError:
    # Errors are cached too: a broken pattern in a busy dialplan is parsed once.
    try:
        return regex.compile(pattern, flags | regex.ASCII | regex.VERSION0)
    except (regex.error, ValueError, OverflowError, RecursionError) as e:
        return RegexError(str(e))


def compile_expression(expression: str) -> regex.Pattern | None:
    """Compile a dialplan expression; ``None`` for the ``/unterminated`` form (no match).

    Raises :class:`RegexError` when the pattern does not compile."""
    flags = 0
    pattern = expression
    if expression.startswith("/"):
        body = expression[1:]
        cut = body.rfind("/")
        if cut < 0:
            return None
        pattern, opts = body[:cut], body[cut + 1:]
        if "i" in opts:
            flags |= regex.IGNORECASE
        if "s" in opts:
            flags |= regex.DOTALL
    compiled = _compile(pattern, flags)
    if isinstance(compiled, RegexError):
        raise compiled
    return compiled


def perform(field_data: str, expression: str,
            on_error: Callable[[str], None] | None = None) -> regex.Match | None:
    """Search ``expression`` in ``field_data``; the match or ``None``.  Compile errors and
    timeouts go to ``on_error`` and count as no match."""
    try:
        pat = compile_expression(expression)
    except RegexError as e:
        if on_error:
            on_error(f"COMPILE ERROR: {e}")
        return None
    if pat is None:
        return None
    try:
        return pat.search(field_data, timeout=SEARCH_TIMEOUT)
    except TimeoutError:
        if on_error:
            on_error(f"regex timed out after {SEARCH_TIMEOUT}s")
        return None


def substitute(match: regex.Match | None, data: str) -> str:
    """Replace ``$0``…``$N`` in ``data`` with the captures of ``match`` (switch_perform_substitution)."""
    if "$" not in data:
        return data
    out: list[str] = []
    i = 0
    n = len(data)
    groups = match.re.groups if match is not None else -1
    while i < n:
        c = data[i]
        if c != "$":
            out.append(c)
            i += 1
            continue
        j = i + 1
        while j < n and "0" <= data[j] <= "9":
            j += 1
        if j == i + 1:  # "$" not followed by a digit: literal (keeps ${...} intact)
            out.append("$")
            i += 1
            continue
        idx = int(data[i + 1:j])
        if match is not None and idx <= groups:
            value = match.group(idx)
            if value:
                out.append(value)
        i = j
    return "".join(out)


def capture_values(match: regex.Match | None) -> list[str]:
    """The non-empty captures 0..highest-set, as switch_capture_regex pushes them."""
    if match is None:
        return []
    highest = 0
    for g in range(match.re.groups, 0, -1):
        if match.group(g) is not None:
            highest = g
            break
    return [v for v in (match.group(g) for g in range(highest + 1)) if v]


def array_value(values: list[str]) -> str | None:
    """FreeSWITCH's value after pushing ``values`` onto an unset variable."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return "ARRAY::" + "|:".join(values)
