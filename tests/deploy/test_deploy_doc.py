"""docs/deploy.md is what deploy/launch_cluster.py does (the launcher test_cluster.py runs):

* every file the doc shows (``<!-- file: path -->`` before a code block) is that file of the
  repository, byte for byte, and every file the launcher installs is shown;
* every generated file it shows (``<!-- render: what -->``) is what the launcher writes for
  the values shown (node1's node.xml, the dispatcher list, Kamailio's command line).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"

_spec = importlib.util.spec_from_file_location("launch_cluster", ROOT / "deploy" / "launch_cluster.py")
launch_cluster = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = launch_cluster
_spec.loader.exec_module(launch_cluster)

BLOCK = re.compile(r"<!-- (file|render): ([^>]+?) -->\n```[a-z]*\n(.*?)```", re.S)
DSN = "pgsql://host=127.0.0.1 port=5432 dbname=fsd user=fsd password=fsd-secret"


def blocks(kind: str) -> dict[str, str]:
    return {name: body for k, name, body in BLOCK.findall(DOC.read_text()) if k == kind}


def doc_nodes() -> list:
    return [launch_cluster.Node(f"node{i}", Path(f"/var/lib/fsd/node{i}"), 5069 + i, 8021 + i,
                                20000 + 1000 * i) for i in (1, 2, 3)]


def test_every_file_shown_is_the_repository_file() -> None:
    shown = blocks("file")
    assert shown, "docs/deploy.md shows no file"
    for rel, body in shown.items():
        assert body == (ROOT / rel).read_text(), f"docs/deploy.md shows an outdated {rel}"


def test_every_file_the_launcher_installs_is_shown() -> None:
    shown = set(blocks("file"))
    assert launch_cluster.NODE_CONF == ROOT / "deploy" / "node" / "conf"
    assert launch_cluster.KAMAILIO_CFG == ROOT / "deploy" / "kamailio" / "kamailio.cfg"
    wanted = {str(p.relative_to(ROOT)) for p in launch_cluster.NODE_CONF.rglob("*") if p.is_file()}
    wanted |= {"deploy/kamailio/kamailio.cfg", "deploy/systemd/fsd.service",
               "deploy/systemd/fsd@.service"}
    assert wanted <= shown, f"not shown in docs/deploy.md: {sorted(wanted - shown)}"


def test_generated_files_are_what_the_launcher_writes() -> None:
    rendered = blocks("render")
    nodes = doc_nodes()
    assert rendered["node_xml node1"] == launch_cluster.node_xml(nodes[0], "127.0.0.1:5060", DSN)
    assert rendered["dispatcher_list"] == launch_cluster.dispatcher_list(nodes)
    cmd = shlex.split(rendered["kamailio_command"].replace("\\\n", " "))
    assert cmd == launch_cluster.kamailio_command(
        Path("/etc/kamailio/kamailio.cfg"), Path("/run/kamailio"), "127.0.0.1:5060", 5, 4000)


def test_a_changed_file_is_caught(tmp_path: Path) -> None:
    """The check above can fail: one byte changed in a shown file no longer matches."""
    body = blocks("file")["deploy/node/conf/autoload/sofia.conf.xml"]
    assert body.replace("auth-calls", "auth-callz") != (
        ROOT / "deploy/node/conf/autoload/sofia.conf.xml").read_text()
