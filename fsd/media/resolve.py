"""Where a file name points, FreeSWITCH's way, and opening it as a playback source.

Rules (switch_ivr_play_file, switch_is_file_path, mod_sndfile's open):

1. ``scheme://rest`` is never a path: ``file_string://``, ``silence_stream://``,
   ``tone_stream://`` are built in; any other scheme is looked up in the format registry.
2. A name that starts with ``/`` is used as is.  Any other name is joined to the prefix:
   the channel's ``sound_prefix`` variable, or, when that is unset, the base directory
   (FreeSWITCH uses ``SWITCH_GLOBAL_dirs.base_dir`` there, not the sounds directory).
3. A leading ``{var=val,...}`` block is parameters, not part of the path.
4. Before the path itself, the rate folder is tried: ``<dir>/<rate>/<file>`` for the
   channel's rate, then 48000, 32000 and 16000 — 8000 only as the channel rate — and
   only then ``<dir>/<file>``.  So ``ivr/ivr-welcome.wav`` with prefix
   ``/snd/en/us/callie`` on an 8 kHz call opens
   ``/snd/en/us/callie/ivr/8000/ivr-welcome.wav`` if it exists.
"""

from __future__ import annotations

import os

from fsd.media.errors import MediaError
from fsd.media.files import FORMATS, open_reader
from fsd.media.sources import BufferSource, ChainSource, ReaderSource, SilenceSource, Source
from fsd.media.tones import parse_tone_spec, silence_spec

URL_SEPARATOR = "://"
FALLBACK_RATES = (48000, 32000, 16000)


def split_params(name: str) -> tuple[dict[str, str], str]:
    """Strip leading ``{a=b,c=d}`` blocks; return (params, rest)."""
    params: dict[str, str] = {}
    rest = name.lstrip()
    while rest.startswith("{"):
        end = rest.find("}")
        if end < 0:
            raise MediaError(f"unterminated '{{' in file name {name!r}")
        for item in rest[1:end].split(","):
            if "=" in item:
                k, v = item.split("=", 1)
                params[k.strip()] = v.strip()
        rest = rest[end + 1 :].lstrip()
    return params, rest


def is_file_path(name: str) -> bool:
    """FreeSWITCH's switch_is_file_path: absolute, or a ``scheme://`` URL."""
    _, rest = split_params(name)
    return rest.startswith("/") or URL_SEPARATOR in rest


def join_prefix(name: str, sound_prefix: str | None, base_dir: str = "") -> str:
    """Rule 2: relative names go under ``sound_prefix`` (or ``base_dir``)."""
    _, rest = split_params(name)
    if URL_SEPARATOR in rest or rest.startswith("/"):
        return rest
    prefix = sound_prefix if sound_prefix else base_dir
    return os.path.join(prefix, rest) if prefix else rest


def rate_candidates(path: str, rate: int) -> list[str]:
    """Rule 4: the paths mod_sndfile tries, in order."""
    d, f = os.path.split(path)
    if not d:
        return [path]
    out = [os.path.join(d, str(rate), f)]
    out += [os.path.join(d, str(r), f) for r in FALLBACK_RATES if r != rate]
    out.append(path)
    return out


def find_file(path: str, rate: int) -> str:
    for cand in rate_candidates(path, rate):
        if os.path.isfile(cand):
            return cand
    raise MediaError(f"file not found: {path} (also tried the rate folders)")


def resolve_path(name: str, rate: int, sound_prefix: str | None = None, base_dir: str = "") -> str:
    """Rules 2-4: the existing file a name refers to."""
    return find_file(join_prefix(name, sound_prefix, base_dir), rate)


def open_source(
    name: str,
    rate: int,
    sound_prefix: str | None = None,
    base_dir: str = "",
) -> Source:
    """Open anything ``playback``/``streamFile`` accepts as a source at ``rate``."""
    if not name or not name.strip():
        raise MediaError("no file name given")
    params, rest = split_params(name)
    if URL_SEPARATOR in rest:
        scheme, body = rest.split(URL_SEPARATOR, 1)
        scheme = scheme.lower()
        if scheme == "file_string":
            parts = [p for p in body.split("!") if p.strip()]
            if not parts:
                raise MediaError("file_string:// with no files")
            return ChainSource(
                parts, lambda p: open_source(p, rate, sound_prefix, base_dir), name=rest
            )
        if scheme == "silence_stream":
            samples, noise = silence_spec(body, rate)
            return SilenceSource(samples, noise, name=rest)
        if scheme == "tone_stream":
            if "loops" in params:
                body = f"{body};loops={params['loops']}"
            samples, loops = parse_tone_spec(body, rate)
            return BufferSource(samples, name=rest, loops=loops)
        fmt = FORMATS.get(scheme)
        if fmt is None or fmt.reader is None:
            raise MediaError(f"no file format handler for {scheme}:// ({rest})")
        return ReaderSource(fmt.reader(rest, rate), name=rest)
    path = resolve_path(rest, rate, sound_prefix, base_dir)
    return ReaderSource(open_reader(path, rate), name=path)
