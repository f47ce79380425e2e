"""regex="all|any|xor" with nested <regex>, inline actions, and the match helpers."""

from __future__ import annotations

import regex
from fsd_modules.mod_dialplan_xml import regexmatch

from fsd.log import ERR

MULTI = """
<context name="default">
  <extension name="multi">
    <condition regex="{rule}">
      <regex field="destination_number" expression="^(\\d{{2}})00$"/>
      <regex field="caller_id_number" expression="^(10)(\\d\\d)$"/>
      <action application="log" data="INFO $1 $2"/>
      <anti-action application="log" data="INFO anti"/>
    </condition>
  </extension>
  <extension name="fallback"><condition><action application="log" data="INFO fallback"/></condition></extension>
</context>"""


def _apps(ext):
    return [d for _, d in ext] if ext is not None else None


def test_regex_all_passes_with_captures_from_last_child(dp):
    dp.load(MULTI.format(rule="all"))
    s = dp.session("1200", caller_id_number="1042")
    assert _apps(dp.hunt(s)) == ["INFO 10 42"]
    assert s.get_variable("DP_REGEX_MATCH_1") == "ARRAY::1200|:12"
    assert s.get_variable("DP_REGEX_MATCH_2") == "ARRAY::1042|:10|:42"
    assert s.get_variable("DP_MATCH") == "ARRAY::1042|:10|:42"


def test_regex_all_fails_if_one_fails(dp):
    dp.load(MULTI.format(rule="all"))
    s = dp.session("1200", caller_id_number="2042")
    assert _apps(dp.hunt(s)) == ["INFO anti"]


def test_regex_all_failure_without_anti_actions_hunts_on(dp):
    dp.load(MULTI.format(rule="all").replace('<anti-action application="log" data="INFO anti"/>', ""))
    assert _apps(dp.hunt(dp.session("1200", caller_id_number="2042"))) == ["INFO fallback"]


def test_regex_any_uses_the_passing_child(dp):
    dp.load(MULTI.format(rule="any"))
    # First child fails (destination), second passes: its captures fill $1 $2.
    assert _apps(dp.hunt(dp.session("9999", caller_id_number="1042"))) == ["INFO 10 42"]
    # First child passes: evaluation stops there.
    assert _apps(dp.hunt(dp.session("1200", caller_id_number="x"))) == ["INFO 12 "]
    # None passes.
    assert _apps(dp.hunt(dp.session("9999", caller_id_number="x"))) == ["INFO anti"]


def test_unknown_regex_rule_means_any(dp):
    dp.load(MULTI.format(rule="whatever"))
    assert _apps(dp.hunt(dp.session("9999", caller_id_number="1042"))) == ["INFO 10 42"]


def test_regex_xor_needs_exactly_one(dp):
    dp.load(MULTI.format(rule="xor"))
    # Captures come from the last child with a group, here the one that failed.
    assert _apps(dp.hunt(dp.session("1200", caller_id_number="x"))) == ["INFO  "]
    assert _apps(dp.hunt(dp.session("9999", caller_id_number="1042"))) == ["INFO 10 42"]
    assert _apps(dp.hunt(dp.session("1200", caller_id_number="1042"))) == ["INFO anti"]
    assert _apps(dp.hunt(dp.session("9999", caller_id_number="x"))) == ["INFO anti"]


