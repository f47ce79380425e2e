"""What a call asks of the media side: SDP offer/answer and the RTP stream.

The SDP grammar and negotiation live in ``sdp.py`` and the RTP stream in ``rtp.py`` (both
owned by the media work); this file only strings them together for one call, so the
signalling code never touches packets.  While ``rtp.py`` is absent the SDP is still
negotiated and advertised (a call then carries no audio).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from fsd.log import ERR, WARNING, log

if TYPE_CHECKING:  # pragma: no cover
    from .call import SipCall

_fake_ports = itertools.count(0)


def _sdp() -> Any:
    from . import sdp

    return sdp


def _rtp_class() -> Any:
    try:
        from . import rtp  # noqa: F401
    except ImportError:
        return None
    return getattr(rtp, "RtpStream", None)


def _true(v: Any) -> bool:
    return str(v or "").strip().lower() in ("true", "yes", "on", "1")


class CallMedia:
    def __init__(self, call: SipCall) -> None:
        self.call = call
        self.cfg = call.stack.cfg
        sdp = _sdp()
        self.origin = sdp.SdpOrigin()
        self.neg: Any = None
        self.stream: Any = None
        self.started = False
        self.local_port = 0
        self.local_direction = "sendrecv"
        self.on_hold = False
        self.remote_sdp = ""
        self.local_sdp = ""

    # -- our codecs ----------------------------------------------------------------------
    def codec_prefs(self) -> str:
        s = self.call.session
        v = None
        if s is not None:
            v = s.get_variable("absolute_codec_string") or s.get_variable("codec_string")
        return (v or self.cfg.codec_prefs or "PCMU,PCMA").lstrip("=")

    @property
    def ip(self) -> str:
        return self.cfg.ext_rtp_ip or self.cfg.rtp_ip or self.cfg.sip_ip

    def _ensure_stream(self) -> None:
        if self.local_port:
            return
        cls = _rtp_class()
        if cls is not None and self.call.session is not None:
            try:
                self.stream = cls(self.call.session, bind_ip=self.cfg.rtp_ip or self.cfg.sip_ip,
                                  on_timeout=lambda st: self.call.media_timeout(),
                                  timeout_sec=self._timeout_sec(),
                                  hold_timeout_sec=self.cfg.rtp_hold_timeout_sec or None,
                                  auto_adjust=not _true(self.call.session.get_variable(
                                      "disable_rtp_auto_adjust")))
                self.local_port = self.stream.local_port
                return
            except Exception as e:  # noqa: BLE001
                log(ERR, f"cannot open an RTP port: {e}")
        lo, hi = self.call.stack.switch.rtp_port_range
        self.local_port = lo + (2 * next(_fake_ports)) % max(2, hi - lo)

    def _timeout_sec(self) -> int:
        s = self.call.session
        v = s.get_variable("rtp_timeout_sec") if s is not None else None
        try:
            return int(v) if v else self.cfg.rtp_timeout_sec
        except ValueError:
            return self.cfg.rtp_timeout_sec

    def _start(self) -> None:
        n = self.neg
        if self.stream is None or n is None:
            return
        try:
            if self.started:
                self.stream.update(n)
            else:
                self.stream.start(n)
                self.started = True
        except Exception as e:  # noqa: BLE001
            log(ERR, f"RTP start failed: {e}")

    # -- offer/answer ----------------------------------------------------------------------
    def remote_offer(self, body: bytes) -> bool:
        """Negotiate a remote offer; False when nothing is in common (→ 488)."""
        sdp = _sdp()
        try:
            desc = sdp.parse_sdp(body)
        except sdp.SdpError as e:
            log(WARNING, f"bad SDP: {e}")
            return False
        neg = sdp.negotiate(desc, self.codec_prefs())
        if neg is None:
            return False
        self.remote_sdp = body.decode("utf-8", "replace")
        self.neg = neg
        return True

    def answer(self) -> bytes:
        self._ensure_stream()
        sdp = _sdp()
        text = sdp.build_answer(self.origin, self.ip, self.local_port, self.neg,
                                dtmf=self.cfg.dtmf_type == "rfc2833")
        self.local_sdp = text
        self._start()
        return text.encode()

    def offer(self) -> bytes:
        self._ensure_stream()
        sdp = _sdp()
        te = self.cfg.rfc2833_pt if self.cfg.dtmf_type == "rfc2833" else None
        text = sdp.build_offer(self.origin, self.ip, self.local_port, self.codec_prefs(),
                               te_pt=te, direction=self.local_direction)
        self.local_sdp = text
        return text.encode()

    def remote_answer(self, body: bytes) -> bool:
        ok = self.remote_offer(body)
        if ok:
            self._start()
        return ok

    def reoffer(self, body: bytes) -> tuple[bytes | None, str | None]:
        """A re-INVITE's offer: (our answer or None for 488, "hold"/"unhold"/None)."""
        old_hold = self.on_hold
        if not self.remote_offer(body):
            return None, None
        self.on_hold = bool(self.neg.hold)
        answer = self.answer()
        change = None
        if self.on_hold and not old_hold:
            change = "hold"
        elif old_hold and not self.on_hold:
            change = "unhold"
        return answer, change

    def variables(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.neg is not None:
            out.update(self.neg.variables())
            out["rtp_use_codec_string"] = self.codec_prefs()
        if self.local_port:
            out["local_media_ip"] = self.cfg.rtp_ip or self.cfg.sip_ip
            out["local_media_port"] = str(self.local_port)
            out["advertised_media_ip"] = self.ip
        if self.local_sdp:
            out["rtp_local_sdp_str"] = self.local_sdp
        if self.cfg.dtmf_type != "rfc2833" and self.neg is not None:
            out["dtmf_type"] = self.cfg.dtmf_type
        return out

    def has_2833(self) -> bool:
        return self.neg is not None and self.neg.te_pt is not None and self.cfg.dtmf_type == "rfc2833"

    def send_dtmf(self, digits: str, duration_ms: int) -> bool:
        if self.stream is None or not self.has_2833():
            return False
        try:
            return bool(self.stream.send_dtmf(digits, duration_ms))
        except Exception as e:  # noqa: BLE001
            log(ERR, f"RFC 2833 send failed: {e}")
            return False

    def close(self) -> None:
        if self.stream is not None:
            try:
                self.stream.close()
            except Exception as e:  # noqa: BLE001
                log(ERR, f"RTP close failed: {e}")
            self.stream = None
