"""Print the API/application coverage tables of docs/commands.md: every API and
application fsd registers (with its module), and every one FreeSWITCH's mod_commands /
mod_dptools declare that fsd lacks, with the reason (NOTES below).

    python tools/commands_coverage.py > /tmp/coverage.md   # then paste into the doc

tests/commands/test_docs_coverage.py checks that the doc names every registered one."""

from __future__ import annotations

import tempfile

#: FreeSWITCH names fsd does not register, and why (kept in sync by hand).
MISSING_API = {
    "...": "alias of `shutdown`: use `fsctl shutdown`",
    "alias": "console aliases (core db table) not implemented",
    "banner": "console banner; no value for scripts",
    "bg_spawn": "spawn family: use `system`/`bg_system`",
    "spawn": "spawn family: use `system`/`bg_system`",
    "spawn_stream": "spawn family: use `system`/`bg_system`",
    "complete": "console tab-completion database",
    "console_complete": "console tab-completion",
    "console_complete_xml": "console tab-completion",
    "event_channel_broadcast": "event channels (Verto) not implemented",
    "interface_allowlist_dump": "interface allow-lists not implemented",
    "interface_ip": "not implemented",
    "json": "JSON API dispatcher: `fsapi` is fsd's only JSON API (docs/compat.md)",
    "memory": "allocator statistics of C FreeSWITCH",
    "nat_map": "no NAT-PMP/UPnP",
    "page": "paging (mod_dptools page) not implemented",
    "pause": "media pause not implemented",
    "uuid_pause": "media pause not implemented",
    "pool_stats": "APR memory pools",
    "presence": "presence not implemented",
    "reg_url": "not implemented",
    "reloadcert": "TLS certificates are not reloadable",
    "say_string": "not implemented (use the `say` application)",
    "shutdown": "use `fsctl shutdown`",
    "stun": "no STUN client",
    "timer_test": "timers are the media clock (bench/)",
    "tone_detect": "API form not implemented: use the `tone_detect` application",
    "uuid_capture_text": "no real-time text",
    "uuid_send_text": "no real-time text",
    "uuid_codec_debug": "codec internals",
    "uuid_codec_param": "codec internals",
    "uuid_debug_media": "no media debugging output",
    "uuid_jitterbuffer": "no jitter buffer control",
    "uuid_media_3p": "no 3pcc re-INVITE",
    "uuid_media_params": "video",
    "uuid_media_reneg": "no codec renegotiation",
    "uuid_preprocess": "no speex preprocessor",
    "uuid_recovery_refresh": "no call recovery",
    "uuid_send_message": "no SIP MESSAGE sending from the API",
    "uuid_video_bandwidth": "video",
    "uuid_video_bitrate": "video",
    "uuid_xfer_zombie": "not implemented",
}
MISSING_APP = {
    "acknowledge_call": "not implemented",
    "blind_transfer_ack": "not implemented",
    "broadcast": "not implemented (use `uuid_broadcast`)",
    "capture_text": "no real-time text",
    "clear_speech_cache": "no TTS handle cache",
    "cng_plc": "codec internals",
    "debug_media": "no media debugging output",
    "deduplicate_dtmf": "not implemented",
    "delay_echo": "not implemented",
    "detect_speech": "no ASR engine",
    "play_and_detect_speech": "no ASR engine",
    "native_eavesdrop": "video/native-codec eavesdrop",
    "early_hangup": "not implemented",
    "enable_keepalive": "not implemented",
    "fax_detect": "no fax detection (use `tone_detect` with 1100 Hz)",
    "filter_codecs": "not implemented",
    "soft_hold": "not implemented",
    "jitterbuffer": "no jitter buffer control",
    "media_reset": "not implemented",
    "mutex": "not implemented",
    "page": "paging not implemented",
    "park_state": "not implemented",
    "pickup": "not implemented",
    "preprocess": "no speex preprocessor",
    "presence": "presence not implemented",
    "privacy": "not implemented",
    "record_session_mask": "recording mask/pause not implemented",
    "record_session_unmask": "recording mask/pause not implemented",
    "record_session_pause": "recording mask/pause not implemented",
    "record_session_resume": "recording mask/pause not implemented",
    "recovery_refresh": "no call recovery",
    "remove_bugs": "not implemented",
    "reuse_caller_profile": "not implemented",
    "set_mute": "not implemented",
    "sound_test": "not implemented",
    "start_dtmf_generate": "inband DTMF generation is `send_dtmf`",
    "stop_dtmf_generate": "inband DTMF generation is `send_dtmf`",
    "stop_video_write_overlay": "video",
    "video_write_overlay": "video",
    "video_decode": "video",
    "video_refresh": "video",
    "wait_for_video_ready": "video",
    "novideo": "video",
    "vad_test": "not implemented",
}
#: registered, but different from FreeSWITCH (see docs/compat.md)
PARTIAL = {
    "hash_remote": "no remote instances (hash.conf.xml remotes not read)",
    "strftime": "API: the character after `|` is skipped, as FreeSWITCH's own off-by-one",
    "uuid_hold": "no SIP re-INVITE without an endpoint that supports it: a CHANNEL_DATA event",
    "uuid_display": "sent to the endpoint if it can; a CHANNEL_DATA event",
    "uuid_deflect": "sent to the endpoint if it can; a CHANNEL_DATA event",
    "uuid_redirect": "sent to the endpoint if it can; a CHANNEL_DATA event",
    "uuid_send_info": "sent to the endpoint if it can; a CHANNEL_DATA event",
    "uuid_phone_event": "sent to the endpoint if it can; a CHANNEL_DATA event",
    "uuid_simplify": "sent to the endpoint if it can; a CHANNEL_DATA event",
    "uuid_media": "media is always in fsd's path: `off` fails",
    "uuid_record": "start/stop only (mask/pause answer -ERR)",
    "uuid_audio": "levels remembered, not applied (no gain stage)",
    "set_audio_level": "levels remembered, not applied (no gain stage)",
    "uuid_fileman": "stop only",
    "deflect": "sent to the endpoint if it can; a CHANNEL_DATA event",
    "redirect": "sent to the endpoint if it can; a CHANNEL_DATA event",
    "send_display": "sent to the endpoint if it can; a CHANNEL_DATA event",
    "eavesdrop": "listen only (no whisper/three-way DTMF), one uuid (not `all`)",
    "tone_detect": "Goertzel detector, not libteletone",
    "three_way": "the joining party hears both sides and both hear it; no DTMF controls",
    "displace_session": "flags m (mux), l (loop), r (the bridged peer's side); +limit ms",
    "session_loglevel": "level stored on the channel; the logger does not filter per channel",
    "uuid_loglevel": "level stored on the channel; the logger does not filter per channel",
    "uuid_drop_dtmf": "drops digits; the masks are stored, no masking tones are generated",
    "chat": "fsd has no chat endpoint: `Error! Message Not Sent`",
    "bind_meta_app": "a bridge is paused while the app runs; endpoint/API digits only",
    "bind_digit_action": "digits not consumed; CHANNEL_DATA event instead of dmachine events",
    "sched_api": "`@` (repeating) runs once",
    "system": "API: only through authenticated ESL/HTTP and scripts, as every API",
    "bg_system": "API: only through authenticated ESL/HTTP and scripts, as every API",
}


