"""Calls out of fsd to SIPp, bridges through fsd, and re-INVITE hold/resume."""

from __future__ import annotations

from fsd.testing import originate, wait_until

from .conftest import Rig


def test_originate_to_sipp_with_early_media_and_custom_headers(sip_rig):
    proc, port = sip_rig.sipp_bg("uas_answer.xml", "uas")
    uuid, out = originate(sip_rig.sw, f"{{sip_h_X-Custom=hello}}sofia/internal/uas@127.0.0.1:{port} &park()")
    assert uuid, out
    ev = sip_rig.events
    assert ev.wait("CHANNEL_PROGRESS_MEDIA", uuid)
    ans = ev.wait("CHANNEL_ANSWER", uuid)[-1]
    assert ans.get_header("Channel-Name") == f"sofia/internal/uas@127.0.0.1:{port}"
    assert ans.get_header("variable_sip_rh_X-Echo") == "hello"
    assert ans.get_header("variable_rtp_use_codec_name") == "PCMU"
    sip_rig.sw.api_execute(f"uuid_kill {uuid}")
    Rig.finish(proc)
    hc = ev.wait("CHANNEL_HANGUP_COMPLETE", uuid)[-1]
    assert hc.get_header("variable_sip_hangup_disposition") == "send_bye"


def test_busy_uas_is_user_busy(sip_rig):
    proc, port = sip_rig.sipp_bg("uas_busy.xml", "uas")
    uuid, out = originate(sip_rig.sw, f"sofia/internal/busy@127.0.0.1:{port} &park()")
    assert uuid is None and out == "-ERR USER_BUSY\n", out
    Rig.finish(proc)
    hc = sip_rig.events.wait("CHANNEL_HANGUP_COMPLETE")[-1]
    assert hc.get_header("variable_sip_term_status") == "486"
    assert hc.get_header("variable_sip_hangup_disposition") == "recv_refuse"
    assert hc.get_header("variable_sip_rh_X-Busy-Reason") == "testing"


def test_nobody_there_is_a_timeout(sip_rig):
    from .conftest import free_port

    uuid, out = originate(sip_rig.sw, f"{{originate_timeout=2}}sofia/internal/x@127.0.0.1:{free_port()} &park()")
    assert uuid is None and out in ("-ERR NO_ANSWER\n", "-ERR RECOVERY_ON_TIMER_EXPIRE\n"), out


def test_bad_dial_strings(sip_rig):
    for dial, cause in (("sofia/nope/x@127.0.0.1", "INVALID_PROFILE"),
                        ("sofia/gateway/nope/123", "INVALID_GATEWAY"),
                        ("sofia/internal/1009%nowhere", "USER_NOT_REGISTERED")):
        uuid, out = originate(sip_rig.sw, f"{dial} &park()")
        assert uuid is None and cause in out, (dial, out)


def test_bridge_sipp_to_sipp_through_fsd_with_early_media(sip_rig):
    proc, port = sip_rig.sipp_bg("uas_answer.xml", "uas")
    sip_rig.sw.globals.set("bridge_target", f"sofia/internal/uas@127.0.0.1:{port}")
    sip_rig.sipp("uac_bye.xml", "8123")
    Rig.finish(proc)
    def dispositions():
        return {e.get_header("variable_sip_hangup_disposition")
                for e in sip_rig.events.of("CHANNEL_HANGUP_COMPLETE")}
    assert wait_until(lambda: dispositions() >= {"recv_bye", "send_bye"}, 10), dispositions()


def test_reinvite_hold_and_resume(sip_rig):
    sip_rig.sipp("uac_hold.xml", "7002")
    sip_rig.events.wait("CHANNEL_HOLD")
    sip_rig.events.wait("CHANNEL_UNHOLD")


def test_invite_to_nobody_times_out_on_timer_b(tmp_path):
    # T1 = 50 ms: the INVITE is re-sent (timer A) until 64·T1 = 3.2 s (timer B).
    import socket

    from fsd.testing import running_switch

    from .conftest import MODULES, recv_replies, start_rig

    base = start_rig(tmp_path, {"timer-T1": "50"})
    with running_switch(base, MODULES) as sw, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))  # a silent peer: it reads, never answers
        port = s.getsockname()[1]
        uuid, out = originate(sw, f"{{originate_timeout=30}}sofia/internal/x@127.0.0.1:{port} &park()")
        assert uuid is None and out == "-ERR RECOVERY_ON_TIMER_EXPIRE\n", out
        invites = [m for m in recv_replies(s, 20, 1) if m.startswith("INVITE ")]
        assert len(invites) >= 5 and len(set(invites)) == 1
