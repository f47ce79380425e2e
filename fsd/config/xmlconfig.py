"""The loaded XML configuration: sections, lookups, dynamic bindings, reload.

``XmlConfig.load(conf_dir, variables)`` pre-processes ``freeswitch.xml`` and parses it.  A
parse error raises :class:`ConfigError` naming the user's file and line (not the assembled
text's line).  ``lookup`` asks dynamic bindings first (modules' ``bind_xml``), then the
static tree, as FreeSWITCH's ``switch_xml_locate`` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from lxml import etree

from fsd.config.preprocess import ConfigError, Preprocessed, Preprocessor

ROOT_FILE = "freeswitch.xml"

#: Section names and the aliases FreeSWITCH matches (e.g. lua.conf's bindings).
SECTIONS = ("configuration", "dialplan", "directory", "phrases", "languages", "chatplan", "channels")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True,
                           huge_tree=True, remove_comments=True)


class XmlConfig:
    """One immutable parse of the configuration tree."""

    def __init__(self, root: etree._Element, pre: Preprocessed, conf_dir: str) -> None:
        self.root = root
        self.pre = pre
        self.conf_dir = conf_dir
        self.bindings: Iterable[Any] = ()  # set by the switch: modules' XmlBinding list

    # -- loading ------------------------------------------------------------------
    @classmethod
    def load(cls, conf_dir: str, variables: dict[str, str] | None = None,
             warn: Callable[[str], None] | None = None) -> XmlConfig:
        root_file = os.path.join(conf_dir, ROOT_FILE)
        if not os.path.isfile(root_file):
            raise ConfigError("root configuration file is missing", root_file)
        pre = Preprocessor(conf_dir, variables, warn).run(root_file)
        return cls(parse_text(pre), pre, conf_dir)

    @property
    def variables(self) -> dict[str, str]:
        """Globals defined by ``X-PRE-PROCESS set`` (vars.xml)."""
        return self.pre.variables

    # -- static lookups -----------------------------------------------------------
    def section(self, name: str) -> etree._Element | None:
        """The ``<section name=...>`` element (case-insensitive)."""
        for sec in self.root.iter("section"):
            if (sec.get("name") or "").lower() == name.lower():
                return sec
        return None

    def sections(self, name: str) -> list[etree._Element]:
        """All sections of that name (a tree may split one section over several files)."""
        return [s for s in self.root.iter("section") if (s.get("name") or "").lower() == name.lower()]

    def get_configuration(self, name: str, params: dict[str, str] | None = None) -> etree._Element | None:
        """``<configuration name="x.conf">``; accepts ``x`` or ``x.conf``."""
        want = name if name.endswith(".conf") else name + ".conf"
        return self.lookup("configuration", "configuration", "name", want, params)

    def lookup(self, section: str, tag: str, key: str, value: str,
               params: dict[str, str] | None = None) -> etree._Element | None:
        """Find ``<tag key="value">`` in ``section``: bindings first, then the static tree."""
        for doc in self._binding_documents(section, tag, key, value, params or {}):
            found = _find_in(doc, section, tag, key, value)
            if found is not None:
                return found
        for sec in self.sections(section):
            found = _find_tag(sec, tag, key, value)
            if found is not None:
                return found
        return None

    def find_user(self, user: str, domain: str = "",
                  params: dict[str, str] | None = None) -> tuple[etree._Element, etree._Element] | None:
        """(domain element, user element) from the directory, honouring ``number-alias``.
        Dynamic bindings (e.g. a Lua xml-handler) are asked first, with the ``user`` and
        ``domain`` parameters FreeSWITCH passes; then the static tree."""
        p = {"user": user, "domain": domain, "action": "user_call", **(params or {})}
        for doc in self._binding_documents("directory", "domain", "name", domain, p):
            found = _user_in(doc.iter("domain"), user, domain)
            if found:
                return found
        for sec in self.sections("directory"):
            found = _user_in(sec.iter("domain"), user, domain)
            if found:
                return found
        return None

    def _binding_documents(self, section: str, tag: str, key: str, value: str,
                           params: dict[str, str]):
        """Yield each parsed document the bindings for ``section`` answer with."""
        from fsd.log import ERR, log

        for binding in list(self.bindings):
            if section.lower() not in binding.sections and not any(
                section.lower().startswith(s) for s in binding.sections
            ):
                continue
            try:
                text = binding.func(section, tag, key, value, params)
            except Exception as e:  # a broken handler must not break lookups
                log(ERR, f"XML binding of {binding.module} failed: {e}")
                continue
            if not text:
                continue
            try:
                yield etree.fromstring(text.encode() if isinstance(text, str) else text, _parser())
            except etree.XMLSyntaxError as e:
                log(ERR, f"Error Parsing XML Result! ({binding.module}: {e})")


def user_params(dom_el: etree._Element, user_el: etree._Element) -> dict[str, str]:
    """A directory user's ``<params>`` merged as FreeSWITCH's xml_locate_user_merged does:
    the domain's, then the user's group's, then the user's own, the closest winning; names
    lower-cased."""
    group_el = next(iter(user_el.iterancestors("group")), None)
    out: dict[str, str] = {}
    for el in (dom_el, group_el, user_el):
        params = el.find("params") if el is not None else None
        if params is None:
            continue
        for p in params.findall("param"):
            out[(p.get("name") or "").lower()] = p.get("value", "")
    return out


def _user_in(domains, user: str, domain: str) -> tuple[etree._Element, etree._Element] | None:
    for dom in domains:
        if domain and (dom.get("name") or "").lower() != domain.lower():
            continue
        for u in dom.iter("user"):
            if u.get("id") == user or u.get("number-alias") == user:
                return dom, u
    return None


def parse_text(pre: Preprocessed) -> etree._Element:
    """Parse the assembled text; map an error back to the user's file and line."""
    try:
        return etree.fromstring(pre.text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as e:
        line = e.lineno or (e.position[0] if getattr(e, "position", None) else 0)
        file, fline = pre.origin(line)
        msg = str(e.msg if hasattr(e, "msg") else e)
        # lxml reports "line N" inside its message too; drop the assembled-text numbers.
        msg = msg.split(", line ")[0]
        raise ConfigError(msg, file, fline) from e


def _find_tag(scope: etree._Element, tag: str, key: str, value: str) -> etree._Element | None:
    for el in scope.iter(tag):
        if not key or (el.get(key) or "").lower() == value.lower():
            return el
    return None


def _find_in(doc: etree._Element, section: str, tag: str, key: str, value: str) -> etree._Element | None:
    secs = [s for s in doc.iter("section") if (s.get("name") or "").lower() == section.lower()]
    for s in secs or [doc]:
        found = _find_tag(s, tag, key, value)
        if found is not None:
            return found
    return None


def params_of(el: etree._Element | None, child: str = "settings") -> dict[str, str]:
    """``<settings><param name=".." value=".."/>`` → dict with lower-case names."""
    out: dict[str, str] = {}
    if el is None:
        return out
    scope = el.find(child) if child else el
    if scope is None:
        return out
    for p in scope.iter("param"):
        name = p.get("name")
        if name:
            out[name.lower()] = p.get("value", "")
    return out
