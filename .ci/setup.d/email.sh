#!/bin/sh
# mod_email tests need a real sendmail-compatible program, msmtp (it relays to the test's
# aiosmtpd server through a temporary config given with -C), and openssl (it makes the
# self-signed certificate for the STARTTLS test).  Idempotent.
set -e
need=""
command -v msmtp >/dev/null 2>&1 || need="$need msmtp"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
if [ -n "$need" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
fi