def tables() -> str:
    from fsd.testing import ALL_MODULES, running_switch

    with running_switch(tempfile.mkdtemp(), ALL_MODULES) as sw:
        apis = sorted((a.name, a.module) for a in sw.apis.values())
        apps = sorted((a.name, a.module) for a in sw.applications.values())
    out = ["## Coverage: every API and application", "",
           "Generated by `python tools/commands_coverage.py` from a running daemon with every "
           "bundled module, plus FreeSWITCH's mod_commands/mod_dptools names fsd lacks. "
           "Status: **yes** (FreeSWITCH's syntax and replies), **partial** (what differs), "
           "**no** (why).", "", "### API commands", "", "| command | module | status |",
           "|---|---|---|"]
    have = {n for n, _ in apis}
    rows = [(n, m, f"partial: {PARTIAL[n]}" if n in PARTIAL else "yes") for n, m in apis]
    rows += [(n, "—", f"no: {why}") for n, why in MISSING_API.items() if n not in have]
    out += [f"| `{n}` | {m} | {s} |" for n, m, s in sorted(rows)]
    out += ["", "### Dialplan applications", "", "| application | module | status |", "|---|---|---|"]
    have = {n for n, _ in apps}
    rows = [(n, m, f"partial: {PARTIAL[n]}" if n in PARTIAL else "yes") for n, m in apps]
    rows += [(n, "—", f"no: {why}") for n, why in MISSING_APP.items() if n not in have]
    out += [f"| `{n}` | {m} | {s} |" for n, m, s in sorted(rows)]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(tables(), end="")
