"""Scheduler APIs/apps, hupall filters, fsctl sub-commands and the uuid_* APIs, through a
running daemon, against mod_commands.c's replies."""

from __future__ import annotations

import re

import pytest

from fsd.testing import EventLog, wait_until


def test_sched_api_del_and_show_tasks(daemon):
    out = daemon.api("sched_api +600 mygroup echo later")
    m = re.match(r"^\+OK Added: (\d+)\n$", out)
    assert m
    tid = m.group(1)
    tasks = daemon.api("show tasks")
    assert tasks.startswith("task_id,task_desc,task_group,task_runtime,task_sql_manager,hostname\n")
    assert f"{tid},echo later,mygroup," in tasks
    assert daemon.api(f"unsched_api {tid}") == "+OK\n"
    assert daemon.api(f"unsched_api {tid}") == "-ERR No such id\n"
    daemon.api("sched_api +600 g2 echo a")
    daemon.api("sched_api +600 g2 echo b")
    assert daemon.api("sched_del g2") == "+OK Deleted: 2\n"
    assert daemon.api("sched_del") == "-ERR Invalid syntax\n"
    assert daemon.api("unsched_api") == "-ERR Invalid syntax. USAGE: <task_id>\n"
    assert daemon.api("sched_api +1") == ("-ERR Invalid syntax. USAGE: [+@]<time> <group_name> "
                                          "<command_string>[&]\n")


def test_sched_api_runs(daemon):
    daemon.api("sched_api +0 none global_setvar sched_ran=yes")
    assert wait_until(lambda: daemon.sw.globals.get("sched_ran") == "yes")


def test_sched_hangup_transfer_broadcast_apis(daemon):
    a, b, _ = daemon.call("park")
    assert daemon.api("sched_hangup") == "-USAGE: [+]<time> <uuid> [<cause>]\n"
    assert daemon.api("sched_hangup +1 nosuch") == "-ERR No such channel!\n"
    assert daemon.api("sched_transfer +1 nosuch 1000") == "-ERR No such channel!\n"
    assert daemon.api("sched_transfer +1") == ("-USAGE: [+]<time> <uuid> <extension> [<dialplan>] "
                                               "[<context>]\n")
    assert daemon.api("sched_broadcast +1 x") == "-USAGE: [[+]<time>|@time] <uuid> <path> [aleg|bleg|both]\n"
    assert daemon.api(f"sched_broadcast +600 {b} silence_stream://100") == "+OK Message scheduled\n"
    assert daemon.api(f"sched_del {b}") == "+OK Deleted: 1\n"
    assert daemon.api(f"sched_hangup +0 {b} USER_BUSY") == "+OK\n"
    assert daemon.gone(b)
    assert daemon.gone(a)


def test_sched_transfer_moves_the_call(daemon):
    a, b, _ = daemon.call("park")
    assert daemon.api(f"sched_transfer +0 {b} limited-xfer XML t") == "+OK\n"
    assert daemon.wait_var(b, "limit_realm" if False else "limit_usage") == "1"
    daemon.kill(a)


def test_hupall_with_variable_filters(daemon):
    a1, b1, _ = daemon.call("park", "hup_tag=one")
    a2, b2, _ = daemon.call("park", "hup_tag=two")
    assert daemon.api("hupall NORMAL_CLEARING hup_tag one") == (
        "+OK hangup all channels matching [hup_tag]=[one] with cause: NORMAL_CLEARING\n")
    assert daemon.gone(a1)
    assert a2 in daemon.sw.sessions
    assert daemon.api("hupall USER_BUSY hup_tag two direction outbound") == (
        "+OK hangup all channels matching [hup_tag]=[two]... with cause: USER_BUSY\n")
    assert daemon.gone(a2)