def test_regex_children_without_field_and_with_time(dp):
    dp.load("""
    <context name="default">
      <extension name="x">
        <condition regex="all">
          <regex/>
          <regex wday="1-7"/>
          <regex field="destination_number" expression="^1000$"/>
          <action application="log" data="INFO ok"/>
        </condition>
      </extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO ok"]
    dp.load("""
    <context name="default">
      <extension name="x">
        <condition regex="all">
          <regex year="1999"/>
          <regex field="destination_number" expression="^1000$"/>
          <action application="log" data="INFO ok"/>
          <anti-action application="log" data="INFO not in 1999"/>
        </condition>
      </extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO not in 1999"]


def test_regex_child_expression_is_expanded_and_broken_one_is_false(dp):
    dp.load("""
    <context name="default">
      <extension name="x">
        <condition regex="any">
          <regex field="destination_number" expression="^(10[0-"/>
          <regex field="${who}" expression="^${expected}$"/>
          <action application="log" data="INFO ok"/>
        </condition>
      </extension>
    </context>""")
    s = dp.session("1000", variables={"who": "bob", "expected": "bob"})
    assert _apps(dp.hunt(s)) == ["INFO ok"]
    assert any("[x]" in t and "^(10[0-" in t for t in dp.logs(ERR))


def test_inline_set_is_seen_by_later_conditions(dp):
    dp.load("""
    <context name="default">
      <extension name="prep" continue="true">
        <condition field="destination_number" expression="^(\\d+)$">
          <action application="set" data="dialed=$1" inline="true"/>
          <action application="set" data="late=1"/>
        </condition>
      </extension>
      <extension name="use">
        <condition field="${dialed}" expression="^1000$"/>
        <condition field="${late}" expression="^$">
          <action application="log" data="INFO dialed ${dialed}"/>
        </condition>
      </extension>
    </context>""")
    s = dp.session("1000")
    ext = dp.hunt(s)
    # The inline set ran during the hunt; the plain one is only queued.
    assert s.get_variable("dialed") == "1000"
    assert s.get_variable("late") is None
    assert list(ext) == [("set", "late=1"), ("log", "INFO dialed ${dialed}")]


def test_inline_within_one_extension_and_anti_action_inline(dp):
    dp.load("""
    <context name="default">
      <extension name="x">
        <condition field="destination_number" expression="^nomatch$" break="never">
          <anti-action application="set" data="flag=on" inline="true"/>
        </condition>
        <condition field="${flag}" expression="^on$">
          <action application="log" data="INFO flag seen"/>
        </condition>
      </extension>
    </context>""")
    s = dp.session("1000")
    assert _apps(dp.hunt(s)) == ["INFO flag seen"]
    assert s.get_variable("flag") == "on"


def test_only_inline_actions_still_finds_an_extension(dp):
    dp.load("""
    <context name="default">
      <extension name="x"><condition>
        <action application="set" data="a=b" inline="true"/>
      </condition></extension>
    </context>""")
    ext = dp.hunt(dp.session("1"))
    assert ext is not None and list(ext) == [] and bool(ext) is True


def test_inline_of_non_routing_app_is_refused(dp):
    dp.load("""
    <context name="default">
      <extension name="x"><condition>
        <action application="sleep" data="5000" inline="true"/>
        <action application="log" data="INFO after"/>
      </condition></extension>
    </context>""")
    s = dp.session("1")
    assert _apps(dp.hunt(s)) == ["INFO after"]
    assert "This application cannot be executed inline" in dp.logs(ERR)


def test_inline_unknown_app_hangs_up(dp):
    dp.load("""
    <context name="default">
      <extension name="x"><condition>
        <action application="no_such_app" data="x" inline="true"/>
      </condition></extension>
    </context>""")
    s = dp.session("1")
    dp.hunt(s)
    assert "Invalid Application no_such_app" in dp.logs(ERR)
    assert s.hangup_cause == "DESTINATION_OUT_OF_ORDER"


# -- helpers -----------------------------------------------------------------------------
def test_substitute_edge_cases():
    m = regex.search(r"^(\d)(\d)?(x)?", "12")
    assert regexmatch.substitute(m, "$1-$2-$3-$4-$") == "1-2---$"
    assert regexmatch.substitute(m, "$$1 ${a} $a") == "$1 ${a} $a"
    assert regexmatch.substitute(None, "a$1b") == "ab"
    many = regex.search("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", "abcdefghijk")
    assert regexmatch.substitute(many, "$10$11$1") == "jka"


def test_capture_values_and_array():
    m = regex.search(r"^(1)()(3)?", "1")
    assert regexmatch.capture_values(m) == ["1", "1"]
    assert regexmatch.array_value(["a"]) == "a"
    assert regexmatch.array_value(["a", "b"]) == "ARRAY::a|:b"
    assert regexmatch.array_value([]) is None


def test_perform_reports_compile_errors():
    errors = []
    assert regexmatch.perform("x", "(", errors.append) is None
    assert errors and "COMPILE ERROR" in errors[0]
    assert regexmatch.perform("abc", "/B/i").group(0) == "b"
    assert regexmatch.perform("a\nb", "/a.b/s") is not None
    assert regexmatch.perform("a\nb", "a.b") is None
    # PCRE without UTF: \d is ASCII only.
    assert regexmatch.perform("\u0661", r"^\d$") is None


def test_slow_regex_is_cut_off_and_false(dp, monkeypatch):
    monkeypatch.setattr(regexmatch, "SEARCH_TIMEOUT", 1e-6)
    dp.load("""
    <context name="default">
      <extension name="slow">
        <condition field="${big}" expression="(a|b)*c">
          <action application="log" data="INFO never"/>
          <anti-action application="log" data="INFO cut off"/>
        </condition>
      </extension>
    </context>""")
    s = dp.session("1", variables={"big": "ab" * 200000})
    assert _apps(dp.hunt(s)) == ["INFO cut off"]
    assert any("[slow]" in t and "timed out" in t for t in dp.logs(ERR))
