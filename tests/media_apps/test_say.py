"""mod_say_en's file sequences, and say in a call."""

from __future__ import annotations

import calendar

import pytest
from fsd_modules.mod_say_en.say import en_say, say_time


def files(seq):
    return [f.removesuffix(".wav") for f in seq]


D = "digits/"

TABLE = [
    ("0", "number", "pronounced", ["digits/0"]),
    ("7", "items", "pronounced", ["digits/7"]),
    ("15", "number", "pronounced", ["digits/15"]),
    ("20", "number", "pronounced", ["digits/20"]),
    ("42", "persons", "pronounced", ["digits/40", "digits/2"]),
    ("100", "number", "pronounced", ["digits/1", "digits/hundred"]),
    ("1,234", "messages", "pronounced",
     ["digits/1", "digits/thousand", "digits/2", "digits/hundred", "digits/30", "digits/4"]),
    ("1000001", "number", "pronounced", ["digits/1", "digits/million", "digits/1"]),
    ("250000", "number", "pronounced",
     ["digits/2", "digits/hundred", "digits/50", "digits/thousand"]),
    ("123", "number", "iterated", ["digits/1", "digits/2", "digits/3"]),
    ("21", "number", "counted", ["digits/20", "digits/h-1"]),
    ("30", "number", "counted", ["digits/h-30"]),
    ("12", "number", "counted", ["digits/12"]),
    ("1001", "number", "counted", ["digits/1", "digits/thousand", "digits/h-1"]),
    ("1.01", "currency", "pronounced",
     ["digits/1", "currency/dollar", "currency/and", "digits/1", "currency/cent"]),
    ("-25.5", "currency", "pronounced",
     ["currency/negative", "digits/20", "digits/5", "currency/dollars", "currency/and",
      "digits/5", "currency/cents"]),
    ("$3", "currency", "pronounced", ["digits/3", "currency/dollars"]),
    ("1:02:03", "time_measurement", "pronounced",
     ["digits/1", "time/hour", "digits/2", "time/minutes", "digits/3", "time/seconds"]),
    ("75", "time_measurement", "pronounced",
     ["digits/0", "time/hours", "digits/1", "time/minute", "digits/15", "time/seconds"]),
    ("192.168.0.1", "ip_address", "pronounced",
     ["digits/1", "digits/hundred", "digits/90", "digits/2", "digits/dot", "digits/1",
      "digits/hundred", "digits/60", "digits/8", "digits/dot", "digits/0", "digits/dot",
      "digits/1"]),
    ("10.0.0.7", "ip_address", "iterated",
     ["digits/1", "digits/0", "digits/dot", "digits/0", "digits/dot", "digits/0",
      "digits/dot", "digits/7"]),
    ("Ab1", "name_spelled", "pronounced", ["ascii/97", "ascii/98", "digits/1"]),
    ("z", "name_phonetic", "iterated", ["phonetic-ascii/122"]),
    ("+1 (555) 01", "telephone_number", "iterated",
     ["digits/1", "digits/5", "digits/5", "digits/5", "digits/0", "digits/1"]),
    ("a.b", "url", "pronounced", ["ascii/97", "digits/dot", "ascii/98"]),
]


@pytest.mark.parametrize("text,stype,method,expected", TABLE)
def test_say_en_table(text, stype, method, expected):
    assert files(en_say(None, text, stype, method)) == expected


def test_types_and_methods_are_case_insensitive():
    assert files(en_say(None, "5", "NUMBER", "Pronounced")) == ["digits/5"]


EPOCH = calendar.timegm((2021, 3, 4, 15, 7, 0))  # Thursday 4 March 2021 15:07 UTC


