"""mod_sofia_lite's contribution to /metrics: registrations and transactions per profile."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from fsd.testing import prepare_base, running_switch, wait_until

from .conftest import MODULES, Client
from .test_metrics import scrape


def _profile_params(base: Path, params: dict[str, str]) -> None:
    p = base / "conf" / "autoload" / "sofia.conf.xml"
    text = p.read_text()
    for k, v in params.items():
        text = re.sub(rf'^.*<param name="{re.escape(k)}"[^>]*/>.*\n', "", text, flags=re.M)
        text = re.sub(r'(<profile name="internal">.*?<settings>)',
                      lambda m, k=k, v=v: f'{m.group(1)}\n<param name="{k}" value="{v}"/>',
                      text, count=1, flags=re.S)
    p.write_text(text)


def test_sip_registrations_are_counted(tmp_path):
    base = tmp_path / "sip"
    mods = MODULES + ["mod_sofia_lite"]
    prepare_base(base, mods)
    _profile_params(base, {"sip-port": "0", "sip-ip": "127.0.0.1", "accept-blind-reg": "true"})
    with running_switch(base, mods) as sw:
        from fsd_modules.mod_xml_rpc import bound_address

        c = Client(*bound_address(sw))
        m = scrape(c)
        assert m['fsd_sip_registrations{profile="internal"}'] == 0
        assert 'fsd_sip_transactions{profile="internal",side="server"}' in m
        port = int(sw.globals.get("sofia_internal_port"))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(5)
            me = s.getsockname()[1]
            msg = (f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-metrics1;rport\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:1000@127.0.0.1>;tag=m1\r\nTo: <sip:1000@127.0.0.1>\r\n"
                   "Call-ID: metrics-reg-1\r\nCSeq: 1 REGISTER\r\n"
                   f"Contact: <sip:1000@127.0.0.1:{me}>\r\nExpires: 300\r\n"
                   "Content-Length: 0\r\n\r\n")
            s.sendto(msg.encode(), ("127.0.0.1", port))
            reply = s.recv(65536).decode()
        assert reply.startswith("SIP/2.0 200"), reply
        assert wait_until(lambda: scrape(c)['fsd_sip_registrations{profile="internal"}'] == 1)
