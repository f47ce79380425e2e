"""Phrase macros from the languages section."""

from __future__ import annotations

from fsd.module import XmlBinding


def _playbacks(events, b):
    return [e.get_header("Playback-File-Path").rsplit("/snd/", 1)[1].removesuffix(".wav")
            for e in events.of("PLAYBACK_START", b)]


def _phrase(sw, events, h, args, extra=""):
    a = h.originate(sw, f"{{language=tl,ph_args='{args}'{extra}}}loopback/phrase/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "phrase_done") == "1")
    return a, b


def test_macro_picks_the_matching_input(sw, events, h):
    cases = {
        "count,0": ["p/none"],  # break_on_match stops before the second input
        "count,3": ["p/you_have", "digits/3", "p/messages"],
        "count,21": ["p/you_have", "digits/20", "digits/1", "p/messages"],
        "count,abc": ["p/invalid"],  # the second input's <nomatch>
    }
    for args, expected in cases.items():
        events.events.clear()
        a, b = _phrase(sw, events, h, args)
        assert _playbacks(events, b) == expected, args
        sw.api_execute(f"uuid_kill {a}")


def test_execute_action_with_captures(sw, events, h):
    a, b = _phrase(sw, events, h, "setter,colour=blue")
    assert h.getvar(sw, b, "colour") == "blue"
    sw.api_execute(f"uuid_kill {a}")


def test_macro_at_language_and_missing_macro(sw, events, h):
    a = h.originate(sw, "{ph_args='count@tl,0'}loopback/phrase/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "phrase_done") == "1")
    assert _playbacks(events, b) == ["p/none"]
    a2, b2 = _phrase(sw, events, h, "no_such_macro,1")
    assert b2 in sw.sessions
    log = open(f"{sw.dirs.log}/fsd.log").read()
    assert "can't find macro no_such_macro in language tl" in log
    a3 = h.originate(sw, "{language=xx,ph_args='count,1'}loopback/phrase/m &park()")
    b3 = h.b_leg(sw, a3)
    assert h.wait_until(lambda: h.getvar(sw, b3, "phrase_done") == "1")
    assert "can't find language xx" in open(f"{sw.dirs.log}/fsd.log").read()
    sw.api_execute("hupall")


def test_languages_come_from_xml_handlers_too(sw, events, h):
    doc = f"""<document type="freeswitch/xml"><section name="languages">
      <language name="dyn" say-module="en" sound-prefix="{sw.dirs.base}/snd">
        <phrases><macros><macro name="hello">
          <input pattern="(.*)"><match>
            <action function="play-file" data="p/messages.wav"/>
            <action function="say" data="$1" method="iterated" type="number"/>
          </match></input>
        </macro></macros></phrases>
      </language></section></document>"""
    seen = []

    def handler(section, tag, key, value, params):
        seen.append((section, tag, key, value))
        return doc if value == "dyn" else None

    binding = XmlBinding({"languages"}, handler)
    sw.xml_bindings.append(binding)
    try:
        a, b = (None, None)
        a = h.originate(sw, "{language=dyn,ph_args='hello,12'}loopback/phrase/m &park()")
        b = h.b_leg(sw, a)
        assert h.wait_until(lambda: h.getvar(sw, b, "phrase_done") == "1")
        assert _playbacks(events, b) == ["p/messages", "digits/1", "digits/2"]
        assert ("languages", "language", "name", "dyn") in seen
    finally:
        sw.xml_bindings.remove(binding)
        sw.api_execute("hupall")
