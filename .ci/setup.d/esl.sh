#!/bin/sh
# mod_event_socket tests: openssl makes the self-signed certificate of the TLS test.
set -e
command -v openssl >/dev/null 2>&1 && exit 0
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssl
