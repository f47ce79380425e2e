#!/bin/sh
# mod_email tests need a real sendmail-compatible program: msmtp (relays to the test's
# aiosmtpd server through a temporary config given with -C).  Idempotent.
set -e
if ! command -v msmtp >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends msmtp
fi
