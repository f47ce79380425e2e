"""Time-of-day conditions: the comparators and the conditions in a hunt (clock injected)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fsd_modules.mod_dialplan_xml import timematch as tm

# Monday 4 March 2024, 10:30:15 (wall clock).  yday 64, ISO-less week = 63//7+1 = 10.
MON = datetime(2024, 3, 4, 10, 30, 15)


@pytest.mark.parametrize("exp,val,ok", [
    ("5", 5, True), ("5", 6, False), ("1-5", 1, True), ("1-5", 5, True), ("1-5", 6, False),
    ("1,3,5", 3, True), ("1,3,5", 4, False), ("1-3,7,9-10", 10, True), ("1-3,7,9-10", 8, False),
    ("18-8", 23, True), ("18-8", 3, True), ("18-8", 12, False), (" 7", 7, True), ("", 0, True),
    ("x", 0, True), ("x", 1, False),
])
def test_number_cmp(exp, val, ok):
    assert tm.number_cmp(exp, val) is ok


@pytest.mark.parametrize("exp,val,ok", [
    ("mon-fri", 2, True), ("mon-fri", 6, True), ("mon-fri", 1, False), ("mon-fri", 7, False),
    ("MON,Wed", 4, True), ("2-6", 4, True), ("sat-sun", 7, True), ("sat-sun", 1, True),
    ("sat-sun", 2, False), ("1", 1, True), ("sun", 1, True), ("fri-mon", 3, False),
    ("monday", 2, True), ("xyz", 2, False), ("8", 1, False), ("mon, tue", 3, False),
])
def test_dow_cmp(exp, val, ok):
    assert tm.dow_cmp(exp, val) is ok


def test_dow_parse_error_is_reported():
    errors = []
    assert tm.dow_cmp("funday", 2, errors.append) is False
    assert errors and "Parse error for [funday]" in errors[0]


@pytest.mark.parametrize("exp,hms,ok", [
    ("09:00-17:00", (9, 0, 0), True), ("09:00-17:00", (17, 0, 0), True),
    ("09:00-17:00", (17, 0, 1), False), ("09:00-17:00", (8, 59, 59), False),
    ("09:00:30-09:00:45", (9, 0, 40), True), ("09:00:30-09:00:45", (9, 0, 50), False),
    ("22:00-06:00", (23, 0, 0), True), ("22:00-06:00", (5, 0, 0), True),
    ("22:00-06:00", (12, 0, 0), False), ("08:00-09:00,12:00-13:00", (12, 30, 0), True),
    ("9-17", (10, 0, 0), False), ("garbage", (10, 0, 0), False),
])
def test_tod_cmp(exp, hms, ok):
    h, m, s = hms
    assert tm.tod_cmp(exp, h * 3600 + m * 60 + s) is ok


@pytest.mark.parametrize("exp,ok", [
    ("2024-03-04 10:00~2024-03-04 11:00", True),
    ("2024-03-04 10:30:15~2024-03-04 10:30:16", True),
    ("2024-03-04 10:00~2024-03-04 10:30:15", False),  # end exclusive
    ("2024-03-05 00:00~2024-03-06 00:00", False),
    ("2024-02-30 00:00~2024-03-04 10:31", True),  # mktime-style normalisation
    ("2024-03-04 10:00", False), ("2024-03-04~2024-03-05", False), ("", False),
])
def test_fulldate_cmp(exp, ok):
    assert tm.fulldate_cmp(exp, MON) is ok


@pytest.mark.parametrize("attrs,ok", [
    ({"year": "2024"}, 1), ({"year": "2023"}, 0), ({"mon": "3"}, 1), ({"mon": "1-2,4-12"}, 0),
    ({"mday": "4"}, 1), ({"mday": "1-3"}, 0), ({"yday": "64"}, 1), ({"yday": "65"}, 0),
    ({"week": "10"}, 1), ({"week": "9"}, 0), ({"mweek": "2"}, 1), ({"mweek": "1"}, 0),
    ({"wday": "2"}, 1), ({"wday": "mon"}, 1), ({"wday": "sat-sun"}, 0),
    ({"hour": "10"}, 1), ({"hour": "9-17"}, 1), ({"hour": "18-9"}, 0),
    ({"minute": "30"}, 1), ({"minute": "0-29"}, 0),
    ({"minute-of-day": "631"}, 1), ({"minute-of-day": "630"}, 0), ({"minday": "631"}, 1),
    ({"time-of-day": "10:30-10:31"}, 1), ({"time-of-day": "10:31-11:00"}, 0),
    ({"date-time": "2024-03-01 00:00~2024-03-08 00:00"}, 1),
    ({"wday": "mon-fri", "hour": "9-17", "minute": "0-29"}, 0),
    ({"wday": "mon-fri", "hour": "9-17", "minute": "30-59"}, 1),
    ({}, -1), ({"field": "x", "expression": "y"}, -1), ({"tz": "UTC"}, -1),
])
def test_datetime_check_fields(attrs, ok):
    assert tm.datetime_check(attrs, MON) == ok


def test_mweek_first_days():
    # 1 March 2024 is a Friday: days 1-2 are week 1, Sunday 3 starts week 2.
    assert tm.datetime_check({"mweek": "1"}, datetime(2024, 3, 2, 12)) == 1
    assert tm.datetime_check({"mweek": "2"}, datetime(2024, 3, 3, 12)) == 1
    assert tm.datetime_check({"mweek": "6"}, datetime(2024, 3, 31, 12)) == 1


def test_zones():
    instant = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)  # 14:00 in Paris (CEST)
    assert tm.datetime_check({"hour": "14"}, instant, tzname="Europe/Paris") == 1
    assert tm.datetime_check({"hour": "12"}, instant, tzname="UTC") == 1
    assert tm.datetime_check({"hour": "7"}, instant, offset_hours=-5) == 1
    assert tm.datetime_check({"hour": "21", "tz": "Asia/Tokyo"}, instant, tzname="UTC") == 1
    assert tm.datetime_check({"tz-offset": "2"}, instant, tzname="Europe/Paris") == 1
    assert tm.datetime_check({"tz-offset": "1"}, instant, tzname="Europe/Paris") == 0
    assert tm.datetime_check({"tz-offset": "-5"}, instant, offset_hours=-5) == 1
    # An unknown zone name is reported and local time used (the check still runs).
    errors = []
    assert tm.datetime_check({"year": "2024"}, instant, tzname="Mars/Olympus",
                             log=errors.append) == 1
    assert errors and "Mars/Olympus" in errors[0]


def test_now_forms():
    ts = datetime(2024, 3, 4, 10, 30, tzinfo=UTC).timestamp()
    assert tm.datetime_check({"hour": "10", "minute": "30"}, ts, tzname="UTC") == 1
    assert tm.datetime_check({"year": "2024-2100"}, None) == 1  # the real clock


# -- in a hunt --------------------------------------------------------------------------
PLAN = """
<context name="default">
  <extension name="office">
    <condition wday="mon-fri" time-of-day="09:00-17:00">
      <action application="log" data="INFO open"/>
      <anti-action application="log" data="INFO closed"/>
    </condition>
  </extension>
