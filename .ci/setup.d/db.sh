#!/bin/sh
# mod_db test dependencies: unixODBC, the SQLite and PostgreSQL ODBC drivers, a PostgreSQL
# server (the tests start their own cluster with initdb/pg_ctl as the postgres user), and
# gcc + SQLite headers to build the tiny extension the load_extension test loads.
set -e
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    unixodbc unixodbc-dev odbc-postgresql libsqliteodbc postgresql \
    gcc libc6-dev libsqlite3-dev
# Debian's postgresql package creates the postgres system user the tests run the server as.
id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
