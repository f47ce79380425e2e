"""FreeSWITCH's XML pre-processor: includes, ``set``, ``$${var}`` — textual, like the
original, but remembering where each output line came from so that a parse error can name
the file and line the user wrote.

Supported commands (``<X-PRE-PROCESS cmd="..." data="..."/>``):
``include`` (a glob, relative to the conf directory), ``set`` (``name=value``),
``exec-set`` (``name=command``: the command's output), ``env-set`` (``name=ENVVAR``).
An included file's ``<include>``/``</include>`` wrapper lines are dropped, as FreeSWITCH does.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

_PRE = re.compile(
    r"""<X-PRE-PROCESS\s+cmd\s*=\s*["']([^"']*)["']\s+data\s*=\s*["']([^"']*)["']\s*/?>""",
    re.IGNORECASE,
)
_GLOBAL_VAR = re.compile(r"\$\$\{([^}]*)\}")
_INCLUDE_WRAP = re.compile(r"^\s*(</?include>|<\?xml[^>]*\?>)\s*$", re.IGNORECASE)
MAX_DEPTH = 32


class ConfigError(Exception):
    """A configuration problem, with the file and line it is about."""

    def __init__(self, message: str, file: str = "", line: int = 0) -> None:
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}{message}")
        self.message = message


@dataclass
class Preprocessed:
    """The assembled text, its per-line origins and the variables that ``set`` defined."""

    text: str
    origins: list[tuple[str, int]] = field(default_factory=list)  # output line -> (file, line)
    variables: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def origin(self, line: int) -> tuple[str, int]:
        """(file, line) of output line ``line`` (1-based)."""
        if 1 <= line <= len(self.origins):
            return self.origins[line - 1]
        return ("", 0)


class Preprocessor:
    """Runs the pre-processor over a root file.  ``variables`` starts with the caller's
    globals (directory variables etc.) and gains every ``set``."""

    def __init__(self, conf_dir: str, variables: dict[str, str] | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.conf_dir = conf_dir
        self.variables: dict[str, str] = dict(variables or {})
        self.warn = warn or (lambda msg: None)
        self._lines: list[str] = []
        self._origins: list[tuple[str, int]] = []
        self._files: list[str] = []

    def run(self, root: str) -> Preprocessed:
        self._include_file(root, depth=0, strip_wrapper=False)
        return Preprocessed("\n".join(self._lines) + "\n", self._origins, self.variables, self._files)

    def expand(self, text: str) -> str:
        """Replace ``$${name}`` with the variable's value (unknown names become empty)."""
        if "$${" not in text:
            return text
        return _GLOBAL_VAR.sub(lambda m: self.variables.get(m.group(1), ""), text)

    # -- internals ----------------------------------------------------------------
    def _include_file(self, path: str, depth: int, strip_wrapper: bool,
                      from_file: str = "", from_line: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise ConfigError(f"includes nested deeper than {MAX_DEPTH} (a loop?)", from_file, from_line)
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                content = fh.read()
        except OSError as e:
            raise ConfigError(f"cannot read {path}: {e.strerror}", from_file, from_line) from e
        self._files.append(path)
        in_comment = False
        for lineno, raw in enumerate(content.splitlines(), start=1):
            line = raw
            if strip_wrapper and _INCLUDE_WRAP.match(line):
                continue
            m = _PRE.search(line) if "X-PRE-PROCESS" in line.upper() else None
            comment_before = in_comment or (m is not None and "<!--" in line[: m.start()]
                                            and "-->" not in line[line.index("<!--"): m.start()])
            in_comment = self._comment_state(line, in_comment)
            if m and not comment_before:
                self._command(m.group(1).lower(), m.group(2), path, lineno, depth)
                rest = (line[: m.start()] + line[m.end():]).strip()
                if rest:
                    self._emit(self.expand(rest), path, lineno)
                continue
            self._emit(self.expand(line), path, lineno)

    @staticmethod
    def _comment_state(line: str, in_comment: bool) -> bool:
        pos = 0
        while True:
            if in_comment:
                end = line.find("-->", pos)
                if end < 0:
                    return True
                in_comment, pos = False, end + 3
            else:
                start = line.find("<!--", pos)
                if start < 0:
                    return False
                in_comment, pos = True, start + 4

    def _emit(self, text: str, file: str, line: int) -> None:
        # A variable's value may hold newlines; keep the origin for each produced line.
        for part in text.split("\n"):
            self._lines.append(part)
            self._origins.append((file, line))

    def _command(self, cmd: str, data: str, file: str, line: int, depth: int) -> None:
        data = self.expand(data)
        if cmd == "include":
            pattern = data if os.path.isabs(data) else os.path.join(self.conf_dir, data)
            matches = sorted(glob.glob(pattern))
            if not matches and not glob.has_magic(pattern):
                raise ConfigError(f"included file {data} does not exist", file, line)
            for m in matches:
                if os.path.isfile(m):
                    self._include_file(m, depth + 1, strip_wrapper=True, from_file=file, from_line=line)
        elif cmd in ("set", "exec-set", "env-set", "stun-set"):
            name, sep, value = data.partition("=")
            if not sep or not name.strip():
                raise ConfigError(f'X-PRE-PROCESS {cmd} needs "name=value", got "{data}"', file, line)
            name = name.strip()
            if cmd == "exec-set":
                try:
                    value = subprocess.run(value, shell=True, capture_output=True, text=True,
                                           timeout=10).stdout.strip()
                except (OSError, subprocess.SubprocessError) as e:
                    self.warn(f"{file}:{line}: exec-set {name} failed: {e}")
                    value = ""
            elif cmd == "env-set":
                value = os.environ.get(value.strip(), "")
            elif cmd == "stun-set":
                # No network here: a stun: value cannot be resolved; keep what follows it.
                value = value.split(":", 1)[-1] if value.startswith("stun:") else value
            self.variables[name] = value
        else:
            self.warn(f"{file}:{line}: unknown X-PRE-PROCESS command {cmd!r} ignored")
