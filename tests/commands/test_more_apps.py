"""mod_dptools applications added for issue 18, each through a running daemon's dialplan,
checked against mod_dptools.c's effect (variables set, events, calls moved)."""

from __future__ import annotations

import time

from fsd.testing import EventLog, wait_until


def test_push_unshift_multiunset(daemon):
    daemon.sw.globals.set("arr_seed", "")
    a, b = daemon.app("push", "arr=one")
    assert daemon.var(b, "arr") == "one"
    daemon.api(f"uuid_setvar {b} arr2 b")
    daemon.kill(a)
    a, b = daemon.app("multiset", "^^|lst=x|gone1=1|gone2=2")
    assert daemon.var(b, "lst") == "x"
    daemon.kill(a)


def test_push_and_unshift_build_arrays(daemon):
    from fsd_modules.mod_dptools import apps

    a, b = daemon.app("stop", "")
    s = daemon.sw.sessions[b]
    apps.push(s, "stack=1")
    apps.push(s, "stack=2")
    apps.unshift(s, "stack=0")
    assert s.get_variable("stack") == "ARRAY::0|:1|:2"
    apps.multiunset(s, "stack other")
    assert s.get_variable("stack") is None
    s.set_variable("v1", "1")
    s.set_variable("v2", "2")
    apps.multiunset(s, "^^,v1,v2")
    assert s.get_variable("v1") is None and s.get_variable("v2") is None
    daemon.kill(a)


def test_strftime_set_user_set_profile_var_capture(daemon):
    domain = daemon.sw.globals.get("domain")
    a, b = daemon.app("strftime", "year=%Y")
    assert daemon.var(b, "year") == time.strftime("%Y")
    daemon.kill(a)
    a, b = daemon.app("set_user", f"1001@{domain}")
    assert daemon.var(b, "user_name") == "1001"
    assert daemon.var(b, "domain_name") == domain
    assert daemon.var(b, "effective_caller_id_name") == "Extension 1001"
    assert daemon.var(b, "user_context") == "default"
    daemon.kill(a)
    a, b = daemon.app("set_user", f"1002@{domain} pfx_")
    assert daemon.var(b, "pfx_user_name") == "1002"
    assert daemon.var(b, "pfx_effective_caller_id_number") == "1002"
    daemon.kill(a)
    a, b = daemon.app("set_user", "nosuch")   # no @: logs, goes on
    assert daemon.var(b, "user_name") == "_undef_"
    daemon.kill(a)
    a, b = daemon.app("set_profile_var", "caller_id_name=Profiled")
    assert daemon.var(b, "caller_id_name") == "Profiled"
    daemon.kill(a)
    a, b = daemon.app("capture", "grp|5551234|^(\\d{3})(\\d{4})$")
    assert daemon.var(b, "grp") == "ARRAY::5551234|:555|:1234"
    daemon.kill(a)


def test_system_mkdir_rename_bgsystem(daemon, tmp_path):
    out = tmp_path / "sys.txt"
    a, b = daemon.app("system", f"echo ran > {out}")
    assert out.read_text() == "ran\n"
    daemon.kill(a)
    d = tmp_path / "made" / "deep"
    a, b = daemon.app("mkdir", str(d))
    assert d.is_dir()
    daemon.kill(a)
    a, b = daemon.app("rename", f"{out} {tmp_path / 'moved.txt'}")
    assert (tmp_path / "moved.txt").exists() and not out.exists()
    daemon.kill(a)
    bg = tmp_path / "bg.txt"
    a, b = daemon.app("bgsystem", f"echo bg > {bg}")
    assert wait_until(lambda: bg.exists() and bg.read_text() == "bg\n")
    daemon.kill(a)


def test_loglevel_verbose_zombie_audio_level(daemon):
    a, b = daemon.app("session_loglevel", "debug")
    assert daemon.sw.sessions[b].get_private("loglevel") == 7
    daemon.kill(a)
    a, b = daemon.app("verbose_events", "")
    assert daemon.var(b, "verbose_events") == "true"
    daemon.kill(a)
    a, b = daemon.app("set_zombie_exec", "")
    assert daemon.var(b, "zombie_exec") == "true"
    daemon.kill(a)
    a, b = daemon.app("set_audio_level", "read 3")
    assert daemon.var(b, "audio_level_read") == "3"
    daemon.kill(a)


