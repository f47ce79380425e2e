"""The deployment files in deploy/ are checked by the tools that will run them.

* ``kamailio -c`` parses deploy/kamailio/kamailio.cfg with the defines a test or a
  production host gives it (listen address, dispatcher list, control socket).
* ``systemd-analyze verify`` accepts the units in deploy/systemd/ once ExecStart points at
  the fsd this environment installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KAMAILIO_CFG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
UNITS = ROOT / "deploy" / "systemd"


def kamailio_defines(tmp_path: Path, listen: str, nodes: list[str]) -> list[str]:
    ds_list = tmp_path / "dispatcher.list"
    ds_list.write_text("".join(f"1 sip:{node}\n" for node in nodes))
    return ["-A", f"LISTEN={listen}", "-A", f'DS_LIST="{ds_list}"',
            "-A", f'CTL_SOCKET="unix:{tmp_path / "kamailio_ctl"}"']


def test_kamailio_config_passes_kamailio_check(tmp_path: Path) -> None:
    args = kamailio_defines(tmp_path, "udp:127.0.0.1:25060", ["127.0.0.1:25061", "127.0.0.1:25062"])
    done = subprocess.run(["kamailio", "-c", "-f", str(KAMAILIO_CFG), *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "udp: 127.0.0.1 [127.0.0.1]:25060" in done.stdout + done.stderr


def test_kamailio_check_rejects_a_broken_config(tmp_path: Path) -> None:
    """The check above can fail: the same file with one route statement broken is refused."""
    broken = tmp_path / "broken.cfg"
    broken.write_text(KAMAILIO_CFG.read_text().replace("t_relay();", "t_relay(;", 1))
    args = kamailio_defines(tmp_path, "udp:127.0.0.1:25060", ["127.0.0.1:25061"])
    done = subprocess.run(["kamailio", "-c", "-f", str(broken), *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0


def test_systemd_units_verify(tmp_path: Path) -> None:
    fsd = shutil.which("fsd")
    assert fsd, "the fsd console script is installed with the package"
    for unit in ("fsd.service", "fsd@.service"):
        text = (UNITS / unit).read_text().replace("/opt/fsd/bin/fsd", fsd)
        name = unit.replace("@.", "@node1.")
        (tmp_path / name).write_text(text)
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "fsd.service"),
                           str(tmp_path / "fsd@node1.service")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "not executable" not in done.stderr
