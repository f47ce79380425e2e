"""mod_hash: the in-memory ``hash`` API/application, ``hash_dump``, ``hash_remote`` and the
``hash`` limit backend (FreeSWITCH's mod_hash).

Texts and semantics follow mod_hash.c: keys are ``<realm>_<key>``; the API answers
``+OK``/``-ERR …``, the application only logs its usage on bad input.  ``hash_remote``
knows no remote instances (hash.conf.xml ``<remotes>`` is not read: see docs/compat.md).
"""

from __future__ import annotations

from typing import Any

from fsd_modules.mod_hash.store import HashLimit, HashStore

import fsd
from fsd import limit
from fsd.log import WARNING

HASH_USAGE = "[insert|insert_ifempty|delete|delete_ifmatch]/<realm>/<key>/<val>"
HASH_API_USAGE = "insert|insert_ifempty|select|delete|delete_ifmatch/realm/key[/value]"
HASH_DUMP_SYNTAX = "all|limit|db [<realm>]"
HASH_REMOTE_SYNTAX = "list|kill [name]|rescan"


def _split(text: str) -> list[str]:
    """switch_separate_string on '/' with at most 4 fields (the value keeps its slashes)."""
    return (text or "").strip().split("/", 3) if (text or "").strip() else []


class HashModule:
    def __init__(self, switch: Any) -> None:
        self.store = HashStore()
        self.limit = HashLimit(switch)

    # -- application ---------------------------------------------------------------------
    def app(self, session: Any, data: str) -> None:
        argv = _split(data)
        st = self.store
        if len(argv) < 3 or not argv[0]:
            session.log(WARNING, f"USAGE: hash {HASH_USAGE}\n")
            return
        op, key = argv[0].lower(), f"{argv[1]}_{argv[2]}"
        with st.lock:
            if op == "insert" and len(argv) == 4:
                st.data[key] = argv[3]
            elif op == "insert_ifempty" and len(argv) == 4:
                st.data.setdefault(key, argv[3])
            elif op == "delete":
                st.data.pop(key, None)
            elif op == "delete_ifmatch" and len(argv) == 4:
                if st.data.get(key) == argv[3]:
                    del st.data[key]
            else:
                session.log(WARNING, f"USAGE: hash {HASH_USAGE}\n")

    # -- APIs ----------------------------------------------------------------------------
    def api(self, args: str, session: Any, stream: Any) -> None:
        argv = _split(args)
        st = self.store
        usage = f"-ERR Usage: hash {HASH_API_USAGE}\n"
        if len(argv) < 3 or not argv[0]:
            stream.write(usage)
            return
        op, key = argv[0].lower(), f"{argv[1]}_{argv[2]}"
        with st.lock:
            if op == "insert" and len(argv) == 4:
                st.data[key] = argv[3]
                stream.write("+OK\n")
            elif op == "insert_ifempty" and len(argv) == 4:
                if key in st.data:
                    stream.write("-ERR key already exists\n")
                else:
                    st.data[key] = argv[3]
                    stream.write("+OK\n")
            elif op == "delete":
                if st.data.pop(key, None) is None:
                    stream.write("-ERR Not found\n")
                else:
                    stream.write("+OK\n")
            elif op == "delete_ifmatch" and len(argv) == 4:
                if key not in st.data:
                    stream.write("-ERR Not found\n")
                elif st.data[key] != argv[3]:
                    stream.write("-ERR Doesn't match\n")
                else:
                    del st.data[key]
                    stream.write("+OK\n")
            elif op == "select":
                stream.write(st.data.get(key, ""))
            else:
                stream.write(usage)

    def dump(self, args: str, session: Any, stream: Any) -> None:
        words = (args or "").split()
        if not words or words[0] not in ("all", "limit", "db"):
            stream.write(f"Usage: {HASH_DUMP_SYNTAX}\n")
            return
        mode = {"limit": 1, "db": 2, "all": 3}[words[0]]
        realm = f"{words[1]}_" if len(words) == 2 else None
        if mode & 1:
            for line in self.limit.dump():
                stream.write(line + "\n")
        if mode & 2:
            with self.store.lock:
                items = list(self.store.data.items())
            for k, v in items:
                if realm is None or realm in k:
                    stream.write(f"D/{k}/{v}\n")

    def remote(self, args: str, session: Any, stream: Any) -> None:
        words = (args or "").split()
        if not words:
            stream.write(f"-ERR Usage: {HASH_REMOTE_SYNTAX}\n")
        elif words[0] == "list":
            stream.write("Remote connections:\nName\t\t\tState\n+OK\n")
        elif words[0] == "kill":
            if len(words) < 2:
                stream.write(f"-ERR Usage: {HASH_REMOTE_SYNTAX}\n")
            else:
                stream.write(f"-ERR No such remote instance {words[1]}\n")
        elif words[0] == "rescan":
            stream.write("+OK\n")
        else:
            stream.write(f"-ERR Usage: {HASH_REMOTE_SYNTAX}\n")


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    from fsd.module import APP_ZOMBIE_EXEC

    h = HashModule(module.switch)
    module.state["hash"] = h
    limit.register(module.switch, "hash", h.limit, module.name)
    module.add_application("hash", h.app, "Insert into the hashtable", HASH_USAGE, APP_ZOMBIE_EXEC)
    module.add_api("hash", "hash get/set", "[insert|delete|select]/<realm>/<key>/<value>", h.api)
    module.add_api("hash_dump", "dump hash/limit_hash data (used for synchronization)",
                   HASH_DUMP_SYNTAX, h.dump)
    module.add_api("hash_remote", "hash remote", HASH_REMOTE_SYNTAX, h.remote)


@fsd.hookimpl
def fsd_module_shutdown(module: Any) -> None:
    limit.unregister(module.switch, "hash")
