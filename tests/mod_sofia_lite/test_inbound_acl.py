"""``apply-inbound-acl`` on a profile: a trusted address (a proxy in front of the node) is
not challenged even with ``auth-calls``; an untrusted one is challenged (``auth-calls``) or
refused 403; an unknown list name trusts nobody."""

from __future__ import annotations

import pytest

from fsd.testing import running_switch

from .conftest import MODULES, SDP_PCMU, Rig, request, start_rig


def _statuses(replies: list[str]) -> list[int]:
    return [int(r.split(" ", 2)[1]) for r in replies]


@pytest.mark.parametrize(("acl", "auth_calls", "want"), [
    ("127.0.0.0/8", "true", 200),     # the proxy's address: taken without a challenge
    ("loopback.auto", "false", 200),
    ("10.0.0.0/8", "true", 407),      # anyone else: challenged with auth-calls
    ("10.0.0.0/8", "false", 403),     # ... refused without
    ("no_such_list", "false", 403),   # an unknown list allows nobody
])
def test_inbound_acl_decides_who_is_challenged(tmp_path, acl, auth_calls, want):
    base = start_rig(tmp_path, {"auth-calls": auth_calls, "apply-inbound-acl": acl})
    with running_switch(base, MODULES) as sw:
        rig = Rig(sw, base)
        got = _statuses(rig.udp(request("INVITE", call_id=f"acl{want}", body=SDP_PCMU,
                                        uri="sip:7002@127.0.0.1"), want=3))
        final = [s for s in got if s >= 200]
        assert final[:1] == [want], got
