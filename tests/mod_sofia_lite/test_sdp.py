"""SDP: parsing (every bad-input path raises SdpError with a reason), negotiation as
FreeSWITCH's generous/greedy modes, offers and answers in FreeSWITCH's shape."""

from __future__ import annotations

import pytest
from fsd_modules.mod_sofia_lite.sdp import (
    SdpError,
    SdpOrigin,
    build_answer,
    build_offer,
    negotiate,
    parse_codec_prefs,
    parse_sdp,
)


def sdp(media: str = "m=audio 4000 RTP/AVP 0 8 101\r\n", conn: str = "c=IN IP4 10.0.0.5\r\n",
        extra: str = "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n") -> str:
    return f"v=0\r\no=alice 123 456 IN IP4 10.0.0.5\r\ns=call\r\n{conn}t=0 0\r\n{media}{extra}"


def test_parse_a_phone_offer():
    d = parse_sdp(sdp(extra="a=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\n"
                      "a=maxptime:40\r\na=sendonly\r\n"))
    assert (d.username, d.sess_id, d.sess_version, d.connection) == ("alice", "123", "456",
                                                                     "10.0.0.5")
    a = d.audio
    assert a.port == 4000 and a.pts == [0, 8, 101] and a.ptime == 30 and a.maxptime == 40
    assert a.direction == "sendonly"
    assert a.codec_of(0).name == "PCMU" and a.codec_of(101).name == "telephone-event"
    assert a.codec_of(99) is None


def test_parse_accepts_bytes_lf_only_and_unknown_lines():
    text = sdp().replace("\r\n", "\n") + "x=whatever\nb=AS:64\nm=video 0 RTP/AVP 31\n"
    d = parse_sdp(text.encode())
    assert len(d.media) == 2 and d.audio.port == 4000


