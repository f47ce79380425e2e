#!/bin/sh
# mod_dialplan_xml: time conditions with `timezone`/`tz` need the IANA zone database
# (Python's zoneinfo reads /usr/share/zoneinfo); slim Debian images lack it.
set -e
if [ ! -f /usr/share/zoneinfo/Europe/Paris ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata
fi
