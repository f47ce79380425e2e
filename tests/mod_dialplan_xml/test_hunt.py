"""The XML dialplan's hunt: contexts, extensions, conditions, captures, break rules."""

from __future__ import annotations

from fsd_modules.mod_dialplan_xml import Extension

from fsd.log import DEBUG, ERR, INFO, WARNING


def test_module_registers_xml_dialplan(dp):
    assert "xml" in dp.switch.dialplans
    assert dp.switch.dialplans["xml"].module == "mod_dialplan_xml"


def test_captures_substituted_into_actions_and_dp_match(dp):
    dp.load("""
    <context name="default">
      <extension name="split">
        <condition field="destination_number" expression="^(\\d{2})(\\d{2})$">
          <action application="log" data="INFO a=$1 b=$2 all=$0 none=$9 var=${x} cost=$ end$"/>
          <action application="bridge">user/$1$2@example.com</action>
        </condition>
      </extension>
    </context>""")
    s = dp.session("1000")
    ext = dp.hunt(s)
    assert list(ext) == [
        ("log", "INFO a=10 b=00 all=1000 none= var=${x} cost=$ end$"),
        ("bridge", "user/1000@example.com"),
    ]
    assert ext.name == "split"
    assert ext.number == "1000"
    assert s.get_variable("DP_MATCH") == "ARRAY::1000|:10|:00"


def test_expression_without_group_leaves_dollar_digits_alone(dp):
    dp.load("""
    <context name="default">
      <extension name="x">
        <condition field="destination_number" expression="^1000$">
          <action application="log" data="INFO $1 stays"/>
        </condition>
      </extension>
    </context>""")
    s = dp.session("1000")
    assert list(dp.hunt(s)) == [("log", "INFO $1 stays")]
    assert s.get_variable("DP_MATCH") is None


def test_anti_actions_run_when_false_and_are_not_substituted(dp):
    dp.load("""
    <context name="default">
      <extension name="x">
        <condition field="destination_number" expression="^(2000)$">
          <action application="log" data="INFO yes $1"/>
          <anti-action application="log" data="INFO no $1"/>
          <anti-action application="hangup" data="CALL_REJECTED"/>
        </condition>
      </extension>
      <extension name="never-reached">
        <condition field="destination_number" expression="^1000$">
          <action application="park"/>
        </condition>
      </extension>
    </context>""")
    ext = dp.hunt(dp.session("1000"))
    # Anti-actions make the extension "proceed": hunting stops there.
    assert list(ext) == [("log", "INFO no $1"), ("hangup", "CALL_REJECTED")]


PLAN_TWO_CONDITIONS = """
<context name="default">
  <extension name="first">
    <condition field="destination_number" expression="^{c1}$" {brk}>
      <action application="log" data="INFO c1-true"/>
      <anti-action application="log" data="INFO c1-false"/>
    </condition>
    <condition field="caller_id_number" expression="^1001$">
      <action application="log" data="INFO c2-true"/>
    </condition>
  </extension>
  <extension name="fallback">
    <condition field="destination_number" expression="^.*$">
      <action application="log" data="INFO fallback"/>
    </condition>
  </extension>
</context>"""


def _apps(ext):
    return [d for _, d in ext] if ext is not None else None


def test_break_on_false_default_stops_the_extension(dp):
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "nomatch").replace("{brk}", ""))
    # c1 false with anti-actions: they run, the extension stops (c2 never evaluated)
    # and, having run anti-actions, it proceeds: no fallback.
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO c1-false"]


