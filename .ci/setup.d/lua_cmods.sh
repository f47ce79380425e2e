#!/bin/sh
# Debian's Lua 5.3 C modules that FreeSWITCH scripts require (tests/mod_lua/test_c_modules.py)
set -e
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
    lua-cjson lua-socket lua-sql-sqlite3 lua-sql-postgres
