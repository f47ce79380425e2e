#!/bin/sh
# mod_lua tests: the conformance suite and the wiki examples run Dbh over core SQLite,
# SQLite through unixODBC and a private PostgreSQL server, send mail through msmtp to a
# test SMTP server, and speak with espeak-ng.  (Other setup scripts install most of
# these too; this one makes mod_lua's tests self-sufficient.)
set -e
need=""
command -v msmtp >/dev/null 2>&1 || need="$need msmtp"
command -v espeak-ng >/dev/null 2>&1 || need="$need espeak-ng"
# luac5.3 lists the globals of the lazily loaded binding chunks (test_lazy_classes.py)
command -v luac5.3 >/dev/null 2>&1 || need="$need lua5.3"
ls /usr/lib/*/odbc/libsqlite3odbc.so >/dev/null 2>&1 || need="$need libsqliteodbc unixodbc"
ls /usr/lib/*/odbc/psqlodbcw.so >/dev/null 2>&1 || need="$need odbc-postgresql"
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need="$need postgresql"
if [ -n "$need" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $need
fi
id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
