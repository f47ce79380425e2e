"""Say and phrase macros, the way switch_ivr_say / switch_ivr_phrase_macro work.

Languages live in the ``languages`` section (conf/lang/<lang>/*.xml)::

    <language name="en" say-module="en" sound-prefix="$${sounds_dir}/en/us/callie"
              tts-engine="tts_commandline" tts-voice="en">
      <phrases><macros>
        <macro name="msgcount" pause="0">
          <input pattern="^(\\d+)$" break_on_match="true">
            <match>
              <action function="play-file" data="voicemail/vm-you_have.wav"/>
              <action function="say" data="$1" method="pronounced" type="items"/>
            </match>
            <nomatch> ... </nomatch>
          </input>
        </macro>
      </macros></phrases>
    </language>

The element is found with ``switch.config.lookup("languages", "language", "name", lang)``
so XML handlers (mod_lua's xml_handler) can answer too.  For each ``<input>`` the pattern
is matched against the phrase data; ``<match>`` actions run on a match, ``<nomatch>``
actions otherwise; ``break_on_match="true"`` stops after a matching input.  ``$1``…``$9``
in action data are the captures; ``${var}`` is expanded against the channel.  Actions:
play-file, say, execute, speak-text, phrase (a nested macro), break.
"""

from __future__ import annotations

import re
from typing import Any

from fsd.log import DEBUG, ERR, log
from fsd.media.collect import compile_fs_regex
from fsd.media.port import PlaybackResult
from fsd.truth import is_true

_CAPTURE = re.compile(r"\$(\d)")


class SayError(Exception):
    """A say request that cannot be turned into files (unknown type, bad input…)."""


# ---------------------------------------------------------------------------- language
def find_language(switch: Any, lang: str) -> Any:
    cfg = getattr(switch, "config", None)
    if cfg is None or not lang:
        return None
    return cfg.lookup("languages", "language", "name", lang)


def language_prefix(session: Any, lang_el: Any) -> str | None:
    if lang_el is None:
        return None
    value = lang_el.get("sound-prefix") or lang_el.get("sound-path")
    return session.expand(value) if value else None


# ---------------------------------------------------------------------------- say
def say_files(session: Any, text: str, module_name: str, say_type: str, say_method: str,
              gender: str = "") -> tuple[list[str], str | None]:
    """(files, sound prefix) for a say request; raises SayError with the reason."""
    module, _, lang = (module_name or "").partition(":")
    module = module.strip().lower()
    lang = (lang or session.get_variable("language") or module or "en").strip()
    if not module or not say_type or not say_method:
        raise SayError("invalid args: need module, type and method")
    lang_el = find_language(session.switch, lang)
    if lang_el is not None:
        module = (lang_el.get("say-module") or lang_el.get("module") or module).lower()
    iface = session.switch.says.get(module)
    if iface is None:
        raise SayError(f"no say module for language [{module}]")
    try:
        files = iface.say(session, text or "", say_type, say_method, gender or "")
    except (ValueError, KeyError) as exc:
        raise SayError(str(exc)) from exc
    if not files:
        raise SayError(f"nothing to say for [{text}] ({say_type}/{say_method})")
    return list(files), language_prefix(session, lang_el)


# ---------------------------------------------------------------------------- macros
def find_macro(lang_el: Any, name: str) -> Any:
    for macro in lang_el.iter("macro"):
        if macro.get("name") == name:
            return macro
    return None


def substitute(template: str, match: Any) -> str:
    """Replace ``$1``…``$9`` with the captures (empty when there is none)."""
    if match is None:
        return template

    def repl(m: re.Match) -> str:
        n = int(m.group(1))
        try:
            return match.group(n) or ""
        except IndexError:
            return ""

    return _CAPTURE.sub(repl, template)


def run_macro(session: Any, name: str, data: str = "", lang: str | None = None,
              depth: int = 0, **kw: Any) -> PlaybackResult:
    """Run phrase macro ``name`` (``name@lang`` picks the language) on ``data``."""
    from fsd import session_media as sm

    if "@" in name:
        name, _, at_lang = name.partition("@")
        lang = lang or at_lang
    lang = lang or session.get_variable("language") or "en"
    if depth > 10:
        return sm._error(name, f"phrase {name}: macros nested too deep", session)
    lang_el = find_language(session.switch, lang)
    if lang_el is None:
        return sm._error(name, f"phrase {name}: can't find language {lang}", session)
    macro = find_macro(lang_el, name)
    if macro is None:
        return sm._error(name, f"phrase: can't find macro {name} in language {lang}", session)
    prefix = language_prefix(session, lang_el)
    module = lang_el.get("say-module") or lang_el.get("module") or lang
    tts_engine = lang_el.get("tts-engine")
    tts_voice = lang_el.get("tts-voice")
    try:
        pause = max(0, int(macro.get("pause") or 0))
    except ValueError:
        pause = 0
    log(DEBUG, f"Handle phrase {name}({data}) lang {lang}", uuid=session.uuid)
    result = PlaybackResult("done", name=name)
    for inp in macro.iter("input"):
        pattern = inp.get("pattern") or ".*"
        rx = compile_fs_regex(pattern)
        if rx is None:
            log(ERR, f"phrase {name}: bad pattern {pattern!r}", uuid=session.uuid)
            continue
        m = rx.search(data or "")
        branch = inp.find("match" if m else "nomatch")
        if branch is not None:
            for action in branch.iter("action"):
                func = (action.get("function") or "").lower()
                adata = session.expand(substitute(action.get("data") or "", m))
                if func == "break":
                    return result
                result = _run_action(session, func, adata, action, prefix, module, tts_engine,
                                     tts_voice, lang, depth, kw)
                if result.status not in ("done", "error"):
                    return result
                if pause:
                    sm.sleep(session, pause)
        if m and is_true(inp.get("break_on_match")):
            break
    if result.status == "error":
        result = PlaybackResult("done", name=name, errors=result.errors)
    return result


def _run_action(session: Any, func: str, data: str, action: Any, prefix: str | None,
                module: str, tts_engine: str | None, tts_voice: str | None, lang: str,
                depth: int, kw: dict) -> PlaybackResult:
    from fsd import session_media as sm

    if func == "play-file":
        return sm.play_file(session, data, prefix=prefix, **kw)
    if func == "say":
        return sm.say(session, data, f"{module}:{lang}", action.get("type") or "",
                      action.get("method") or "", action.get("gender") or "", **kw)
    if func == "speak-text":
        engine = tts_engine or session.get_variable("tts_engine")
        voice = tts_voice or session.get_variable("tts_voice")
        return sm.speak(session, data, engine=engine, voice=voice, **kw)
    if func == "phrase":
        sub, _, sub_data = data.partition(":")
        return run_macro(session, sub, sub_data, lang, depth + 1, **kw)
    if func == "execute":
        app, args = data, ""
        if "(" in data and data.endswith(")"):
            app, _, args = data[:-1].partition("(")
        elif " " in data:
            app, _, args = data.partition(" ")
        session.execute(app.strip(), args)
        return PlaybackResult("done", name=data)
    return sm._error(data, f"phrase: unknown action function [{func}]", session)