@pytest.mark.parametrize("cmd,out", [
    ("fsctl flush_db_handles", "+OK\n"),
    ("fsctl send_sighup", "+OK\n"),
    ("fsctl calibrate_clock", "+OK\n"),
    ("fsctl reclaim_mem", "+OK\n"),
    ("fsctl save_history", "+OK\n"),
    ("fsctl recover", "+OK 0 session(s) recovered in total\n"),
    ("fsctl api_expansion on", "+OK api_expansion is on \n"),
    ("fsctl verbose_events off", "+OK verbose_events is off \n"),
    ("fsctl threaded_system_exec", "+OK threaded_system_exec is false \n"),
    ("fsctl ready_check", "true"),
    ("fsctl shutdown_check", "false"),
    ("fsctl pause_check", "false"),
    ("fsctl min_dtmf_duration 500", "+OK min dtmf duration: 500\n"),
    ("fsctl max_dtmf_duration", "+OK max dtmf duration: 192000\n"),
    ("fsctl default_dtmf_duration 1000", "+OK default dtmf duration: 1000\n"),
    ("fsctl min_idle_cpu", "+OK min idle cpu: DISABLED\n"),
    ("fsctl min_idle_cpu 25", "+OK min idle cpu: 25.00%\n"),
    ("fsctl debug_sql", "+OK SQL DEBUG [on]\n"),
    ("fsctl sps_peak_reset", "+OK max sessions per second counter reset\n"),
    ("fsctl sync_clock", "+OK clock synchronized\n"),
    ("fsctl uuid_version 7", "+OK set uuid version: 7\n"),
    ("fsctl nonsense", None),
])
def test_fsctl_sub_commands(daemon, cmd, out):
    got = daemon.api(cmd)
    if out is None:
        assert got.startswith("-ERR Invalid command\nUSAGE: fsctl [api_expansion [on|off]|")
    else:
        assert got == out


def test_fsctl_pause_resume_and_elegant_cancel(daemon):
    assert daemon.api("fsctl pause inbound") == "+OK\n"
    assert daemon.api("fsctl pause_check inbound") == "true"
    assert daemon.api("fsctl resume") == "+OK\n"
    assert daemon.api("fsctl pause_check inbound") == "false"
    # elegant: refuses new calls while calls are up; cancel withdraws it
    a, b, _ = daemon.call("park")
    assert daemon.api("fsctl shutdown elegant") == "+OK\n"
    assert daemon.api("fsctl shutdown_check") == "true"
    _, _, out = daemon.call("park")
    assert out.startswith("-ERR")
    assert daemon.api("fsctl shutdown cancel") == "+OK\n"
    assert daemon.api("fsctl shutdown_check") == "false"
    a2, b2, _ = daemon.call("park")
    assert a2
    daemon.kill(a, a2)


def test_uuid_apis_on_a_call(daemon, tmp_path):
    events = EventLog(daemon.sw)
    a, b, _ = daemon.call("park")
    rec = tmp_path / "rec.wav"
    assert daemon.api(f"uuid_record {b} start {rec}") == "+OK Success\n"
    assert "<target>" in daemon.api(f"uuid_buglist {b}")
    assert daemon.api(f"uuid_record {b} stop {rec}") == "+OK Success\n"
    assert wait_until(lambda: rec.exists())
    assert daemon.api(f"uuid_record {b} stop {rec}") == "-ERR Cannot stop record session!\n"
    assert daemon.api("uuid_record nosuch start /tmp/x.wav") == "-ERR Cannot locate session!\n"
    assert daemon.api("uuid_record x") == ("-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] "
                                           "[<recording_vars>]\n")
    assert daemon.api(f"uuid_buglist {b}") == "<media-bugs>\n</media-bugs>\n"
    assert daemon.api(f"uuid_flush_dtmf {b}") == "+OK\n"
    assert daemon.api("uuid_flush_dtmf nosuch") == "-ERR No such session\n"
    assert daemon.api(f"uuid_hold {b}") == "+OK Success\n"
    assert daemon.api(f"uuid_hold toggle {b}") == "+OK Success\n"
    assert daemon.api("uuid_hold nosuch") == "-ERR Operation failed\n"
    assert daemon.api(f"uuid_display {b} Hello") == "+OK Success\n"
    assert daemon.api(f"uuid_deflect {b} sip:x@y") == "+OK:\n"
    assert daemon.api("uuid_deflect nosuch sip:x@y") == "-ERR No such channel nosuch!\n"
    assert daemon.api(f"uuid_redirect {b} sip:x@y") == "+OK:\n"
    assert daemon.api(f"uuid_send_info {b} hello") == "+OK Success\n"
    assert daemon.api(f"uuid_phone_event {b}") == "+OK Success\n"
    assert daemon.api(f"uuid_simplify {b}") == "+OK Success\n"
    assert daemon.api(f"uuid_media {b}") == "+OK Success\n"
    assert daemon.api(f"uuid_media off {b}") == "-ERR Operation failed\n"
    assert daemon.api(f"uuid_video_refresh {b}") == "+OK Success\n"
    assert daemon.api(f"uuid_early_ok {b}") == "+OK\n"
    assert daemon.api(f"uuid_ring_ready {b}") == "+OK\n"
    assert daemon.api(f"uuid_session_heartbeat {b} 30") == "+OK\n"
    assert daemon.api(f"uuid_zombie_exec {b}") == "+OK MMM Brains...\n"
    assert daemon.api(f"uuid_loglevel {b} debug") == "+OK\n"
    assert daemon.api(f"uuid_loglevel {b} bogus") == "-ERR Invalid log level!\n"
    assert daemon.api(f"uuid_set_media_stats {b}") == "+OK:\n"
    assert daemon.api(f"uuid_audio {b} start read level 2") == "+OK\n"
    assert daemon.api(f"uuid_fileman {b} pause") == "-ERR No file handle!\n"
    assert daemon.api(f"uuid_outgoing_answer {b}") == "-ERR Not an outbound channel!\n"
    assert daemon.api(f"uuid_outgoing_answer {a}") == "+OK\n"
    assert daemon.api(f"uuid_chat {b} hi there") == "+OK\n"
    assert events.wait("CHANNEL_DATA", b, Indication="DISPLAY")[0].get_header("Indication-Data") == "Hello"
    assert events.wait("MESSAGE", b)[0].get_header("Body") == "hi there"
    # limits through the API
    assert daemon.api(f"uuid_limit {b} hash apir res 5") == "+OK"
    assert daemon.api("limit_usage hash apir res") == "1"
    assert daemon.api(f"uuid_limit_release {b} hash apir res") == "+OK"
    assert daemon.api("limit_usage hash apir res") == "0"
    assert daemon.api("uuid_limit nosuch hash a b") == "-ERR Cannot find session with uuid nosuch\n"
    daemon.kill(a)