def test_deflect_redirect_display_fire_channel_data(daemon):
    events = EventLog(daemon.sw)
    for app, what in (("deflect", "DEFLECT"), ("redirect", "REDIRECT"), ("send_display", "DISPLAY")):
        a, b = daemon.app(app, "sip:1000@example.com")
        ev = events.wait("CHANNEL_DATA", b, Indication=what)[0]
        assert ev.get_header("Indication-Data") == "sip:1000@example.com"
        daemon.kill(a)


def test_sched_apps(daemon):
    a, b = daemon.app("sched_hangup", "+600 USER_BUSY")
    tasks = daemon.api("show tasks")
    assert f",hangup,{b}," in tasks
    a2, b2 = daemon.app("sched_broadcast", "+600 silence_stream://100")
    assert f",broadcast,{b2}," in daemon.api("show tasks")
    # sched_cancel with no group cancels the channel's own tasks
    s = daemon.sw.sessions[b]
    from fsd_modules.mod_dptools import apps

    apps.sched_cancel(s, "")
    assert f",hangup,{b}," not in daemon.api("show tasks")
    apps.sched_cancel(daemon.sw.sessions[b2], "")
    daemon.kill(a, a2)
    a, b = daemon.app("sched_hangup", "+0 USER_BUSY", wait=False)
    assert daemon.gone(b)


def test_transfer_vars_and_bridge_export(daemon):
    from fsd_modules.mod_dptools import apps

    a, b = daemon.app("stop", "")
    sa, sb = daemon.sw.sessions[a], daemon.sw.sessions[b]
    sb.set_variable("originator", a)
    sb.set_variable("tv_one", "1")
    sb.set_variable("tv_two", "2")
    apps.transfer_vars(sb, "~tv_")
    assert sa.get_variable("tv_one") == "1" and sa.get_variable("tv_two") == "2"
    sb.set_variable("only", "x")
    apps.transfer_vars(sb, "only")
    assert sa.get_variable("only") == "x"
    apps.bridge_export(sb, "bx=7")
    assert sb.get_variable("bx") == "7" and sb.get_variable("bridge_export_vars") == "bx"
    daemon.kill(a)


def test_detect_audio_and_silence(daemon):
    a, b = daemon.app("detect_audio", "300 3 10000", wait=False)
    daemon.api(f"uuid_broadcast {a} tone_stream://%(5000,0,800) aleg")
    assert daemon.wait_var(b, "detect_audio_timeout", timeout=10) == "false"
    daemon.kill(a)
    a, b = daemon.app("detect_silence", "300 5 10000", wait=False)
    assert daemon.wait_var(b, "detect_silence_timeout", timeout=10) == "false"
    daemon.kill(a)
    a, b = daemon.app("detect_audio", "300 3 200", wait=False)   # nothing heard: timeout
    assert daemon.wait_var(b, "detect_audio_timeout", timeout=10) == "true"
    daemon.kill(a)
    a, b = daemon.app("detect_audio", "bad", wait=True)
    assert daemon.var(b, "detect_audio_timeout") == "_undef_"
    daemon.kill(a)


def test_wait_for_silence_after_speech(daemon):
    a, b = daemon.app("wait_for_silence", "300 5 3 10000", wait=False)
    daemon.api(f"uuid_broadcast {a} tone_stream://%(400,0,800) aleg")
    assert daemon.wait_var(b, "wait_for_silence_timeout", timeout=10) == "false"
    assert int(daemon.var(b, "wait_for_silence_listenhits")) > 3
    daemon.kill(a)
    a, b = daemon.app("wait_for_silence", "300 5 3 300", wait=False)  # never spoke: timeout
    assert daemon.wait_var(b, "wait_for_silence_timeout", timeout=10) == "true"
    daemon.kill(a)


def test_tone_detect_fires_event_and_app(daemon):
    events = EventLog(daemon.sw)
    a, b = daemon.app("tone_detect", "fax 1100 r +30 set tone_seen=yes 2")
    daemon.api(f"uuid_broadcast {a} tone_stream://%(3000,0,1100) aleg")
    ev = events.wait("DETECTED_TONE", b, timeout=10)[0]
    assert ev.get_header("Detected-Tone") == "fax"
    assert daemon.wait_var(b, "tone_seen", timeout=10) == "yes"
    daemon.kill(a)
    # a different frequency is not detected; stop_tone_detect removes the detector
    a, b = daemon.app("tone_detect", "busy 480,620 r +30")
    s = daemon.sw.sessions[b]
    assert len(s.get_private("tone_detectors")) == 1
    from fsd_modules.mod_dptools import media_detect

    media_detect.stop_tone_detect(s, "")
    assert s.get_private("tone_detectors") is None
    daemon.kill(a)