</context>"""


def _apps(ext):
    return [d for _, d in ext] if ext is not None else None


def test_time_condition_in_hunt(dp):
    dp.load(PLAN)
    assert _apps(dp.hunt(dp.session("1"), now=MON)) == ["INFO open"]
    assert _apps(dp.hunt(dp.session("1"), now=datetime(2024, 3, 4, 18, 0))) == ["INFO closed"]
    assert _apps(dp.hunt(dp.session("1"), now=datetime(2024, 3, 9, 10, 0))) == ["INFO closed"]


def test_channel_timezone_variables(dp):
    dp.load(PLAN)
    instant = datetime(2024, 3, 4, 7, 0, tzinfo=UTC)  # Monday 07:00 UTC
    assert _apps(dp.hunt(dp.session("1", variables={"timezone": "UTC"}), now=instant)) == ["INFO closed"]
    # 10:00 in Moscow (UTC+3).
    assert _apps(dp.hunt(dp.session("1", variables={"timezone": "Europe/Moscow"}),
                         now=instant)) == ["INFO open"]
    assert _apps(dp.hunt(dp.session("1", variables={"tod_tz_offset": "3"}), now=instant)) == ["INFO open"]
    # tod_tz_offset wins over timezone; a non-number offset is ignored.
    assert _apps(dp.hunt(dp.session("1", variables={"tod_tz_offset": "0", "timezone": "Europe/Moscow"}),
                         now=instant)) == ["INFO closed"]
    assert _apps(dp.hunt(dp.session("1", variables={"tod_tz_offset": "x", "timezone": "Europe/Moscow"}),
                         now=instant)) == ["INFO open"]


def test_time_and_field_on_one_condition(dp):
    # FreeSWITCH evaluates the time and then the regex; either passing runs the actions,
    # and "proceed" (stop hunting) follows the regex.
    dp.load("""
    <context name="default">
      <extension name="both">
        <condition field="destination_number" expression="^1000$" hour="10">
          <action application="log" data="INFO both-or"/>
          <anti-action application="log" data="INFO neither"/>
        </condition>
      </extension>
      <extension name="next"><condition><action application="log" data="INFO next"/></condition></extension>
    </context>""")
    at10, at11 = datetime(2024, 3, 4, 10, 5), datetime(2024, 3, 4, 11, 5)
    assert _apps(dp.hunt(dp.session("1000"), now=at10)) == ["INFO both-or"]
    assert _apps(dp.hunt(dp.session("1000"), now=at11)) == ["INFO both-or"]
    assert _apps(dp.hunt(dp.session("2000"), now=at10)) == ["INFO both-or", "INFO next"]
    assert _apps(dp.hunt(dp.session("2000"), now=at11)) == ["INFO neither"]


def test_holiday_style_date_time(dp):
    dp.load("""
    <context name="default">
      <extension name="holiday">
        <condition date-time="2024-12-24 12:00~2024-12-27 00:00">
          <action application="log" data="INFO holiday"/>
        </condition>
      </extension>
      <extension name="normal"><condition><action application="log" data="INFO normal"/></condition></extension>
    </context>""")
    assert _apps(dp.hunt(dp.session("1"), now=datetime(2024, 12, 25, 9))) == ["INFO holiday"]
    assert _apps(dp.hunt(dp.session("1"), now=datetime(2024, 12, 24, 11, 59))) == ["INFO normal"]


def test_dst_attribute_follows_local_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        summer = datetime(2024, 7, 1, 12, tzinfo=UTC)
        winter = datetime(2024, 1, 10, 12, tzinfo=UTC)
        assert tm.datetime_check({"dst": "true"}, summer) == 1
        assert tm.datetime_check({"dst": "false"}, summer) == 0
        assert tm.datetime_check({"dst": "true"}, winter) == 0
        assert tm.datetime_check({"dst": "false"}, winter) == 1
    finally:
        monkeypatch.undo()
        time.tzset()