def test_uuid_dual_transfer(daemon):
    a, b, _ = daemon.call("park")
    assert daemon.api("uuid_dual_transfer x") == (
        "-USAGE: <uuid> <A-dest-exten>[/<A-dialplan>][/<A-context>] "
        "<B-dest-exten>[/<B-dialplan>][/<B-context>]\n")
    assert daemon.api(f"uuid_dual_transfer {b} park/XML/t park/XML/t") == "-ERR No such channel!\n"
    daemon.kill(a)


@pytest.mark.parametrize("cmd,out", [
    ("acl 127.0.0.1 loopback.auto", "true"),
    ("acl 8.8.8.8 loopback.auto", "false"),
    ("acl 10.1.2.3 rfc1918.auto", "true"),
    ("acl 192.0.2.7 192.0.2.0/24", "true"),
    ("acl 192.0.2.7 no_such_list", "false"),
    ("acl 127.0.0.1", "false"),
    ("acl", "false"),
    ("reloadacl", "+OK acl reloaded\n"),
    ("reloadacl reloadxml", "This option is deprecated, we now always reloadxml.\n+OK acl reloaded\n"),
    ("show aliases", "\n0 total.\n"),
    ("show nat_map", "\n0 total.\n"),
    ("show timer", "type,name,ikey\ntimer,soft,CORE_SOFTTIMER_MODULE\n\n1 total.\n"),
])
def test_acl_and_show_variants(daemon, cmd, out):
    assert daemon.api(cmd) == out


def test_show_more(daemon):
    assert daemon.api("switchname") == (daemon.sw.switchname or daemon.sw.hostname)
    assert daemon.api("show status").startswith("UP ")
    assert "codec,PCMU,CORE_PCM_MODULE" in daemon.api("show codec")
    assert "file,wav,mod_sndfile" in daemon.api("show file")
    it = daemon.api("show interface_types")
    assert it.startswith("type,total\n") and "application," in it
    reg = daemon.api("show registrations")
    assert reg == "\n0 total.\n" or reg.startswith("reg_user,realm,token,url,expires,network_ip,")
    assert daemon.api("show detailed_bridged_calls").endswith("total.\n")


def test_uuid_drop_dtmf(daemon):
    a, b, _ = daemon.call("park")
    s = daemon.sw.sessions[b]
    usage = "-USAGE: <uuid> [on | off ] [ mask_digits <digits> | mask_file <file>]\n"
    assert daemon.api(f"uuid_drop_dtmf {b} on") == usage          # mod_commands wants 4 words
    assert daemon.api("uuid_drop_dtmf nosuch on mask_digits 1") == "-ERR No such channel nosuch!\n"
    assert daemon.api(f"uuid_drop_dtmf {b} on mask_digits 0") == (
        f"+OK {b} is dropping DTMF. mask_file: NONE mask_digits: 0\n")
    s.flush_dtmf()
    daemon.api(f"uuid_recv_dtmf {b} 5")
    assert not s.has_dtmf()
    assert daemon.api(f"uuid_drop_dtmf {b} off mask_file x.wav") == (
        f"+OK {b} is not dropping DTMF. mask_file: x.wav mask_digits: NONE\n")
    daemon.kill(a)
