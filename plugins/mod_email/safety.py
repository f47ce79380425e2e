"""Input checks that keep addresses, headers and file names from doing anything but what
they say.

Nothing here ever reaches a shell (the mailer runs as an argument vector), so the checks
exist for two other reasons: an address must stay *one* argument and *one* recipient
(no option smuggling such as ``-X/tmp/log``, no second command if someone later pipes it
through a shell), and text that ends up in the message header block must not be able to
start a new header or end the header block (header injection).
"""

from __future__ import annotations

import re

# Characters refused in a `to` or `from` address.  The issue names ; ` $( | & < > and
# newlines; quotes, backslash and parentheses are refused too because no sane mailbox in
# a voicemail or alert setting needs them and every one of them means something to a
# shell.  `$` alone is refused (it covers `$(` and `${`).
_ADDRESS_FORBIDDEN = set(";`$|&<>\\\"'()")

# One header field line: a field name of printable ASCII without ':' or space, then ':'.
_HEADER_NAME = re.compile(r"^[!-9;-~]+:")


class UnsafeInput(ValueError):
    """Raised with a message fit for the log when an input is refused."""


def _describe(ch: str) -> str:
    names = {"\n": "newline", "\r": "carriage return", "\t": "tab", "\0": "NUL", " ": "space"}
    return names.get(ch, repr(ch))


def split_recipients(to: str) -> list[str]:
    """Split a `to` value into single addresses, refusing anything unsafe.

    FreeSWITCH hands `to` to the mailer as one argument and lets sendmail split it at
    commas, so ``"a@x.org,b@y.org"`` (spaces after the commas allowed) means two
    recipients.  We split here and pass each address as its own argument, which every
    sendmail-compatible program understands."""
    if to is None or not str(to).strip():
        raise UnsafeInput("No to address specified")
    parts = [p.strip() for p in str(to).split(",")]
    if any(not p for p in parts):
        raise UnsafeInput(f"empty address in to list [{to!r}]")
    for p in parts:
        check_address(p, "to")
    return parts


def check_address(addr: str, what: str) -> str:
    """Refuse one address (``what`` is "to" or "from" for the message) when it could
    break out of its argument or its header; return it unchanged otherwise."""
    for ch in addr:
        if ord(ch) < 0x20 or ord(ch) == 0x7F or ch == " ":
            raise UnsafeInput(f"refusing {what} address {addr!r}: contains {_describe(ch)}")
        if ch in _ADDRESS_FORBIDDEN:
            raise UnsafeInput(
                f"refusing {what} address {addr!r}: contains shell/header character {ch!r}"
            )
    if addr.startswith("-"):
        # would be read as an option by sendmail (e.g. -C/-X): argument injection
        raise UnsafeInput(f"refusing {what} address {addr!r}: starts with '-'")
    return addr


def normalise_headers(headers: str | None) -> str:
    """Return the caller's header block with LF line ends and no trailing newline, after
    checking that every line is a ``Name: value`` field or a folded continuation.

    Header values may contain ``;``, ``<``, ``>``, ``&`` and the like (``From: "Vm"
    <vm@pbx>`` is the usual case): they never reach a shell.  What is refused is what
    could inject headers or end the header block early: an empty line inside the block,
    a bare carriage return, NUL, or a line that is not a header field."""
    if not headers:
        return ""
    text = str(headers).replace("\r\n", "\n").rstrip("\n")
    if "\r" in text:
        raise UnsafeInput("refusing headers: bare carriage return")
    if "\0" in text:
        raise UnsafeInput("refusing headers: NUL character")
    lines = text.split("\n")
    for n, line in enumerate(lines, 1):
        if line[:1] in (" ", "\t") and n > 1 and line.strip():
            continue  # folded continuation of the previous field
        if not _HEADER_NAME.match(line):
            shown = line if len(line) < 60 else line[:57] + "..."
            raise UnsafeInput(f"refusing headers: line {n} is not 'Name: value' [{shown!r}]")
    return text


def check_file_name(path: str) -> str:
    """An attachment path ends up in the ``name=`` and ``filename=`` parameters."""
    for ch in path:
        if ord(ch) < 0x20 or ord(ch) == 0x7F or ch == '"':
            raise UnsafeInput(f"refusing attachment file name {path!r}: contains {_describe(ch)}")
    return path
