"""Calls into fsd from SIPp (a real SIP stack) against a running daemon."""

from __future__ import annotations

from fsd.testing import wait_until


def _hangup_vars(rig, uuid=None):
    evs = rig.events.wait("CHANNEL_HANGUP_COMPLETE", uuid)
    return evs[-1]


def test_options_answered_with_allow_and_accept(sip_rig):
    sip_rig.sipp("options.xml", "ping")


def test_call_answered_played_and_hung_up_by_fsd(sip_rig):
    sip_rig.sipp("uac_answered.xml", "7001")
    ev = _hangup_vars(sip_rig)
    assert ev.get_header("Channel-Name").startswith("sofia/internal/1005@127.0.0.1")
    assert ev.get_header("variable_sip_hangup_disposition") == "send_bye"
    assert ev.get_header("variable_sip_h_X-Test-Header") == "hello"
    assert ev.get_header("variable_sip_from_user") == "1005"
    assert ev.get_header("variable_sip_to_user") == "7001"
    assert ev.get_header("variable_rtp_use_codec_name") == "PCMU"
    assert ev.get_header("variable_sip_user_agent") == "sipp-test"
    assert ev.get_header("Caller-Destination-Number") == "7001"


def test_caller_hangs_up_with_reason(sip_rig):
    sip_rig.sipp("uac_bye.xml", "7002")
    ev = _hangup_vars(sip_rig)
    assert ev.get_header("Hangup-Cause") == "USER_BUSY"
    assert ev.get_header("variable_sip_hangup_disposition") == "recv_bye"
    assert ev.get_header("variable_sip_term_status") == "200"


def test_cancel_before_answer_is_487_and_originator_cancel(sip_rig):
    sip_rig.sipp("uac_cancel.xml", "7003")
    ev = _hangup_vars(sip_rig)
    assert ev.get_header("Hangup-Cause") == "ORIGINATOR_CANCEL"
    assert ev.get_header("variable_sip_hangup_disposition") == "recv_cancel"


def test_no_shared_codec_is_488_and_the_daemon_keeps_serving(sip_rig):
    sip_rig.sipp("uac_488.xml", "7001")
    sip_rig.sipp("uac_answered.xml", "7001")


def test_lua_reads_sip_variables(sip_rig):
    sip_rig.sipp("uac_answered.xml", "7004")
    ev = _hangup_vars(sip_rig)
    seen = dict(kv.split("=", 1) for kv in ev.get_header("variable_lua_seen").split("|"))
    assert seen["sip_from_user"] == "1005"
    assert seen["sip_to_user"] == "7004"
    assert seen["sip_req_uri"] == f"7004@127.0.0.1:{sip_rig.port}"
    assert seen["sip_call_id"]
    assert seen["sip_user_agent"] == "sipp-test"
    assert seen["sip_contact_uri"].startswith("1005@127.0.0.1:")
    assert seen["sip_received_ip"] == "127.0.0.1"
    assert seen["sip_via_protocol"] == "udp"
    assert seen["sip_h_X-Test-Header"] == "hello"
    assert seen["sofia_profile_name"] == "internal"
    assert seen["rtp_use_codec_name"] == "PCMU"


def test_sofia_status(sip_rig):
    out = sip_rig.sw.api_execute("sofia status")
    assert "internal\tprofile" in out.replace("  ", "")
    assert f"sip:mod_sofia@127.0.0.1:{sip_rig.port}" in out
    assert out.rstrip().endswith("1 profile 0 aliases")
    assert sip_rig.sw.api_execute("sofia status profile nope") == "Invalid Profile!\n"
    assert sip_rig.sw.api_execute("sofia status gateway nope") == "Invalid Gateway!\n"
    info = sip_rig.sw.api_execute("sofia status profile internal")
    assert "Context          \tsip_test" in info
    assert wait_until(lambda: True)
