"""mod_commands' / mod_dptools' utility and directory APIs through a running daemon; the
expected texts come from mod_commands.c / mod_dptools.c (see each comment)."""

from __future__ import annotations

import hashlib
import time

import pytest

from fsd.testing import wait_until


@pytest.mark.parametrize("cmd,out", [
    # cond: numbers compare numerically, strings by ==/!= or by length; '' for a false 2-arm
    ("cond 5 > 3 ? yes : no", "yes"),
    ("cond 5 < 3 ? yes : no", "no"),
    ("cond 10 >= 10 ? yes : no", "yes"),
    ("cond 2 <= 1 ? yes : no", "no"),
    ("cond abc == abc ? same : diff", "same"),
    ("cond abc != abd ? diff : same", "diff"),
    ("cond 'a b' == 'a b' ? q : nq", "q"),
    ("cond '5' == 5.0 ? t : f", "f"),          # quoted: its length (1) against the number 5
    ("cond 1 == 2 ? yes", ""),
    ("cond 1 == 1 ? yes", "yes"),
    ("cond 1 = 1 ? yes : no", "-ERR"),         # a single '=' is no operator
    ("cond 1 ~ 1 ? yes : no", "-ERR"),
    ("cond 1 == 1 yes : no", "-ERR"),
    ("cond", "-ERR"),
    # regex / replace
    ("regex 1234|^(\\d)(\\d)", "true"),
    ("regex abc|^\\d", "false"),
    ("regex 5551234|^(\\d{3})(\\d{4})$|$2-$1", "1234-555"),
    ("regex 5551234|^(\\d{3})(\\d{4})$|%2-%1", "1234-555"),
    ("regex nope|^\\d+$|$1", "nope"),
    ("regex nope|^\\d+$|$1|n", ""),
    ("regex nope|^\\d+$|$1|b", "false"),
    ("regex m:~a|b~^(a\\|b)$~[$1]", "[a|b]"),
    ("regex onlyone", "-ERR"),
    ("replace hello world|o|0", "hell0 w0rld"),
    ("replace m:/a|b/|/-", "a-b"),
    ("replace a|b", "-ERR"),
    # encoding
    ("url_encode a b&c=d/é", "a%20b%26c%3Dd/%C3%A9"),  # '/' is not in SWITCH_URL_UNSAFE
    ("url_decode a%20b%26c+d", "a b&c+d"),
    ("url_encode", ""),
    ("escape a b\tc$d", "a\\sb\\tc\\$d"),
    ("md5 hello", hashlib.md5(b"hello").hexdigest()),
    ("md5", "!err!"),
    ("toupper abC", "ABC"),
    ("tolower AbC", "abc"),
    ("sql_escape it's", "it''s"),
    ("quote_shell_arg it's", "'it'\\''s'"),
    ("coalesce |a|b", "a"),
    ("coalesce ^^,,b,c", "b"),
    # files, processes, sleep
    ("file_exists /etc/hostname", "true"),
    ("file_exists /no/such/file", "false"),
    ("file_exists", "false"),
    ("system echo hi-there", "hi-there\n"),
    ("system", "-USAGE: <command>\n"),
    ("bg_system", "-USAGE: <command>\n"),
    ("msleep 5", "+OK"),
    ("time_test", "parameter missing or invalid\n"),
    ("xml_wrap echo hi", "<result>\n  <row id=\"1\">\n    <data>hi</data>\n  </row>\n</result>\n"),
    ("xml_wrap encoded echo a b", "<result>\n  <row id=\"1\">\n    <data>a%20b</data>\n  </row>\n</result>\n"),
    ("xml_wrap", "-ERR Invalid syntax\n"),
    ("xml_locate", "-ERR bad args\n"),
    ("xml_locate a b", "-ERR bad args\n"),
    ("xml_locate configuration configuration name nosuch.conf", "can't find anything\n"),
    # time (mod_dptools strftime: the character after '|' is skipped, as FreeSWITCH)
    ("strftime_tz Nowhere/Nothing %Y", "-ERR Invalid timezone/format\n"),
    ("strftime_tz UTC 0|%Y-%m-%d %H:%M", None),   # 0 = now
    ("strftime_tz UTC 86400|%Y-%m-%d %H:%M", "1970-01-02 00:00"),
    ("strftime_tz America/New_York 0|%Z", None),
    ("chat", "Invalid"),
    ("chat a|b|c", "Invalid"),
])
def test_util_api(daemon, cmd, out):
    got = daemon.api(cmd)
    if out is None:
        assert got and not got.startswith("-ERR")
    else:
        assert got == out


def test_bg_system_runs_in_background(daemon, tmp_path):
    f = tmp_path / "bg.txt"
    assert daemon.api(f"bg_system echo done > {f}") == "+OK\n"
    assert wait_until(lambda: f.exists() and f.read_text() == "done\n")


