#!/bin/sh
# Deployment tests: Kamailio (Debian's packages) checks and runs deploy/kamailio/kamailio.cfg;
# SIPp plays the phones; PostgreSQL is the cluster's shared core database; systemd-analyze verifies the units in deploy/systemd/.
set -e
need=""
command -v kamailio >/dev/null 2>&1 || need="$need kamailio"
command -v sipp >/dev/null 2>&1 || need="$need sip-tester"
command -v systemd-analyze >/dev/null 2>&1 || need="$need systemd"
# the cluster test (tests/deploy/test_cluster.py): a private PostgreSQL reached through psqlODBC
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need="$need postgresql"
ls /usr/lib/*/odbc/psqlodbcw.so >/dev/null 2>&1 || need="$need odbc-postgresql unixodbc"
if [ -n "$need" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $need
fi
