"""mod_commands' utility APIs scripts call through ``api:execute``: string work (cond,
regex, replace, url_encode/decode, escape, md5…), time (strftime_tz, msleep, time_test),
files and processes (file_exists, system, bg_system), XML (xml_wrap, xml_locate).

Texts and edge cases follow mod_commands.c: ``-ERR`` for a malformed ``cond``/``regex``/
``replace``, ``!err!`` for an empty ``md5``, ``-USAGE: <command>`` for an empty ``system``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time
from datetime import datetime
from typing import Any

import regex as re

from fsd.events.urlencode import url_decode, url_encode
from fsd.log import NOTICE, log
from fsd.numbers import is_digits, leading_int
from fsd.separate import separate_string

SYSTEM_SYNTAX = "<command>"


def _is_number(text: str) -> bool:
    """switch_is_number: optional sign, digits, at most one dot."""
    t = text[1:] if text[:1] in "+-" else text
    if not t or t.count(".") > 1:
        return False
    return all(is_digits(c) or c == "." for c in t) and any(is_digits(c) for c in t)


def _operand(text: str, pos: int) -> tuple[str, bool, int] | None:
    """One ``cond`` operand from ``pos``: (value, quoted, index after it and one space)."""
    if text[pos:pos + 1] == "'":
        i, out = pos + 1, []
        while i < len(text):
            c = text[i]
            if c == "\\" and text[i + 1:i + 2] in ("\\", "'"):
                out.append(text[i + 1])
                i += 2
                continue
            if c == "'":
                break
            out.append(c)
            i += 1
        if i >= len(text) or text[i + 1:i + 2] not in (" ", "\t"):
            return None
        return "".join(out), True, i + 2
    sp = text.find(" ", pos)
    if sp < 0:
        return None
    return text[pos:sp], False, sp + 1


def cond(text: str) -> str:
    """``<a> <op> <b> ? <true> : <false>`` (ops == != > >= < <=); numbers compare as
    numbers, strings by ``==``/``!=`` or by length; ``-ERR`` when malformed."""
    if not text:
        return "-ERR"
    a = _operand(text, 0)
    if a is None:
        return "-ERR"
    a_val, a_quoted, i = a
    while i < len(text) and text[i].isspace():
        i += 1
    op = text[i:i + 2] if text[i:i + 2] in ("==", "!=", ">=", "<=") else text[i:i + 1]
    if op not in ("==", "!=", ">=", "<=", ">", "<"):
        return "-ERR"
    i += len(op) + 1  # the operator and the one character after it
    while i < len(text) and text[i].isspace():
        i += 1
    b = _operand(text, i)
    if b is None:
        return "-ERR"
    b_val, b_quoted, i = b
    while i < len(text) and text[i].isspace():
        i += 1
    if text[i:i + 1] != "?":
        return "-ERR"
    parts = separate_string(":" + text[i + 1:], ":", 3)
    if not 2 <= len(parts) <= 3:
        return "-ERR"
    a_num = _is_number(a_val) and not a_quoted
    b_num = _is_number(b_val) and not b_quoted
    af = float(a_val) if a_num else float(len(a_val))
    bf = float(b_val) if b_num else float(len(b_val))
    if op == "==":
        ok = a_val == b_val if not (a_num or b_num) else af == bf
    elif op == "!=":
        ok = a_val != b_val if not (a_num or b_num) else af != bf
    else:
        ok = {">": af > bf, ">=": af >= bf, "<": af < bf, "<=": af <= bf}[op]
    if len(parts) == 2 and not ok:
        return ""
    return parts[1] if ok else parts[2]


def _delim(text: str) -> tuple[str, str]:
    """``m:<d>`` at the start picks ``|``, ``~`` or ``/`` as the delimiter."""
    if text[:2] == "m:" and text[2:3] in ("|", "~", "/"):
        return text[2], text[3:]
    return "|", text


def _substitute(m: Any, template: str) -> str:
    """switch_perform_substitution: ``$N`` (and ``%N``) are groups; the rest is literal."""
    out, i = [], 0
    while i < len(template):
        c = template[i]
        if c in "$%" and i + 1 < len(template) and is_digits(template[i + 1]):
            j = i + 1
            while j < len(template) and is_digits(template[j]):
                j += 1
            n = int(template[i + 1:j])
            try:
                out.append(m.group(n) or "")
            except IndexError:
                pass
            i = j
            continue
        if c == "\\" and i + 1 < len(template):
            out.append(template[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def regex_api(text: str) -> str:
    if not text:
        return "-ERR"
    d, body = _delim(text)
    argv = separate_string(body, d, 4)
    if len(argv) < 2:
        return "-ERR"
    try:
        m = re.search(argv[1], argv[0])
    except re.error:
        m = None
    if len(argv) > 2:
        flags = argv[3] if len(argv) > 3 else ""
        if m:
            return _substitute(m, argv[2])
        if "n" in flags:
            return ""
        if "b" in flags:
            return "false"
        return argv[0]
    return "true" if m else "false"


def replace_api(text: str) -> str:
    if not text:
        return "-ERR"
    d, body = _delim(text)
    argv = separate_string(body, d, 3)
    if len(argv) < 3:
        return "-ERR"
    return argv[0].replace(argv[1], argv[2]) if argv[1] else argv[0]


def escape(text: str) -> str:
    """switch_escape_string: newline, CR, tab, space and ``$`` get a backslash form."""
    table = {"\n": "\\n", "\r": "\\r", "\t": "\\t", " ": "\\s", "$": "\\$"}
    return "".join(table.get(c, c) for c in text)


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


class UtilApis:
    def __init__(self, switch: Any) -> None:
        self.switch = switch

    # -- strings ---------------------------------------------------------------------------
    def cond(self, args: str, session: Any, stream: Any) -> None:
        stream.write(cond(args))

    def regex(self, args: str, session: Any, stream: Any) -> None:
        stream.write(regex_api(args))

    def replace(self, args: str, session: Any, stream: Any) -> None:
        stream.write(replace_api(args))

    def url_encode(self, args: str, session: Any, stream: Any) -> None:
        stream.write(url_encode(args) if args else "")

    def url_decode(self, args: str, session: Any, stream: Any) -> None:
        stream.write(url_decode(args) if args else "")

    def escape(self, args: str, session: Any, stream: Any) -> None:
        stream.write(escape(args) if args else "")

    def md5(self, args: str, session: Any, stream: Any) -> None:
        stream.write(hashlib.md5(args.encode()).hexdigest() if args else "!err!")

    def toupper(self, args: str, session: Any, stream: Any) -> None:
        stream.write(args.upper())

    def tolower(self, args: str, session: Any, stream: Any) -> None:
        stream.write(args.lower())

    def sql_escape(self, args: str, session: Any, stream: Any) -> None:
        stream.write(args.replace("'", "''") if args else "")

    def quote_shell_arg(self, args: str, session: Any, stream: Any) -> None:
        stream.write(_shell_quote(args or ""))

    def coalesce(self, args: str, session: Any, stream: Any) -> None:
        d, body = ("|", args)
        if args.startswith("^^") and len(args) > 2:
            d, body = args[2], args[3:]
        for part in (body or "").split(d):
            if part:
                stream.write(part)
                return

    # -- time ------------------------------------------------------------------------------
    def strftime_tz(self, args: str, session: Any, stream: Any) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        tz_name, _, fmt = (args or "").partition(" ")
        when = 0
        if "|" in fmt:
            w, _, fmt = fmt.partition("|")
            when = leading_int(w, 0)
        fmt = fmt or "%Y-%m-%d %T"
        try:
            tz = ZoneInfo(tz_name) if tz_name else None
            dt = datetime.fromtimestamp(when or time.time(), tz)
            stream.write(dt.strftime(fmt))
        except (ZoneInfoNotFoundError, ValueError, OSError):
            stream.write("-ERR Invalid timezone/format\n")

    def msleep(self, args: str, session: Any, stream: Any) -> None:
        ms = leading_int(args, 0)
        if ms > 0:
            threading.Event().wait(ms / 1000.0)
        stream.write("+OK")

    def time_test(self, args: str, session: Any, stream: Any) -> None:
        """``time_test <mss> [count]``: sleep ``mss`` microseconds ``count`` times and show how
        long each took (FreeSWITCH's jitter test)."""
        words = (args or "").split()
        mss = leading_int(words[0], 0) if words else 0
        if mss <= 0 or mss > 1_000_000:
            stream.write("parameter missing or invalid\n")
            return
        count = min(max(leading_int(words[1], 0) if len(words) > 1 else 10, 1), 100)
        total = 0
        for x in range(1, count + 1):
            start = time.monotonic_ns()
            threading.Event().wait(mss / 1e6)
            diff = (time.monotonic_ns() - start) // 1000
            total += diff
            stream.write(f"test {x} sleep {mss} {diff}\n")
        stream.write(f"avg {total // count}\n")

    # -- files and processes ---------------------------------------------------------------
    def file_exists(self, args: str, session: Any, stream: Any) -> None:
        stream.write("true" if args and os.path.exists(args) else "false")

    def system(self, args: str, session: Any, stream: Any) -> None:
        if not args:
            stream.write(f"-USAGE: {SYSTEM_SYNTAX}\n")
            return
        try:
            out = subprocess.run(["/bin/sh", "-c", args], capture_output=True, timeout=300,
                                 stdin=subprocess.DEVNULL)
            stream.write(out.stdout.decode(errors="replace"))
        except (OSError, subprocess.SubprocessError):
            log(NOTICE, f"Failed to execute command: {args}\n")

    def bg_system(self, args: str, session: Any, stream: Any) -> None:
        if not args:
            stream.write(f"-USAGE: {SYSTEM_SYNTAX}\n")
            return
        log(NOTICE, f"Executing command: {args}\n")
        try:
            subprocess.Popen(["/bin/sh", "-c", args], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        except OSError:
            log(NOTICE, f"Failed to execute command: {args}\n")
        stream.write("+OK\n")

    # -- XML ---------------------------------------------------------------------------------
    def xml_wrap(self, args: str, session: Any, stream: Any) -> None:
        if not args:
            stream.write("-ERR Invalid syntax\n")
            return
        encoded = args[:8].lower() == "encoded "
        cmd = args[8:] if encoded else args
        name, _, arg = cmd.partition(" ")
        out = self.switch.api_execute(name, arg)
        data = url_encode(out) if encoded and out else out
        stream.write(f"<result>\n  <row id=\"1\">\n    <data>{data or 'ERROR'}</data>\n"
                     "  </row>\n</result>\n")

    def xml_locate(self, args: str, session: Any, stream: Any) -> None:
        from lxml import etree

        cfg = self.switch.config
        argv = separate_string(args or "", " ", 4)
        obj = None
        if not args:
            stream.write("-ERR bad args\n")
            return
        if len(argv) == 1 and argv[0].lower() == "root":
            obj = cfg.root
        elif len(argv) == 1:
            secs = cfg.sections(argv[0])
            obj = secs[0] if secs else None
            if obj is None:
                stream.write("can't find anything\n")
        elif len(argv) == 4:
            obj = cfg.lookup(argv[0], argv[1], argv[2], argv[3])
            if obj is None:
                stream.write("can't find anything\n")
        else:
            stream.write("-ERR bad args\n")
            return
        if obj is not None:
            stream.write(etree.tostring(obj, encoding="unicode", with_tail=False))



def declare(module: Any) -> None:
    u = UtilApis(module.switch)
    add = module.add_api
    add("cond", "Evaluate a conditional", "<expr> ? <true val> : <false val>", u.cond)
    add("regex", "Evaluate a regex", "<data>|<pattern>[|<subst string>][n|b]", u.regex)
    add("replace", "Replace a string", "<data>|<string1>|<string2>", u.replace)
    add("url_encode", "Url encode a string", "<string>", u.url_encode)
    add("url_decode", "Url decode a string", "<string>", u.url_decode)
    add("escape", "Escape a string", "<data>", u.escape)
    add("md5", "Return md5 hash", "<data>", u.md5)
    add("toupper", "Upper Case a string", "<string>", u.toupper)
    add("tolower", "Lower Case a string", "<string>", u.tolower)
    add("sql_escape", "Escape a string to prevent sql injection", "<string>", u.sql_escape)
    add("quote_shell_arg", "Quote/escape a string for use on shell command line", "<data>",
        u.quote_shell_arg)
    add("coalesce", "Return first nonempty parameter", "[^^<delim>]<value1>,<value2>,...", u.coalesce)
    add("strftime_tz", "Display formatted time of timezone",
        "<timezone_name> [<epoch>|][format string]", u.strftime_tz)
    add("msleep", "Sleep N milliseconds", "<milliseconds>", u.msleep)
    add("time_test", "Show time jitter", "<mss> [count]", u.time_test)
    add("file_exists", "Check if a file exists on server", "<file>", u.file_exists)
    add("system", "Execute a system command", SYSTEM_SYNTAX, u.system)
    add("bg_system", "Execute a system command in the background", SYSTEM_SYNTAX, u.bg_system)
    add("xml_wrap", "Wrap another api command in xml", "<command> <args>", u.xml_wrap)
    add("xml_locate", "Find some xml", "[root | <section> <tag> <tag_attr_name> <tag_attr_val>]",
        u.xml_locate)


__all__ = ["cond", "regex_api", "replace_api", "escape", "declare"]


# -- network and process APIs ----------------------------------------------------------------
def _lan(ip: str) -> bool:
    import ipaddress

    try:
        a = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return False
    return a.is_private or a.is_loopback or a.is_link_local


class NetApis:
    def __init__(self, switch: Any) -> None:
        self.switch = switch
        self._cpu0 = (0.0, 0.0)

    def is_lan_addr(self, args: str, session: Any, stream: Any) -> None:
        stream.write("true" if _lan(args) else "false")

    def gethost(self, args: str, session: Any, stream: Any) -> None:
        import socket

        try:
            stream.write(socket.gethostbyname(args.strip()) if args.strip() else "!err!")
        except OSError:
            stream.write("!err!")

    def getcputime(self, args: str, session: Any, stream: Any) -> None:
        t = os.times()
        if (args or "").strip().lower() == "reset":
            self._cpu0 = (t.user, t.system)
            return
        stream.write(f"{int((t.user - self._cpu0[0]) * 1000)}:{int((t.system - self._cpu0[1]) * 1000)}")

    def xml_flush_cache(self, args: str, session: Any, stream: Any) -> None:
        stream.write("+OK\n")  # fsd keeps no XML lookup cache

    def uuid_break_alias(self, args: str, session: Any, stream: Any) -> None:
        stream.write(self.switch.api_execute("uuid_break", args))


def declare_net(module: Any) -> None:
    n = NetApis(module.switch)
    add = module.add_api
    add("is_lan_addr", "See if an ip is a lan addr", "<ip>", n.is_lan_addr)
    add("gethost", "gethostbyname", "", n.gethost)
    add("host_lookup", "Lookup host", "<hostname>", n.gethost)
    add("getcputime", "Gets CPU time in milliseconds (user,kernel)", "[reset]", n.getcputime)
    add("xml_flush_cache", "Clear xml cache", "<id> <key> <val>", n.xml_flush_cache)
    add("break", "uuid_break", "<uuid> [all]", n.uuid_break_alias)