def test_time_test_lines(daemon):
    out = daemon.api("time_test 1000 3").splitlines()
    assert [ln.split()[:4] for ln in out[:3]] == [["test", str(i), "sleep", "1000"] for i in (1, 2, 3)]
    assert out[3].startswith("avg ")


def test_strftime_strepoch(daemon):
    assert daemon.api("strftime 86400|x%Y") == time.strftime("%Y", time.localtime(86400))
    now = daemon.api("strftime %Y")
    assert now == time.strftime("%Y")
    assert len(daemon.api("strftime")) == len("2024-01-01 00:00:00")
    epoch = int(time.mktime((2020, 5, 17, 10, 11, 12, 0, 0, -1)))
    assert daemon.api("strepoch 2020-05-17 10:11:12") == str(epoch)
    assert daemon.api("strmicroepoch 2020-05-17 10:11:12.5") == str(epoch * 1_000_000 + 500_000)
    assert daemon.api("strepoch garbage") == "0"
    assert abs(int(daemon.api("strepoch")) - time.time()) < 5


def test_xml_locate_finds_a_config(daemon):
    out = daemon.api("xml_locate configuration configuration name modules.conf")
    assert out.startswith('<configuration name="modules.conf"') and "mod_hash" in out
    assert daemon.api("xml_locate directory").startswith('<section name="directory"')
    assert "<document" in daemon.api("xml_locate root")


@pytest.mark.parametrize("cmd,out", [
    ("user_exists id 1000 $${domain}", "true"),
    ("user_exists id 9999 $${domain}", "false"),
    ("user_exists id 1000 no.such.domain", "false"),
    ("user_exists id 1000", "false"),
    ("user_data 1000@$${domain} var effective_caller_id_name", "Extension 1000"),
    ("user_data 1000@$${domain} var user_context", "default"),
    ("user_data 1000@$${domain} attr id", "1000"),
    ("user_data 1000@$${domain} param password", "$${default_password}"),
    ("user_data 1000@$${domain} param dial-string", None),   # merged from the domain
    ("user_data 9999@$${domain} var user_context", ""),
    ("user_data 1000", ""),
    ("domain_exists $${domain}", "true"),
    ("domain_exists no.such.domain", "false"),
    ("domain_data $${domain} var user_context", "default"),
    ("domain_data $${domain} attr name", "$${domain}"),
    ("in_group 1000@$${domain},default", "true"),
    ("in_group 9999@$${domain},default", "false"),
    ("in_group 1000 default", "false"),          # mod_commands splits on a comma
    ("group_call nosuch@$${domain}", "error/NO_ROUTE_DESTINATION"),
    ("find_user_xml id 9999 $${domain}", "-ERR can't find user\n"),
    ("find_user_xml id", "-ERR bad args\n"),
])
def test_directory_api(daemon, cmd, out):
    domain = daemon.sw.globals.get("domain")
    pw = daemon.sw.globals.get("default_password")
    cmd = cmd.replace("$${domain}", domain)
    got = daemon.api(cmd)
    if out is None:
        assert got.startswith("{presence_id=")
        return
    assert got == out.replace("$${domain}", domain).replace("$${default_password}", pw)


def test_find_user_xml_and_group_call_and_list_users(daemon):
    domain = daemon.sw.globals.get("domain")
    xml = daemon.api(f"find_user_xml id 1000 {domain}")
    assert xml.startswith('<user id="1000">') and "Extension 1000" in xml
    calls = daemon.api(f"group_call default@{domain}").split(",")
    assert len(calls) >= 2 and all(c.startswith("[presence_id=") for c in calls)
    assert f"[presence_id=1000@{domain}]" in calls[0]
    assert "|" in daemon.api(f"group_call default@{domain}+F")
    listing = daemon.api(f"list_users domain {domain} user 1001")
    assert listing.startswith("userid|context|domain|group|contact|callgroup|"
                              "effective_caller_id_name|effective_caller_id_number\n")
    assert f"1001|default|{domain}|default|error/user_not_registered||Extension 1001|1001\n" in listing
    assert listing.endswith("\n+OK\n")
    assert "1000|" not in listing
    assert daemon.api("list_users a b c d e f g h i j") == (
        "-USAGE: [group <group>] [domain <domain>] [user <user>] [context <context>]\n")


@pytest.mark.parametrize("cmd,out", [
    ("is_lan_addr 192.168.1.1", "true"),
    ("is_lan_addr 10.0.0.1", "true"),
    ("is_lan_addr 8.8.8.8", "false"),
    ("is_lan_addr nonsense", "false"),
    ("gethost localhost", "127.0.0.1"),
    ("host_lookup", "!err!"),
    ("xml_flush_cache id 1000 example.com", "+OK\n"),
    ("break nosuch", "-ERR No such channel!\n"),
])
def test_net_apis(daemon, cmd, out):
    assert daemon.api(cmd) == out


def test_getcputime(daemon):
    user, kernel = daemon.api("getcputime").split(":")
    assert user.isdigit() and kernel.isdigit()
