"""Evaluating one ``<extension>``: conditions, regexes, time checks, actions, break rules.

This mirrors mod_dialplan_xml's ``parse_exten`` step by step, because users depend on its
exact outcomes (which actions were collected, and whether hunting stops here):

* Each ``<condition>`` first runs its time attributes (if any), then either its
  ``field``/``expression`` or, with a ``regex="all|any|xor"`` attribute, its ``<regex>``
  children.  A passing time check or regex makes the condition true; with both present
  either one passing is enough (that is what FreeSWITCH does).
* True: ``<action>``s are collected (``$N`` replaced by the captures when the expression
  has a group); false: ``<anti-action>``s are collected verbatim.
* ``break``: ``on-false`` (default) stops at a false condition, ``on-true`` at a true one,
  ``always`` after this condition, ``never`` never.
* The extension "proceeds" (hunting stops unless ``continue="true"``) when the last
  evaluated condition was true or ran anti-actions.  Actions of earlier true conditions
  stay collected even if a later one fails — exactly as in FreeSWITCH.
* ``inline="true"`` runs the application right away (it must be routing-exec capable),
  so later conditions see what it set.  Field and expression are ``${}``-expanded when
  evaluated; action data is not (the channel expands it when the application runs).
* Nested ``<condition>`` inside a true condition is evaluated recursively
  (``require-nested``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fsd.log import DEBUG, ERR, WARNING, logger
from fsd.numbers import is_digits
from fsd.truth import is_true

from . import regexmatch, timematch

BREAK_ON_TRUE, BREAK_ON_FALSE, BREAK_ALWAYS, BREAK_NEVER = range(4)
_BREAKS = {"on-true": BREAK_ON_TRUE, "on-false": BREAK_ON_FALSE, "always": BREAK_ALWAYS,
           "never": BREAK_NEVER}
MAX_RECUR = 100
_TIME_ATTRS = frozenset(timematch.TIME_ATTRS)


class Extension(list):
    """The hunt result: a list of ``(application, data)`` with the extension's name.

    Truthy even when empty: an extension whose only actions ran inline was still
    *found* (FreeSWITCH then executes nothing and hangs up with NORMAL_CLEARING rather
    than NO_ROUTE_DESTINATION)."""

    def __init__(self, name: str, number: str) -> None:
        super().__init__()
        self.name = name
        self.number = number

    def __bool__(self) -> bool:
        return True


@dataclass
class Capture:
    """The regex result whose groups feed ``$N`` and ``DP_MATCH``."""

    match: Any  # regex.Match | None
    field_data: str


@dataclass
class ExtensionParser:
    """Evaluates extensions against one session; collects into :attr:`extension`."""

    session: Any
    now: datetime | float | None = None
    extension: Extension | None = None
    _chan: str = field(default="", init=False)
    dbg: bool = field(default=False, init=False)  # build DEBUG lines only if they can show

    def __post_init__(self) -> None:
        s = self.session
        self.dbg = logger.level >= DEBUG
        self._chan = getattr(s, "name", "") or (s.caller_profile.get_field("chan_name") or "")

    # -- helpers ---------------------------------------------------------------------
    def log(self, level: int, text: str) -> None:
        if level > logger.level:
            return
        try:
            self.session.log(level, text)
        except Exception:  # logging must never break routing
            pass

    def _expand(self, text: str) -> str:
        if "${" not in text:
            return text
        return self.session.switch.expand(text, self.session)

    def _field_data(self, fld: str) -> str:
        # "$" in the field means an expression over variables; a bare name is a
        # caller-profile field (switch_caller_get_field_by_name), never a variable.
        if "$" in fld:
            return self._expand(fld)
        return self.session.caller_profile.get_field(fld) or ""

    @staticmethod
    def _expression(el: Any) -> str:
        child = el.find("expression")
        if child is not None:
            return child.text or ""
        return el.get("expression", "")

    def _time_match(self, el: Any) -> int:
        if _TIME_ATTRS.isdisjoint(el.attrib.keys()):
            return -1  # the common case: no clock, no timezone lookups
        s = self.session
        offset: int | None = None
        raw = s.get_variable("tod_tz_offset")
        if raw is not None and is_digits(raw.strip().lstrip("+-")):
            offset = int(raw)
        return timematch.datetime_check(
            el.attrib, self.now, offset_hours=offset, tzname=s.get_variable("timezone"),
            log=lambda t: self.log(WARNING, t))

    def _perform(self, data: str, expression: str, exten_name: str) -> Any:
        def on_error(msg: str) -> None:
            self.log(ERR, f"Dialplan: {self._chan} Regex error in extension [{exten_name}] "
                          f"/{expression}/: {msg}")
        return regexmatch.perform(data, expression, on_error)

    def _ensure_extension(self, name: str) -> Extension:
        if self.extension is None:
            self.extension = Extension(name, self.session.caller_profile.destination_number)
        return self.extension

    def _exec_inline(self, app: str, data: str) -> None:
        s = self.session
        try:
            # the core refuses unknown applications and those not flagged for inline use
            s.execute_inline(app, data)
        except Exception as e:  # an app failing inline must not abort the hunt
            self.log(ERR, f"inline application {app} failed: {type(e).__name__}: {e}")

    def _emit(self, kind: str, el: Any, data: str, exten_name: str, space: str) -> None:
        app = el.get("application", "")
        inline = is_true(el.get("inline"))
        loop_attr = el.get("loop")
        count = timematch.atol(loop_attr) if loop_attr is not None else 1
        ext = self._ensure_extension(exten_name)
        for _ in range(max(count, 0)):
            if self.dbg:
                self.log(DEBUG, f"{space}Dialplan: {self._chan} {kind} {app}({data}) {'INLINE' if inline else ''}")
            if inline:
                self._exec_inline(app, data)
            else:
                ext.append((app, data))

    def _set_captures(self, var: str, capture: Capture) -> None:
        s = self.session
        s.set_variable(var, None)
        value = regexmatch.array_value(regexmatch.capture_values(capture.match))
        if value is not None:
            s.set_variable(var, value)

    def _clear_regex_vars(self) -> None:
        s = self.session
        variables = getattr(s, "variables", None)
        if isinstance(variables, dict):
            for name in [k for k in list(variables) if k.startswith("DP_REGEX_MATCH")]:
                s.set_variable(name, None)

    # -- the evaluation ----------------------------------------------------------------
    def parse(self, xexten: Any, exten_name: str, recur: int = 0) -> bool:
        """Evaluate one extension (or a nested condition block); True = it proceeds."""
        proceed = False
        req_nest = True
        orig_name = exten_name
        space = ""
        if recur:
            if recur > MAX_RECUR:
                self.log(ERR, "Recursion LIMIT!")
                return False
            exten_name = f"{exten_name}_recur_{recur}"
            space = "|" + "-" * (4 * recur - 1) + " "
            if xexten.get("require-nested") is not None:
                req_nest = is_true(xexten.get("require-nested"))
            if self.dbg:
                self.log(DEBUG, f"{space}Dialplan: Processing recursive conditions level:{recur} "
                                f"[{exten_name}] require-nested={'TRUE' if req_nest else 'FALSE'}")

        for xcond in xexten.findall("condition"):
            anti_action = True
            brk_attr = xcond.get("break")
            brk = _BREAKS.get((brk_attr or "").lower(), BREAK_ON_FALSE)
            if brk_attr is not None and brk_attr.lower() not in _BREAKS:
                brk_attr = None
            brk_shown = brk_attr or "on-false"

            tm = self._time_match(xcond)
            if tm == 1:
                if self.dbg:
                    self.log(DEBUG, f"{space}Dialplan: {self._chan} Date/Time Match (PASS) [{exten_name}] break={brk_shown}")
                anti_action = False
                proceed = True
            elif tm == 0:
                if self.dbg:
                    self.log(DEBUG, f"{space}Dialplan: {self._chan} Date/TimeMatch (FAIL) [{exten_name}] break={brk_shown}")
                proceed = False

            capture: Capture | None = None
            if xcond.get("regex") is not None:
                anti_action, proceed, capture = self._regex_children(
                    xcond, exten_name, space, anti_action, proceed)
            else:
                expression = self._expand(self._expression(xcond))
                fld = xcond.get("field")
                if fld is not None:
                    data = self._field_data(fld)
                    m = self._perform(data, expression, exten_name)
                    proceed = m is not None
                    if self.dbg:
                        self.log(DEBUG, f"{space}Dialplan: {self._chan} Regex ({'PASS' if m else 'FAIL'}) "
                                        f"[{exten_name}] {fld}({data}) =~ /{expression}/ break={brk_shown}")
                    if m is not None:
                        anti_action = False
                    if "(" in expression:
                        capture = Capture(m, data)
                elif tm == -1:
                    if self.dbg:
                        self.log(DEBUG, f"{space}Dialplan: {self._chan} Absolute Condition [{exten_name}]")
                    anti_action = False
                    proceed = True

            if anti_action:
                for xa in xcond.findall("anti-action"):
                    data = xa.text if (xa.text or "").strip() else xa.get("data", "")
                    self._emit("ANTI-Action", xa, data, exten_name, space)
                    proceed = True
            else:
                if capture is not None:
                    self._set_captures("DP_MATCH", capture)
                for xa in xcond.findall("action"):
                    data = xa.text if (xa.text or "").strip() else xa.get("data", "")
                    if capture is not None:
                        data = regexmatch.substitute(capture.match, data)
                    self._emit("Action", xa, data, exten_name, space)

            if (not anti_action and brk == BREAK_ON_TRUE) or (anti_action and brk == BREAK_ON_FALSE) \
                    or brk == BREAK_ALWAYS:
                break

            if proceed and xcond.find("condition") is not None:
                proceed = self.parse(xcond, orig_name, recur + 1)
                if not proceed:
                    if brk == BREAK_NEVER:
                        continue
                    break

        if not req_nest:
            proceed = True
        return proceed

    def _regex_children(self, xcond: Any, exten_name: str, space: str, anti_action: bool,
                        proceed: bool) -> tuple[bool, bool, Capture | None]:
        """``regex="all|any|xor"``: evaluate the ``<regex>`` children.

        Captures for ``$N``/``DP_MATCH`` come from the last evaluated child whose
        expression has a group (``DP_REGEX_MATCH_<n>`` holds each child's own); with
        ``any``, from the child that passed."""
        rule = (xcond.get("regex") or "").lower()
        all_ = rule == "all"
        xor = rule == "xor"
        shown = "all" if all_ else "any"
        passed = failed = total = 0
        capture: Capture | None = None
        self._clear_regex_vars()
        for xr in xcond.findall("regex"):
            rtm = self._time_match(xr)
            if rtm == 1:
                if self.dbg:
                    self.log(DEBUG, f"{space}Dialplan: {self._chan} Date/Time Match (PASS) [{exten_name}]")
            elif rtm == 0:
                if self.dbg:
                    self.log(DEBUG, f"{space}Dialplan: {self._chan} Date/TimeMatch (FAIL) [{exten_name}]")
            expression = self._expand(self._expression(xr))
            total += 1
            fld = xr.get("field")
            if fld is not None:
                data = self._field_data(fld)
                m = self._perform(data, expression, exten_name)
                proceed = m is not None
                if self.dbg:
                    self.log(DEBUG, f"{space}Dialplan: {self._chan} Regex ({'PASS' if m else 'FAIL'}) "
                                    f"[{exten_name}] {fld}({data}) =~ /{expression}/ match={shown}")
                cap = Capture(m, data) if "(" in expression else None
                if m is not None:
                    passed += 1
                    if not all_ and not xor:
                        if cap is not None:
                            self._set_captures(f"DP_REGEX_MATCH_{total}", cap)
                        capture = cap
                        break
                else:
                    failed += 1
                    if all_:
                        break
                if cap is not None:
                    self._set_captures(f"DP_REGEX_MATCH_{total}", cap)
                    capture = cap
            elif rtm in (-1, 1):
                if rtm == -1:
                    if self.dbg:
                        self.log(DEBUG, f"{space}Dialplan: {self._chan} Absolute Condition [{exten_name}] match={shown}")
                passed += 1
                proceed = True
                if not all_ and not xor:
                    break
            else:
                failed += 1
                if all_:
                    break
        if xor:
            if passed == 1:
                anti_action = False
        elif (all_ and not failed) or (not all_ and passed):
            anti_action = False
        # FreeSWITCH takes "proceed" from whichever child it saw last (so a failed
        # regex="all" can stop the hunt); fsd uses the condition's overall result.
        proceed = not anti_action
        return anti_action, proceed, capture