def test_break_on_false_without_anti_actions_falls_through(dp):
    dp.load("""
    <context name="default">
      <extension name="first">
        <condition field="destination_number" expression="^nomatch$">
          <action application="log" data="INFO c1"/>
        </condition>
        <condition field="caller_id_number" expression="^1001$">
          <action application="log" data="INFO c2"/>
        </condition>
      </extension>
      <extension name="fallback">
        <condition><action application="log" data="INFO fallback"/></condition>
      </extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO fallback"]


def test_break_on_true_stops_after_a_true_condition(dp):
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "1000").replace("{brk}", 'break="on-true"'))
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO c1-true"]


def test_break_on_true_goes_on_after_a_false_condition(dp):
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "nomatch").replace("{brk}", 'break="on-true"'))
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO c1-false", "INFO c2-true"]


def test_break_always_stops_either_way(dp):
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "1000").replace("{brk}", 'break="always"'))
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO c1-true"]
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "nomatch").replace("{brk}", 'break="always"'))
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO c1-false"]


def test_break_never_evaluates_the_next_condition(dp):
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "nomatch").replace("{brk}", 'break="never"'))
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO c1-false", "INFO c2-true"]
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "1000").replace("{brk}", 'break="never"'))
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO c1-true", "INFO c2-true"]


def test_unknown_break_value_means_on_false(dp):
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "nomatch").replace("{brk}", 'break="sometimes"'))
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO c1-false"]
    assert any("break=on-false" in t for t in dp.logs(DEBUG))


def test_multiple_conditions_all_must_pass(dp):
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "1000").replace("{brk}", ""))
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO c1-true", "INFO c2-true"]


def test_later_false_condition_keeps_earlier_actions_and_hunts_on(dp):
    # FreeSWITCH keeps what the first (true) condition added, and since the extension
    # did not proceed it goes on to the next extension.
    dp.load(PLAN_TWO_CONDITIONS.replace("{c1}", "1000").replace("{brk}", ""))
    ext = dp.hunt(dp.session("1000", caller_id_number="9999"))
    assert _apps(ext) == ["INFO c1-true", "INFO fallback"]
    assert ext.name == "first"


def test_continue_true_collects_following_extensions(dp):
    dp.load("""
    <context name="default">
      <extension name="a" continue="true">
        <condition field="destination_number" expression="^1000$">
          <action application="set" data="a=1"/>
        </condition>
      </extension>
      <extension name="b">
        <condition field="destination_number" expression="^1000$">
          <action application="set" data="b=1"/>
        </condition>
      </extension>
      <extension name="c">
        <condition field="destination_number" expression="^1000$">
          <action application="set" data="c=1"/>
        </condition>
      </extension>
    </context>""")
    assert list(dp.hunt(dp.session("1000"))) == [("set", "a=1"), ("set", "b=1")]


def test_first_match_wins_without_continue(dp):
    dp.load("""
    <context name="default">
      <extension name="a"><condition field="destination_number" expression="^10">
        <action application="log" data="INFO a"/></condition></extension>
      <extension name="b"><condition field="destination_number" expression="^1000$">
        <action application="log" data="INFO b"/></condition></extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO a"]


def test_empty_condition_is_always_true(dp):
    dp.load("""
    <context name="default">
      <extension name="catchall">
        <condition>
          <action application="log" data="INFO any"/>
          <anti-action application="log" data="INFO never"/>
        </condition>
      </extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("whatever"))) == ["INFO any"]
    assert any("Absolute Condition [catchall]" in t for t in dp.logs(DEBUG))


def test_field_variable_expansion(dp):
    dp.load("""
    <context name="default">
      <extension name="vip">
        <condition field="${vip}" expression="^yes$">
          <action application="log" data="INFO vip"/>
        </condition>
      </extension>
      <extension name="combined">
        <condition field="${caller_id_number}-${destination_number}" expression="^(\\d+)-(\\d+)$">
          <action application="log" data="INFO $2 from $1"/>
        </condition>
      </extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000", variables={"vip": "yes"}))) == ["INFO vip"]
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO 1000 from 1001"]


def test_bare_field_name_is_a_profile_field_not_a_variable(dp):
    # switch_caller_get_field_by_name only knows caller-profile fields.
    dp.load("""
    <context name="default">
      <extension name="x">
        <condition field="vip" expression="^$">
          <action application="log" data="INFO empty"/>
        </condition>
      </extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000", variables={"vip": "yes"}))) == ["INFO empty"]


def test_every_profile_field_can_be_matched(dp):
    fields = {
        "caller_id_name": "Alice", "caller_id_number": "1001", "destination_number": "1000",
        "context": "default", "network_addr": "192.0.2.7", "ani": "5551234",
        "rdnis": "4000", "source": "mod_loopback", "username": "alice", "dialplan": "XML",
        "aniii": "00",
    }
    conds = "".join(
        f'<condition field="{k}" expression="^{v.replace(".", "[.]")}$"/>' for k, v in fields.items())
    dp.load(f"""
    <context name="default">
      <extension name="all-fields">{conds}
        <condition field="chan_name" expression="^test/1000-"/>
        <condition field="uuid" expression="^[0-9a-f-]{{36}}$">
          <action application="log" data="INFO all"/>
        </condition>
      </extension>
    </context>""")
    prof = {k: v for k, v in fields.items()
            if k not in ("destination_number", "context", "caller_id_name", "caller_id_number")}
    s = dp.session("1000", **prof)
    assert _apps(dp.hunt(s)) == ["INFO all"], dp.logs(DEBUG)


def test_expression_is_expanded_at_hunt_time_and_action_data_is_not(dp):
    dp.load("""
    <context name="default">
      <extension name="x">
        <condition field="destination_number" expression="^${target}$">
          <action application="log" data="INFO ${target} stays for execute time"/>
        </condition>
      </extension>
    </context>""")
    s = dp.session("3000", variables={"target": "3000"})
    assert _apps(dp.hunt(s)) == ["INFO ${target} stays for execute time"]


def test_unknown_context_finds_nothing(dp):
    dp.load("""
    <context name="default">
      <extension name="x"><condition><action application="park"/></condition></extension>
    </context>""")
    s = dp.session("1000", context="nowhere")
    assert dp.hunt(s) is None
    assert any("Context nowhere not found" in t for t in dp.logs(WARNING))


def test_unknown_context_falls_back_to_global(dp):
    dp.load("""
    <context name="global">
      <extension name="g"><condition><action application="log" data="INFO global"/></condition></extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000", context="nowhere"))) == ["INFO global"]


def test_nothing_matched_returns_none(dp):
    dp.load("""
    <context name="default">
      <extension name="x"><condition field="destination_number" expression="^1$">
        <action application="park"/></condition></extension>
    </context>""")
    assert dp.hunt(dp.session("2")) is None


def test_empty_context_in_profile_means_default(dp):
    dp.load("""
    <context name="default">
      <extension name="x"><condition><action application="park"/></condition></extension>
    </context>""")
    s = dp.session("1", context="")
    assert list(dp.hunt(s)) == [("park", "")]
    assert s.caller_profile.context == "default"


def test_regex_that_does_not_compile_is_logged_and_false(dp):
    dp.load("""
    <context name="default">
      <extension name="broken">
        <condition field="destination_number" expression="^(10">
          <action application="log" data="INFO never"/>
        </condition>
      </extension>
      <extension name="ok">
        <condition field="destination_number" expression="^1000$">
          <action application="log" data="INFO ok"/>
        </condition>
      </extension>
    </context>""")
    s = dp.session("1000")
    assert _apps(dp.hunt(s)) == ["INFO ok"]
    errs = dp.logs(ERR)
    assert any("[broken]" in t and "^(10" in t for t in errs), errs


def test_regex_flags_and_unterminated_slash_form(dp):
    dp.load("""
    <context name="default">
      <extension name="caseless">
        <condition field="destination_number" expression="/^sales$/i">
          <action application="log" data="INFO sales"/>
        </condition>
      </extension>
      <extension name="unterminated">
        <condition field="destination_number" expression="/^x">
          <action application="log" data="INFO never"/>
        </condition>
      </extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("SALES"))) == ["INFO sales"]
    assert dp.hunt(dp.session("/^x")) is None


def test_pcre_features(dp):
    # Named groups, lookahead, possessive quantifiers: PCRE syntax through `regex`.
    dp.load("""
    <context name="default">
      <extension name="pcre">
        <condition field="destination_number" expression="^(?&lt;pre&gt;9)(?=\\d{4}$)(\\d++)$">
          <action application="log" data="INFO $1 $2"/>
        </condition>
      </extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("91234"))) == ["INFO 9 1234"]


def test_expression_child_element_and_action_text_and_loop(dp):
    dp.load("""
    <context name="default">
      <extension name="x">
        <condition field="destination_number">
          <expression><![CDATA[^(\\d+)<>$|^(1000)$]]></expression>
          <action application="log" loop="3">INFO got $2</action>
        </condition>
      </extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO got 1000"] * 3


def test_auto_hunt_starts_at_the_named_extension(dp):
    dp.load("""
    <context name="default">
      <extension name="first"><condition><action application="log" data="INFO first"/></condition></extension>
      <extension name="1000"><condition><action application="log" data="INFO named"/></condition></extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000", variables={"auto_hunt": "true"}))) == ["INFO named"]
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO first"]


def test_transfer_style_reentry_returns_the_new_extension(dp):
    dp.load("""
    <context name="default">
      <extension name="a"><condition field="destination_number" expression="^1000$">
        <action application="transfer" data="2000 XML other"/></condition></extension>
    </context>
    <context name="other">
      <extension name="b"><condition field="destination_number" expression="^(2000)$">
        <action application="log" data="INFO reached $1"/></condition></extension>
    </context>""")
    s = dp.session("1000")
    assert list(dp.hunt(s)) == [("transfer", "2000 XML other")]
    # What a transfer does to the profile before routing again:
    s.caller_profile.destination_number = "2000"
    s.caller_profile.context = "other"
    assert list(dp.hunt(s)) == [("log", "INFO reached 2000")]


def test_log_lines_like_freeswitch(dp):
    dp.load("""
    <context name="default">
      <extension name="ext1000">
        <condition field="destination_number" expression="^1000$">
          <action application="park"/>
        </condition>
      </extension>
    </context>""")
    s = dp.session("1000")
    dp.hunt(s)
    infos = dp.logs(INFO, uuid=s.uuid)
    assert "Processing Alice <1001>->1000 in context default" in infos
    debugs = dp.logs(DEBUG, uuid=s.uuid)
    assert f"Dialplan: {s.name} parsing [default->ext1000] continue=false" in debugs
    assert (f"Dialplan: {s.name} Regex (PASS) [ext1000] destination_number(1000) =~ /^1000$/ "
            "break=on-false") in debugs
    assert f"Dialplan: {s.name} Action park() " in debugs


def test_nested_conditions(dp):
    dp.load("""
    <context name="default">
      <extension name="nest">
        <condition field="destination_number" expression="^(1000)$">
          <action application="log" data="INFO outer $1"/>
          <condition field="caller_id_number" expression="^(1001)$">
            <action application="log" data="INFO inner $1"/>
          </condition>
        </condition>
      </extension>
      <extension name="fallback"><condition><action application="log" data="INFO fallback"/></condition></extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO outer 1000", "INFO inner 1001"]
    # A failing nested block makes the extension not proceed (require-nested default).
    assert _apps(dp.hunt(dp.session("1000", caller_id_number="7"))) == ["INFO outer 1000", "INFO fallback"]


def test_nested_not_required(dp):
    dp.load("""
    <context name="default">
      <extension name="nest">
        <condition field="destination_number" expression="^1000$" require-nested="false">
          <action application="log" data="INFO outer"/>
          <condition field="caller_id_number" expression="^nope$"/>
        </condition>
      </extension>
      <extension name="fallback"><condition><action application="log" data="INFO fallback"/></condition></extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO outer"]


def test_xml_binding_answers_dialplan_lookups(dp):
    dp.load("""
    <context name="default">
      <extension name="static"><condition><action application="log" data="INFO static"/></condition></extension>
    </context>""")
    seen = []

    def handler(section, tag, key, value, params):
        seen.append((section, tag, key, value, params.get("Hunt-Destination-Number"),
                     params.get("Caller-Caller-ID-Number")))
        return ('<document type="freeswitch/xml"><section name="dialplan">'
                f'<context name="{value}"><extension name="dyn"><condition>'
                '<action application="log" data="INFO dynamic"/></condition></extension>'
                '</context></section></document>')

    dp.module.bind_xml("dialplan", handler)
    assert _apps(dp.hunt(dp.session("1000"))) == ["INFO dynamic"]
    assert seen[0] == ("dialplan", "context", "name", "default", "1000", "1001")


def test_alternate_path_argument(dp, tmp_path):
    dp.load("<context name='default'/>")
    alt = tmp_path / "alt.xml"
    alt.write_text('<document><section name="dialplan"><context name="default">'
                   '<extension name="alt"><condition><action application="log" data="INFO alt"/>'
                   '</condition></extension></context></section></document>')
    s = dp.session("1")
    assert _apps(dp.hunt(s, str(alt))) == ["INFO alt"]
    assert dp.hunt(s, str(tmp_path / "missing.xml")) is None
    assert any("missing.xml" in t for t in dp.logs(ERR))


def test_no_config_at_all(dp):
    s = dp.session("1")
    assert dp.hunt(s) is None
    assert "Open of dialplan failed" in dp.logs(ERR)


def test_result_is_a_plain_list_of_pairs(dp):
    dp.load("""
    <context name="default"><extension name="x"><condition>
      <action application="answer"/></condition></extension></context>""")
    ext = dp.hunt(dp.session("1"))
    assert isinstance(ext, Extension) and isinstance(ext, list)
    assert list(ext) == [("answer", "")]