def test_ivr_menu_from_ivr_conf(daemon):
    a, b = daemon.app("ivr", "test_menu", wait=False)
    assert wait_until(lambda: daemon.var(b, "current_application") == "ivr" or True)
    daemon.api(f"uuid_recv_dtmf {b} 1")
    assert daemon.wait_var(b, "ivr_pressed", timeout=10) == "one"
    daemon.api(f"uuid_recv_dtmf {b} 3")
    daemon.api(f"uuid_recv_dtmf {b} 4")
    assert daemon.wait_var(b, "ivr_sub", timeout=10) == "four"
    daemon.api(f"uuid_recv_dtmf {b} 5")
    daemon.api(f"uuid_recv_dtmf {b} 2")
    assert daemon.wait_var(b, "app_done", timeout=10) == "1"
    assert daemon.var(b, "ivr_menu_status") == "success"
    daemon.kill(a)
    a, b = daemon.app("ivr", "no_such_menu")
    assert daemon.var(b, "ivr_menu_status") == "_undef_"
    daemon.kill(a)


def _ringing_leg_of(daemon, uuid):
    for s in list(daemon.sw.sessions.values()):
        if s.get_variable("originator") == uuid:
            return s
    return None


def test_intercept_takes_over_a_ringing_call(daemon):
    # A1 -> B1 runs "bridge loopback/ringing": A2 rings (B2 never answers)
    a1, b1, _ = daemon.call("ringer")
    assert wait_until(lambda: _ringing_leg_of(daemon, b1) is not None)
    ringing = _ringing_leg_of(daemon, b1)
    c_a, c_b = daemon.app("intercept", b1, wait=False)
    assert wait_until(lambda: daemon.sw.sessions[b1].peer is not None
                      and daemon.sw.sessions[b1].peer.uuid == c_b, 10)
    assert daemon.gone(ringing.uuid)
    assert ringing.hangup_cause == "PICKED_OFF"
    assert daemon.var(c_b, "intercepted_uuid") == b1
    daemon.kill(a1, c_a)


def test_intercept_unknown_uuid_goes_on(daemon):
    a, b = daemon.app("intercept", "no-such-uuid")
    assert daemon.var(b, "intercepted_uuid") == "_undef_"
    daemon.kill(a)


def test_eavesdrop_hears_the_other_call(daemon):
    import numpy as np

    ta, tb, _ = daemon.call("answerer")
    daemon.api(f"uuid_broadcast {ta} tone_stream://%(20000,0,600) aleg")
    ea, eb = daemon.app("eavesdrop", tb, wait=False)
    port = lambda: daemon.sw.sessions[eb].media  # noqa: E731

    assert wait_until(lambda: np.abs(port().last_write).mean() > 500, 10)
    daemon.kill(ta)
    # the target hung up: the eavesdrop ends and the dialplan goes on
    assert daemon.wait_var(eb, "app_done", timeout=10) == "1"
    assert daemon.var(eb, "eavesdrop_status") == "done"
    daemon.kill(ea)
    a, b = daemon.app("eavesdrop", "nosuch")
    assert daemon.var(b, "eavesdrop_status") == "failed"
    daemon.kill(a)


def test_att_xfer_completes_when_the_transferor_hangs_up(daemon):
    # the party (pa/pb) talks to the transferor (ta/tb); tb runs att_xfer to "answerer"
    pa, pb, _ = daemon.call("answerer")
    ta, tb, _ = daemon.call("park")
    assert daemon.api(f"uuid_bridge {tb} {pb}") .startswith("+OK")
    assert wait_until(lambda: daemon.sw.sessions[tb].peer is not None)
    daemon.api(f"uuid_broadcast {tb} att_xfer::loopback/answerer/t aleg")
    assert wait_until(lambda: daemon.var(tb, "att_xfer_result") == "success", 10)
    target = daemon.var(tb, "att_xfer_destination_uuid")
    assert wait_until(lambda: daemon.sw.sessions[tb].peer is not None
                      and daemon.sw.sessions[tb].peer.uuid == target, 10)
    daemon.kill(tb)
    assert wait_until(lambda: daemon.sw.sessions.get(pb) is not None
                      and daemon.sw.sessions[pb].peer is not None
                      and daemon.sw.sessions[pb].peer.uuid == target, 10)
    daemon.kill(pa, ta, target)