def test_dates_and_times():
    assert files(say_time(str(EPOCH), "current_time", "UTC", EPOCH)) == \
        ["digits/3", "time/oh", "digits/7", "time/p-m"]
    assert files(say_time(str(EPOCH), "current_date", "UTC", EPOCH)) == \
        ["time/mon-2", "digits/h-4", "digits/2", "digits/thousand", "digits/20", "digits/1"]
    assert files(say_time(str(EPOCH - 15 * 3600 - 7 * 60), "current_time", "UTC", EPOCH)) == \
        ["digits/12", "time/oclock", "time/a-m"]
    dt_ = files(say_time(str(EPOCH), "current_date_time", "UTC", EPOCH))
    assert dt_[0] == "time/mon-2" and "time/at" in dt_ and dt_[-1] == "time/p-m"
    # short date-time: today, yesterday, this week (weekday), older (month + day)
    assert files(say_time(str(EPOCH), "short_date_time", "UTC", EPOCH))[0] == "time/today"
    assert files(say_time(str(EPOCH - 86400), "short_date_time", "UTC", EPOCH))[0] == \
        "time/yesterday"
    assert files(say_time(str(EPOCH - 3 * 86400), "short_date_time", "UTC", EPOCH))[0] == \
        "time/day-1"  # Monday
    older = files(say_time(str(EPOCH - 20 * 86400), "short_date_time", "UTC", EPOCH))
    assert older[:2] == ["time/day-5", "time/mon-1"]  # Friday, February
    # a 1999 date says the year in pairs
    y1999 = calendar.timegm((1999, 7, 1, 9, 30, 0))
    assert files(say_time(str(y1999), "current_date", "UTC", EPOCH))[-3:] == \
        ["digits/19", "digits/90", "digits/9"]
    # a numeric timezone is an offset in seconds
    assert files(say_time(str(EPOCH), "current_time", "3600", EPOCH))[0] == "digits/4"


@pytest.mark.parametrize("text,stype,method,message", [
    ("12", "postal_code", "pronounced", "Unknown Say type"),
    ("12", "number", "shouted", "Unknown Say method"),
    ("12a", "number", "pronounced", "Parse Error"),
    ("1234567890", "number", "pronounced", "more than 9 digits"),
    ("", "number", "pronounced", "nothing to say"),
    ("1.2.3", "ip_address", "pronounced", "not an IP address"),
    ("abc", "currency", "pronounced", "not an amount"),
])
def test_bad_say_input(text, stype, method, message):
    with pytest.raises(ValueError, match=message):
        en_say(None, text, stype, method)


def _playbacks(events, b):
    return [e.get_header("Playback-File-Path").rsplit("/snd/", 1)[1]
            for e in events.of("PLAYBACK_START", b)]


def test_say_in_a_call_plays_the_files_with_the_language_prefix(sw, events, h):
    a = h.originate(sw, "{say_args='en:tl number pronounced 342'}loopback/say/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "say_done") == "1")
    assert _playbacks(events, b) == ["digits/3.wav", "digits/hundred.wav", "digits/40.wav",
                                     "digits/2.wav"]
    sw.api_execute(f"uuid_kill {a}")


def test_say_with_gender_five_arguments(sw, events, h):
    a = h.originate(sw, "{say_args='en:tl items iterated masculine 90'}loopback/say/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "say_done") == "1")
    assert _playbacks(events, b) == ["digits/9.wav", "digits/0.wav"]
    sw.api_execute(f"uuid_kill {a}")


def test_unknown_say_type_is_an_error_and_the_call_goes_on(sw, events, h):
    a = h.originate(sw, "{say_args='en:tl lottery pronounced 42'}loopback/say/m &park()")
    b = h.b_leg(sw, a)
    assert h.wait_until(lambda: h.getvar(sw, b, "say_done") == "1")
    assert b in sw.sessions
    log = open(f"{sw.dirs.log}/fsd.log").read()
    assert "Unknown Say type [lottery]" in log
    a2 = h.originate(sw, "{say_args='en:tl number'}loopback/say/m &park()")
    b2 = h.b_leg(sw, a2)
    assert h.wait_until(lambda: h.getvar(sw, b2, "say_done") == "1")
    assert "say: usage" in open(f"{sw.dirs.log}/fsd.log").read()
    sw.api_execute("hupall")
