"""Bad SIP input: each gets its answer (or is dropped) and the daemon keeps serving.

A dropped message is proven dropped by sending an OPTIONS right after it on the same socket:
the first reply must be the OPTIONS' 200."""

from __future__ import annotations

import socket

import pytest

from fsd.testing import running_switch, wait_until

from .conftest import MODULES, SDP_PCMU, Rig, recv_replies, request, start_rig  # noqa: F401


def _status(reply: str) -> int:
    return int(reply.split(" ", 2)[1])


def _dropped_then_options(rig, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.sendto(data.replace(b"PORT", str(s.getsockname()[1]).encode()), ("127.0.0.1", rig.port))
        first = rig.udp(request("OPTIONS", call_id="after"), sock=s)
    assert first and first[0].startswith("SIP/2.0 200 OK") and "CSeq: 1 OPTIONS" in first[0]


@pytest.mark.parametrize("data", [
    b"\x00\x01\x02garbage",
    b"INVITE sip:7001@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:PORT",  # truncated
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnone\r\nCSeq: 1 INVITE\r\n\r\n",
    b"INVITE sip:7001@127.0.0.1 SIP/2.0\r\nFrom: <sip:a@b>\r\n\r\n",  # no Via: cannot answer
])
def test_unanswerable_messages_are_dropped(sip_rig, data):
    _dropped_then_options(sip_rig, data)
    assert sip_rig.sw.api_execute("sofia status").count("RUNNING") == 1


@pytest.mark.parametrize("omit", ["From", "To", "Call-ID", "CSeq"])
def test_missing_mandatory_header_is_400(sip_rig, omit):
    r = sip_rig.udp(request("INVITE", omit=(omit,), body=SDP_PCMU, call_id=f"miss{omit}"))
    assert _status(r[0]) == 400 and omit in r[0].split("\r\n")[0]


def test_wrong_content_length_is_400(sip_rig):
    data = request("OPTIONS", call_id="cl").replace(b"Content-Length: 0", b"Content-Length: 500")
    assert _status(sip_rig.udp(data)[0]) == 400


def test_huge_header_is_513(sip_rig):
    data = request("OPTIONS", call_id="big", extra="X-Huge: " + "a" * 20000)
    assert sip_rig.udp(data)[0].startswith("SIP/2.0 513 Message Too Large")


def test_unknown_method_is_501_and_unoffered_method_405(sip_rig):
    assert _status(sip_rig.udp(request("FOOBAR", call_id="u1"))[0]) == 501
    r = sip_rig.udp(request("SUBSCRIBE", call_id="u2"))[0]
    assert _status(r) == 405 and "Allow: INVITE" in r


def test_max_forwards_zero_is_483_and_bad_cseq_400(sip_rig):
    data = request("INVITE", call_id="mf", body=SDP_PCMU).replace(b"Max-Forwards: 70", b"Max-Forwards: 0")
    assert _status(sip_rig.udp(data)[0]) == 483
    data = request("INVITE", call_id="cs", body=SDP_PCMU).replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE")
    assert _status(sip_rig.udp(data)[0]) == 400


def test_bye_outside_a_dialog_is_481_and_bad_uri_scheme_416(sip_rig):
    assert _status(sip_rig.udp(request("BYE", call_id="nod", extra="")
                               .replace(b"To: <sip:7001@127.0.0.1>", b"To: <sip:7001@127.0.0.1>;tag=zz"))[0]) == 481
    assert _status(sip_rig.udp(request("OPTIONS", call_id="sch", uri="http://x"))[0]) == 416


def test_invite_without_contact_is_400_and_without_sdp_480(sip_rig):
    r = sip_rig.udp(request("INVITE", call_id="noc", omit=("Contact",), body=SDP_PCMU))
    assert _status(r[0]) == 400
    r = sip_rig.udp(request("INVITE", call_id="nosdp"), want=2)
    assert [_status(x) for x in r][-1] == 480


def test_retransmitted_request_gets_the_same_answer(sip_rig):
    data = request("OPTIONS", call_id="rt")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        a = sip_rig.udp(data, sock=s)[0]
        b = sip_rig.udp(data, sock=s)[0]
    assert a == b


def test_invite_flood_beyond_sessions_per_second_gets_503(tmp_path):
    base = start_rig(tmp_path, switch_settings={"sessions-per-second": "3"})
    with running_switch(base, MODULES) as sw:
        rig = Rig(sw, base)
        statuses = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = str(s.getsockname()[1]).encode()
            for i in range(15):
                s.sendto(request("INVITE", call_id=f"flood{i}", body=SDP_PCMU, uri="sip:7005@127.0.0.1")
                         .replace(b"PORT", port), ("127.0.0.1", rig.port))
            for r in recv_replies(s, 60, 10):
                st = _status(r)
                if st >= 200:
                    statuses.append(st)
                    if len(statuses) == 15:
                        break
        assert len(statuses) == 15
        assert 503 in statuses and 486 in statuses
        assert set(statuses) <= {486, 503}
        assert wait_until(lambda: not sw.sessions, 10)
        assert rig.udp(request("OPTIONS", call_id="alive"))[0].startswith("SIP/2.0 200")


def test_merged_request_is_482(sip_rig):
    first = request("INVITE", call_id="merge", body=SDP_PCMU, uri="sip:7003@127.0.0.1")
    second = first.replace(b"branch=z9hG4bKmerge1INVITE", b"branch=z9hG4bKother")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        got = sip_rig.udp(first, sock=s, want=2)  # 100 Trying, 180 Ringing
        assert [_status(r) for r in got] == [100, 180]
        r = sip_rig.udp(second, sock=s)
        assert _status(r[0]) == 482
        cancel = request("CANCEL", call_id="merge", uri="sip:7003@127.0.0.1").replace(
            b"z9hG4bKmerge1CANCEL", b"z9hG4bKmerge1INVITE")
        got = sip_rig.udp(cancel, sock=s, want=2)
        assert sorted(_status(x) for x in got) == [200, 487]


def test_register_with_an_unknown_nonce_is_stale(sip_rig):
    auth = ('Authorization: Digest username="1000", realm="127.0.0.1", nonce="not-ours", '
            'uri="sip:127.0.0.1", response="00000000000000000000000000000000", algorithm=MD5')
    r = sip_rig.udp(request("REGISTER", call_id="stale", uri="sip:127.0.0.1", extra=auth))[0]
    assert _status(r) == 401 and "stale=true" in r and 'qop="auth"' in r


def test_200_is_retransmitted_until_the_ack_then_bye(tmp_path):
    # T1 = 50 ms: the 200 goes out at 0, 50, 150, 350… ms; with no ACK by 64·T1 the call
    # ends with a BYE (RECOVERY_ON_TIMER_EXPIRE).
    base = start_rig(tmp_path, {"timer-T1": "50", "timer-T2": "400"})
    with running_switch(base, MODULES) as sw:
        rig = Rig(sw, base)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            got = rig.udp(request("INVITE", call_id="noack", body=SDP_PCMU, uri="sip:7002@127.0.0.1"),
                          sock=s, want=1, timeout=5)
            while not got[-1].startswith("BYE ") and len(got) < 40:
                more = recv_replies(s, 1, 10)
                assert more, [g.split("\r\n", 1)[0] for g in got]
                got += more
        firsts = [r.split("\r\n", 1)[0] for r in got]
        assert firsts[0] == "SIP/2.0 100 Trying"
        oks = [r for r in got if r.startswith("SIP/2.0 200")]
        assert len(oks) >= 4 and len(set(oks)) == 1
        assert any(f.startswith("BYE ") for f in firsts)
        ev = rig.events.wait("CHANNEL_HANGUP_COMPLETE")[-1]
        assert ev.get_header("Hangup-Cause") == "RECOVERY_ON_TIMER_EXPIRE"


def test_refusal_is_retransmitted_until_the_ack(tmp_path):
    base = start_rig(tmp_path, {"timer-T1": "50", "timer-T2": "400"})
    with running_switch(base, MODULES) as sw:
        rig = Rig(sw, base)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            got = rig.udp(request("INVITE", call_id="busy", body=SDP_PCMU, uri="sip:7005@127.0.0.1"),
                          sock=s, want=4, timeout=5)
            busy = [r for r in got if r.startswith("SIP/2.0 486")]
            assert len(busy) >= 2 and "Reason: Q.850;cause=17;text=\"USER_BUSY\"" in busy[0]
            to = [ln for ln in busy[0].split("\r\n") if ln.startswith("To:")][0]
            ack = request("ACK", call_id="busy", uri="sip:7005@127.0.0.1").replace(
                b"z9hG4bKbusy1ACK", b"z9hG4bKbusy1INVITE").replace(b"To: <sip:7001@127.0.0.1>", to.encode())
            s.sendto(ack.replace(b"PORT", str(s.getsockname()[1]).encode()), ("127.0.0.1", rig.port))
            # After the ACK: nothing more but the answer to our next request.
            after = rig.udp(request("OPTIONS", call_id="after-ack"), sock=s, want=1)
            assert after[0].startswith("SIP/2.0 200") and "OPTIONS" in after[0]


def test_sip_ph_and_sip_rh_variables_become_response_headers(sip_rig):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        got = sip_rig.udp(request("INVITE", call_id="hdrs", body=SDP_PCMU, uri="sip:7009@127.0.0.1"),
                          sock=s, want=3)
    by = {_status(r): r for r in got}
    assert "X-Early: 1" in by[183] and "application/sdp" in by[183]
    assert "X-Final: 2" in by[200] and "m=audio" in by[200]


def test_respond_sends_exactly_that_status(sip_rig):
    got = sip_rig.udp(request("INVITE", call_id="resp", body=SDP_PCMU, uri="sip:7010@127.0.0.1"), want=2)
    final = [r for r in got if _status(r) >= 200][0]
    assert final.startswith("SIP/2.0 403 Go Away")
    ev = sip_rig.events.wait("CHANNEL_HANGUP_COMPLETE")[-1]
    assert ev.get_header("Hangup-Cause") == "CALL_REJECTED"
    assert ev.get_header("variable_sip_term_status") == "403"


@pytest.mark.parametrize("extra,name,number,hide,var", [
    ('Remote-Party-ID: "Bob" <sip:5550001@x>;party=calling;privacy=full;screen=no',
     "Bob", "5550001", "true", ("variable_sip_cid_type", "rpid")),
    ('P-Asserted-Identity: "Alice" <sip:5551234@x>\nPrivacy: id',
     "Alice", "5551234", "true", ("variable_sip_P-Asserted-Identity", "5551234")),
    ("", "1005", "1005", "false", ("variable_sip_from_user", "1005")),
])
def test_caller_id_from_identity_headers(sip_rig, extra, name, number, hide, var):
    cid = f"cid{number}"
    sip_rig.udp(request("INVITE", call_id=cid, body=SDP_PCMU, uri="sip:7005@127.0.0.1", extra=extra), want=2)
    def mine():
        return [e for e in sip_rig.events.of("CHANNEL_HANGUP_COMPLETE")
                if e.get_header("variable_sip_call_id") == cid]
    assert wait_until(mine, 8)
    ev = mine()[-1]
    assert ev.get_header("Caller-Caller-ID-Name") == name
    assert ev.get_header("Caller-Caller-ID-Number") == number
    assert ev.get_header("Caller-Privacy-Hide-Number") == hide
    assert ev.get_header(var[0]) == var[1]


def test_inbound_and_register_acls(tmp_path):
    base = start_rig(tmp_path, {"apply-inbound-acl": "192.0.2.0/24", "apply-register-acl": "192.0.2.0/24"})
    with running_switch(base, MODULES) as sw:
        rig = Rig(sw, base)
        got = rig.udp(request("INVITE", call_id="acl1", body=SDP_PCMU), want=1)
        assert _status(got[0]) == 403
        got = rig.udp(request("REGISTER", call_id="acl2", uri="sip:127.0.0.1"), want=1)
        assert _status(got[0]) == 403
    base2 = start_rig(tmp_path, {"apply-inbound-acl": "loopback.auto:sip_test", "auth-calls": "true"},
                      name="fsd2")
    with running_switch(base2, MODULES) as sw:
        rig = Rig(sw, base2)
        rig.sipp("uac_answered.xml", "7001")  # no challenge: the ACL authorizes
        ev = rig.events.wait("CHANNEL_HANGUP_COMPLETE")[-1]
        assert ev.get_header("variable_sip_authorized") == "true"
        assert ev.get_header("variable_sip_acl_authed_by") == "loopback.auto"


def test_invite_retransmitted_after_the_200_gets_the_200_not_a_second_call(sip_rig):
    data = request("INVITE", call_id="retx", body=SDP_PCMU, uri="sip:7002@127.0.0.1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        got = sip_rig.udp(data, sock=s, want=2)
        ok = [r for r in got if r.startswith("SIP/2.0 200")]
        assert ok
        again = sip_rig.udp(data, sock=s, want=1)
        assert again[0] == ok[0]
    assert len(sip_rig.sw.sessions) == 1
    for uuid in list(sip_rig.sw.sessions):
        sip_rig.sw.api_execute(f"uuid_kill {uuid}")