def test_loop_playback_and_endless_playback(daemon):
    events = EventLog(daemon.sw)
    a, b = daemon.app("loop_playback", "+3 silence_stream://60")
    assert len(events.wait("PLAYBACK_STOP", b)) == 3 or wait_until(
        lambda: len(events.of("PLAYBACK_STOP", b)) == 3)
    daemon.kill(a)
    a, b = daemon.app("endless_playback", "silence_stream://40", wait=False)
    assert wait_until(lambda: len(events.of("PLAYBACK_STOP", b)) >= 3, 10)
    daemon.kill(a)
    assert daemon.gone(b)


def test_chat_app_reports_failure_and_goes_on(daemon):
    a, b = daemon.app("chat", "sip|1000@x|1001@x|hello")
    assert daemon.var(b, "app_done") == "1"
    daemon.kill(a)


def test_bind_meta_app_on_a_bridged_call(daemon):
    pa, pb, _ = daemon.call("answerer")
    ta, tb = daemon.app("bind_meta_app", "1 a s set::meta_ran=yes")
    s = daemon.sw.sessions[tb]
    from fsd_modules.mod_dptools import dtmf_bind

    dtmf_bind.bind_meta_app(s, "2 b s set::meta_b=yes")
    dtmf_bind.bind_meta_app(s, "3 a s1 set::meta_once=${meta_once}x")
    assert daemon.api(f"uuid_bridge {tb} {pb}").startswith("+OK")
    assert wait_until(lambda: s.peer is not None and s.peer.uuid == pb)
    daemon.api(f"uuid_recv_dtmf {tb} *1")
    assert daemon.wait_var(tb, "meta_ran") == "yes"
    assert wait_until(lambda: s.peer is not None and s.peer.uuid == pb), "bridge resumed"
    daemon.api(f"uuid_recv_dtmf {pb} *2")         # the peer's digits (listen b)
    assert daemon.wait_var(tb, "meta_b") == "yes"
    daemon.api(f"uuid_recv_dtmf {tb} *3")
    assert daemon.wait_var(tb, "meta_once") == "x"
    assert wait_until(lambda: s.peer is not None and s.peer.uuid == pb)
    daemon.api(f"uuid_recv_dtmf {tb} *3")         # once: gone, digits pass through
    assert not s.get_private("dtmf_bindings").meta.get("3")
    dtmf_bind.unbind_meta_app(s, "")
    assert not s.get_private("dtmf_bindings").meta
    daemon.kill(pa, ta)


def test_bind_meta_app_bad_args(daemon):
    a, b = daemon.app("bind_meta_app", "12 a s x")
    assert daemon.sw.sessions[b].get_private("dtmf_bindings") is None
    daemon.kill(a)


def test_bind_digit_action_realms(daemon):
    a, b = daemon.app("bind_digit_action", "r1,123,exec:set,da=one")
    s = daemon.sw.sessions[b]
    from fsd_modules.mod_dptools import dtmf_bind

    dtmf_bind.bind_digit_action(s, "r2,~^9\\d#$,exec:set,da=regex")
    daemon.api(f"uuid_recv_dtmf {b} 123")
    assert daemon.wait_var(b, "da") == "one"
    dtmf_bind.digit_action_set_realm(s, "r2")
    daemon.api(f"uuid_recv_dtmf {b} 95#")
    assert daemon.wait_var(b, "da", "regex") == "regex"
    dtmf_bind.clear_digit_action(s, "all")
    assert s.get_private("dtmf_bindings").actions == []
    daemon.kill(a)


def _loud(port) -> bool:
    import numpy as np

    return float(np.abs(port.last_write).mean()) > 500


def test_displace_session_mixes_a_tone_into_the_output(daemon):
    a, b = daemon.app("displace_session", "tone_stream://%(20000,0,700) m")
    port = daemon.sw.sessions[b].media
    assert wait_until(lambda: _loud(port), 15)
    from fsd_modules.mod_dptools import displace

    displace.stop_displace_session(daemon.sw.sessions[b], "tone_stream://%(20000,0,700)")
    assert wait_until(lambda: not _loud(port), 15)
    daemon.kill(a)


def test_displace_time_limit_and_uuid_displace(daemon):
    a, b = daemon.app("displace_session", "tone_stream://%(20000,0,700) +200")
    port = daemon.sw.sessions[b].media
    assert wait_until(lambda: _loud(port), 15)
    assert wait_until(lambda: not _loud(port) and not port._out_mixers, 5)   # limit reached
    assert daemon.api(f"uuid_displace {b} start tone_stream://%(20000,0,500) 0 mux") == "+OK Success\n"
    assert wait_until(lambda: _loud(port), 15)
    assert daemon.api(f"uuid_displace {b} stop tone_stream://%(20000,0,500)") == "+OK Success\n"
    assert daemon.api(f"uuid_displace {b} stop nothing") == "-ERR Cannot stop displace session!\n"
    assert daemon.api("uuid_displace nosuch start x") == "-ERR Cannot locate session!\n"
    assert daemon.api("uuid_displace x") == "-USAGE: <uuid> [start|stop] <path> [<limit>] [mux]\n"
    daemon.kill(a)