@pytest.mark.parametrize("text,reason", [
    ("", "empty"),
    ("   \r\n\r\n", "empty"),
    ("hello world", "v=0"),
    ("v=1\r\n", "v=0"),
    ("v=0\r\nthis is not sdp\r\n", "not <type>=<value>"),
    ("v=0\r\no=short\r\n", "o= needs 6"),
    ("v=0\r\nc=IN IP4\r\n", "c= must be"),
    ("v=0\r\nc=XX IP4 1.2.3.4\r\n", "c= must be"),
    ("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio\r\n", "m= needs"),
    ("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio port RTP/AVP 0\r\n", "bad media port"),
    ("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n", "bad media port"),
    ("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus\r\n", "rtpmap"),
    ("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:x opus/8000\r\n", "rtpmap"),
    ("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "connection address"),
    ("v=0\r\n" + "a=x\r\n" * 600, "lines"),
])
def test_garbage_raises_sdp_error_with_a_reason(text, reason):
    with pytest.raises(SdpError, match=reason):
        parse_sdp(text)


def test_not_text_raises_sdp_error():
    with pytest.raises(SdpError):
        parse_sdp(None)  # type: ignore[arg-type]


def test_generous_takes_the_remote_order_greedy_ours():
    d = parse_sdp(sdp("m=audio 4000 RTP/AVP 8 0 101\r\n"))
    assert negotiate(d, ["PCMU", "PCMA"]).codec == "PCMA"
    assert negotiate(d, ["PCMU", "PCMA"], mode="greedy").codec == "PCMU"
    assert negotiate(d, "PCMU@20i,PCMA@20i", mode="scrooge").codec == "PCMU"


def test_negotiated_fields_and_variables():
    n = negotiate(parse_sdp(sdp(extra="a=rtpmap:101 telephone-event/8000\r\n"
                                "a=rtpmap:13 CN/8000\r\na=ptime:30\r\n")), ["PCMU"])
    assert (n.codec, n.pt, n.rate, n.ptime, n.te_pt) == ("PCMU", 0, 8000, 30, 101)
    assert (n.remote_ip, n.remote_port, n.direction) == ("10.0.0.5", 4000, "sendrecv")
    assert n.cn_pt is None  # CN offered only by rtpmap, not listed on the m= line
    v = n.variables()
    assert v["rtp_use_codec_name"] == "PCMU" and v["remote_media_port"] == "4000"
    assert v["dtmf_type"] == "rfc2833" and v["rtp_2833_send_payload"] == "101"
    assert n.codec_string() == "PCMU@8000h@30i"


def test_no_common_codec_gives_none():
    d = parse_sdp(sdp("m=audio 4000 RTP/AVP 18 9 101\r\n"))
    assert negotiate(d, ["PCMU", "PCMA"]) is None
    assert negotiate(parse_sdp(sdp()), ["G729", "opus"]) is None
    assert negotiate(parse_sdp(sdp()), []) is None


def test_dynamic_pt_for_a_static_codec_does_not_match():
    d = parse_sdp(sdp("m=audio 4000 RTP/AVP 96\r\n", extra="a=rtpmap:96 PCMU/8000\r\n"))
    assert negotiate(d, ["PCMU"]) is None


def test_wrong_rate_does_not_match():
    d = parse_sdp(sdp("m=audio 4000 RTP/AVP 0\r\n", extra="a=rtpmap:0 PCMU/16000\r\n"))
    assert negotiate(d, ["PCMU"]) is None


def test_rejected_srtp_and_video_streams_are_skipped():
    media = ("m=video 5000 RTP/AVP 31\r\nm=audio 0 RTP/AVP 0\r\n"
             "m=audio 6000 RTP/SAVP 0\r\nm=audio 7000 RTP/AVP 8\r\n")
    n = negotiate(parse_sdp(sdp(media, extra="")), ["PCMU", "PCMA"])
    assert n.codec == "PCMA" and n.remote_port == 7000 and n.media_index == 3
    assert n.te_pt is None and n.variables()["dtmf_type"] == "info"


def test_media_level_connection_and_direction_win():
    d = parse_sdp(sdp("m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.168.1.9\r\na=recvonly\r\n",
                      extra="") + "")
    n = negotiate(d, ["PCMU"])
    assert n.remote_ip == "192.168.1.9" and n.direction == "recvonly"
    assert n.answer_direction == "sendonly" and n.we_send and not n.we_receive


@pytest.mark.parametrize("extra,conn,hold,answer", [
    ("a=sendonly\r\n", "10.0.0.5", True, "recvonly"),
    ("a=inactive\r\n", "10.0.0.5", True, "inactive"),
    ("", "0.0.0.0", True, "sendrecv"),
    ("a=sendrecv\r\n", "10.0.0.5", False, "sendrecv"),
])
def test_hold_forms(extra, conn, hold, answer):
    n = negotiate(parse_sdp(sdp(conn=f"c=IN IP4 {conn}\r\n", extra=extra)), ["PCMU"])
    assert n.hold is hold and n.answer_direction == answer
    if hold:
        assert not n.we_send


def test_session_level_direction_applies():
    text = sdp(extra="").replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n")
    assert negotiate(parse_sdp(text), ["PCMU"]).direction == "sendonly"


def test_maxptime_caps_ptime():
    n = negotiate(parse_sdp(sdp(extra="a=ptime:60\r\na=maxptime:40\r\n")), ["PCMU"])
    assert n.ptime == 40


def test_codec_prefs_options_and_unknowns():
    assert parse_codec_prefs("PCMU@20i,opus@48000h@20i,PCMA@8000h@30i,PCMU") == [
        ("PCMU", 20), ("PCMA", 30)]


def test_answer_shape_and_unused_streams_rejected():
    offer = sdp("m=audio 4000 RTP/AVP 0 8 101 13\r\na=rtpmap:101 telephone-event/8000\r\n"
                "m=video 5000 RTP/AVP 31\r\n", extra="")
    n = negotiate(parse_sdp(offer), ["PCMU", "PCMA"])
    o = SdpOrigin(sess_id=1234567)
    text = build_answer(o, "127.0.0.1", 20000, n)
    lines = text.split("\r\n")
    assert lines[:5] == ["v=0", "o=FreeSWITCH 0001234567 0001234568 IN IP4 127.0.0.1",
                         "s=FreeSWITCH", "c=IN IP4 127.0.0.1", "t=0 0"]
    assert "m=audio 20000 RTP/AVP 0 101 13" in lines
    assert "a=rtpmap:0 PCMU/8000" in lines and "a=fmtp:101 0-15" in lines
    assert "a=ptime:20" in lines and "a=sendrecv" in lines
    assert "m=video 0 RTP/AVP 31" in lines
    again = parse_sdp(text)
    assert negotiate(again, ["PCMU"]).remote_port == 20000


def test_origin_version_goes_up_only_when_the_sdp_changes():
    n = negotiate(parse_sdp(sdp()), ["PCMU"])
    o = SdpOrigin(sess_id=42)
    a1 = parse_sdp(build_answer(o, "127.0.0.1", 20000, n))
    a2 = parse_sdp(build_answer(o, "127.0.0.1", 20000, n))  # 183 then 200: same SDP
    assert a1.sess_version == a2.sess_version
    hold = negotiate(parse_sdp(sdp(extra="a=sendonly\r\n")), ["PCMU"])
    a3 = parse_sdp(build_answer(o, "127.0.0.1", 20000, hold))  # re-INVITE: changed
    assert int(a3.sess_version) == int(a1.sess_version) + 1 and a3.sess_id == a1.sess_id
    assert a3.audio.direction == "recvonly"


def test_offer_shape():
    o = SdpOrigin()
    text = build_offer(o, "127.0.0.1", 30000, ["PCMA@30i", "PCMU"])
    lines = text.split("\r\n")
    assert "m=audio 30000 RTP/AVP 8 0 101 13" in lines
    assert "a=rtpmap:101 telephone-event/8000" in lines and "a=fmtp:101 0-15" in lines
    assert "a=rtpmap:13 CN/8000" in lines and "a=ptime:30" in lines
    assert "a=sendrecv" in lines
    # Our own offer negotiates back to our first codec.
    assert negotiate(parse_sdp(text), ["PCMU", "PCMA"]).codec == "PCMA"
    held = build_offer(o, "127.0.0.1", 30000, ["PCMU"], direction="sendonly", te_pt=None,
                       cn=False)
    assert "a=sendonly" in held and "telephone-event" not in held
    with pytest.raises(ValueError):
        build_offer(o, "127.0.0.1", 30000, ["PCMU"], direction="sideways")


def test_ipv6_connection():
    text = sdp(conn="c=IN IP6 ::1\r\n")
    assert negotiate(parse_sdp(text), ["PCMU"]).remote_ip == "::1"
    assert "c=IN IP6 ::1" in build_offer(SdpOrigin(), "::1", 20000, ["PCMU"])
