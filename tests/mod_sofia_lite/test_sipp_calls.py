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


def test_lua_ivr_branches_on_rfc2833_digits_from_sipp(sip_rig):
    for digit, branch in (("5", "five"), ("3", "other")):
        sip_rig.sipp("uac_dtmf.xml", "7007", subs={"digit": digit})
        ev = _hangup_vars(sip_rig)
        assert ev.get_header("variable_ivr_digit") == digit
        assert ev.get_header("variable_ivr_branch") == branch
        assert ev.get_header("variable_ivr_caller") == "1005"
        sip_rig.events.events.clear()


def test_info_dtmf_relay_reaches_the_ivr(sip_rig):
    sip_rig.sipp("uac_info.xml", "7007")
    ev = _hangup_vars(sip_rig)
    assert ev.get_header("variable_ivr_digit") == "5"


_BYE_TAIL = """<pause milliseconds="200"/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:1000@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 3 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
  <recv response="200"/>"""


def test_auth_calls_challenges_then_accepts_with_directory_data(tmp_path):
    import shutil

    from fsd.testing import running_switch

    from .conftest import MODULES, Rig, start_rig

    if shutil.which("sipp") is None:
        import pytest

        pytest.skip("sipp is not installed")
    base = start_rig(tmp_path, {"auth-calls": "true"})
    with running_switch(base, MODULES) as sw:
        rig = Rig(sw, base)
        # Authenticated: the call routes in the user's user_context (default), not sip_test.
        rig.sipp("uac_auth.xml", "9196", subs={"user": "1000", "pw": "1234", "want": "200",
                                               "tail": _BYE_TAIL})
        ev = _hangup_vars(rig)
        assert ev.get_header("variable_sip_authorized") == "true"
        assert ev.get_header("variable_sip_auth_username") == "1000"
        assert ev.get_header("variable_effective_caller_id_name") == "Extension 1000"
        assert ev.get_header("Caller-Context") == "default"
        rig.sipp("uac_auth.xml", "7001", subs={"user": "1001", "pw": "bad", "want": "403",
                                               "tail": ""})
        assert rig.udp(b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bKo\r\n"
                       b"From: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n"
                       b"Content-Length: 0\r\n\r\n")[0].startswith("SIP/2.0 200")


def test_call_over_tcp(sip_rig):
    sip_rig.sipp("uac_answered.xml", "7001", extra=["-t", "t1"])
    ev = _hangup_vars(sip_rig)
    assert ev.get_header("variable_sip_via_protocol") == "tcp"
    sip_rig.sipp("options.xml", "ping", extra=["-t", "t1"])


def test_sofia_xmlstatus(sip_rig):
    from lxml import etree

    out = sip_rig.sw.api_execute("sofia xmlstatus")
    assert out.startswith('<?xml version="1.0" encoding="ISO-8859-1"?>\n')
    root = etree.fromstring(out.encode("latin-1"))
    assert root.tag == "profiles" and root.findtext("profile/name") == "internal"
    info = etree.fromstring(sip_rig.sw.api_execute("sofia xmlstatus profile internal").encode("latin-1"))
    assert info.findtext("profile-info/context") == "sip_test"
    reg = etree.fromstring(sip_rig.sw.api_execute("sofia xmlstatus profile internal reg").encode("latin-1"))
    assert reg.find("registrations") is not None
    assert sip_rig.sw.api_execute("sofia xmlstatus gateway nope") == "Invalid Gateway!\n"