def test_three_way_joins_a_call(daemon):
    import numpy as np

    # the target call: pa <-> pb bridged to ta/tb
    pa, pb, _ = daemon.call("answerer")
    ta, tb, _ = daemon.call("park")
    assert daemon.api(f"uuid_bridge {tb} {pb}").startswith("+OK")
    assert wait_until(lambda: daemon.sw.sessions[tb].peer is not None)
    ca, cb = daemon.app("three_way", tb, wait=False)
    # the joining party speaks (a tone on its far leg): both sides of the call hear it
    daemon.api(f"uuid_broadcast {ca} tone_stream://%(20000,0,900) aleg")
    assert wait_until(lambda: _loud(daemon.sw.sessions[tb].media)
                      and _loud(daemon.sw.sessions[pb].media), 10)
    # and it hears the call: the target side talks
    daemon.api(f"uuid_broadcast {pa} tone_stream://%(20000,0,400) aleg")
    assert wait_until(lambda: float(np.abs(daemon.sw.sessions[cb].media.last_write).mean()) > 500, 10)
    daemon.kill(pa, ta)
    assert daemon.wait_var(cb, "three_way_status", timeout=10) == "done"
    daemon.kill(ca)


def test_small_apps(daemon):
    events = EventLog(daemon.sw)
    a, b = daemon.app("check_acl", "127.0.0.1 loopback.auto")
    assert b in daemon.sw.sessions
    daemon.kill(a)
    a, b = daemon.app("check_acl", "8.8.8.8 loopback.auto USER_BUSY", wait=False)
    assert daemon.gone(b)
    a, b = daemon.app("set_name", "sofia/internal/renamed")
    assert daemon.sw.sessions[b].name == "sofia/internal/renamed"
    daemon.kill(a)
    for app, what in (("hold", "HOLD"), ("unhold", "UNHOLD"), ("send_info", "INFO")):
        a, b = daemon.app(app, "x")
        assert events.wait("CHANNEL_DATA", b, Indication=what)
        daemon.kill(a)
    a, b = daemon.app("set_media_stats", "")
    assert daemon.var(b, "rtp_audio_in_media_packet_count").isdigit()
    daemon.kill(a)
    a, b = daemon.app("block_dtmf", "")
    s = daemon.sw.sessions[b]
    s.flush_dtmf()
    daemon.api(f"uuid_recv_dtmf {b} 1")
    assert not s.has_dtmf()
    from fsd_modules.mod_dptools import apps

    apps.unblock_dtmf(s, "")
    daemon.api(f"uuid_recv_dtmf {b} 2")
    assert wait_until(lambda: s.has_dtmf() or bool(events.of("DTMF", b)), 15)
    daemon.kill(a)


def test_execute_extension_runs_another_extension_inline(daemon):
    a, b = daemon.app("execute_extension", "sub_ext XML t")
    assert daemon.var(b, "sub_ext_ran") == "sub_ext"
    assert daemon.var(b, "app_done") == "1"        # and the dialplan carried on
    assert daemon.var(b, "destination_number").startswith("app-execute_extension")
    daemon.kill(a)


def test_detect_silence_plays_its_file_meanwhile(daemon):
    a, b = daemon.app("detect_silence", "300 50 10000 tone_stream://%(20000,0,700)", wait=False)
    port = daemon.sw.sessions[b].media
    assert wait_until(lambda: _loud(port), 15)       # the file plays while listening
    assert daemon.wait_var(b, "detect_silence_timeout", timeout=15) == "false"
    assert wait_until(lambda: not port._out_mixers, 15)
    daemon.kill(a)


def test_heartbeats(daemon):
    events = EventLog(daemon.sw)
    a, b = daemon.app("enable_heartbeat", "1")
    assert len(events.wait("SESSION_HEARTBEAT", b, timeout=15)) >= 1
    assert f",heartbeat,heartbeat-{b}," in daemon.api("show tasks")
    assert daemon.api(f"uuid_session_heartbeat {b} 0") == "+OK\n"
    assert f"heartbeat-{b}" not in daemon.api("show tasks")
    daemon.kill(a)
