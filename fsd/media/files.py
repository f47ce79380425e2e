"""Sound file readers and writers, and the file-format registry keyed by extension.

FreeSWITCH's mod_sndfile reads whatever libsndfile reads; the ``soundfile`` package is the
same library (its wheels bundle libsndfile).  Readers give int16 mono at the *channel*
rate: stereo is folded to mono and other rates are resampled with soxr while reading.
The raw extensions FreeSWITCH adds (``.r8 .raw .r16 .ul .al .gsm``) are registered too.

Modules add formats with ``module.add_file_format(ext, reader, writer)`` into
``switch.file_formats``, which :func:`_format_for` consults before the built-in ones: a
reader factory ``(path, rate) -> AudioReader`` and optionally a writer factory
``(path, rate) -> AudioWriter``.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import soundfile as sf

from fsd.media.errors import MediaError
from fsd.media.resample import StreamResampler, resample, to_int16

# Files shorter than this (native samples) are decoded whole at open; longer ones stream.
_WHOLE_FILE_LIMIT = 48000 * 120
_CHUNK_SECONDS = 2


class AudioReader:
    """Mono int16 at ``rate``. ``read(n)`` returns up to n samples; empty means end."""

    rate: int
    length: int | None = None  # in output samples, when known
    path: str = ""

    def read(self, n: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def seek(self, pos: int) -> int:
        """Seek to ``pos`` output samples; returns the new position."""
        raise MediaError(f"{self.path or 'stream'} is not seekable")

    def tell(self) -> int:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class AudioWriter:
    """Accepts int16 mono frames at ``rate``; ``close()`` leaves a complete file."""

    rate: int
    path: str = ""
    samples: int = 0

    def write(self, frame: np.ndarray) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def truncate(self) -> None:
        raise MediaError(f"{self.path} cannot be truncated")

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class RawSpec:
    """How libsndfile must open a headerless file (FreeSWITCH's extra extensions)."""

    samplerate: int
    subtype: str


RAW_FORMATS: dict[str, RawSpec] = {
    "r8": RawSpec(8000, "PCM_16"),
    "raw": RawSpec(8000, "PCM_16"),
    "r16": RawSpec(16000, "PCM_16"),
    "r24": RawSpec(24000, "PCM_24"),
    "r32": RawSpec(32000, "PCM_32"),
    "ul": RawSpec(8000, "ULAW"),
    "al": RawSpec(8000, "ALAW"),
    "gsm": RawSpec(8000, "GSM610"),
}


def _sf_open(path: str, ext: str, mode: str, rate: int = 8000) -> sf.SoundFile:
    raw = RAW_FORMATS.get(ext)
    try:
        if raw is not None:
            return sf.SoundFile(
                path,
                mode,
                samplerate=raw.samplerate,
                channels=1,
                format="RAW",
                subtype=raw.subtype,
                endian="LITTLE" if raw.subtype.startswith("PCM") else "FILE",
            )
        if mode == "r":
            return sf.SoundFile(path, "r")
        fmt = _WRITE_MAJOR.get(ext)
        if fmt is None:
            raise MediaError(f"cannot write {path}: no writer for .{ext}")
        subtype = "PCM_16" if fmt in ("WAV", "AIFF", "AU", "FLAC", "W64", "CAF") else None
        return sf.SoundFile(path, mode, samplerate=rate, channels=1, format=fmt, subtype=subtype)
    except MediaError:
        raise
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError, ValueError) as exc:
        if not os.path.exists(path):
            raise MediaError(f"file not found: {path}") from exc
        raise MediaError(f"cannot open {path}: {exc}") from exc


_WRITE_MAJOR = {
    "wav": "WAV",
    "aiff": "AIFF",
    "aif": "AIFF",
    "au": "AU",
    "snd": "AU",
    "flac": "FLAC",
    "ogg": "OGG",
    "w64": "W64",
    "caf": "CAF",
}


class SndfileReader(AudioReader):
    """A file read through libsndfile, folded to mono and resampled to ``rate``."""

    def __init__(self, path: str, rate: int, ext: str | None = None) -> None:
        self.path = path
        self.rate = rate
        ext = (ext or _ext(path)).lower()
        self._f = _sf_open(path, ext, "r")
        self.native_rate = self._f.samplerate
        self.channels = self._f.channels
        frames = self._f.frames
        self.length = None
        if frames and frames > 0:
            self.length = int(round(frames * rate / self.native_rate))
        self._pos = 0
        self._buf = np.zeros(0, dtype=np.int16)
        self._eof = False
        self._whole = frames is not None and 0 < frames <= _WHOLE_FILE_LIMIT
        self._res = StreamResampler(self.native_rate, rate)
        if self._whole:
            data = self._read_native(frames)
            self._buf = resample(data, self.native_rate, rate)
            self._all = self._buf
            self.length = len(self._all)
            self._eof = True
            self._f.close()

    def _read_native(self, n: int) -> np.ndarray:
        try:
            data = self._f.read(n, dtype="int16", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise MediaError(f"error reading {self.path}: {exc}") from exc
        if data.shape[1] == 1:
            return np.ascontiguousarray(data[:, 0])
        # Fold to mono by averaging the channels (no clipping, no wrap).
        return data.astype(np.int32).mean(axis=1).astype(np.int16)

    def read(self, n: int) -> np.ndarray:
        if self._whole:
            out = self._all[self._pos : self._pos + n]
            self._pos += len(out)
            return out
        while len(self._buf) < n and not self._eof:
            chunk = self._read_native(self.native_rate * _CHUNK_SECONDS)
            last = len(chunk) == 0
            self._eof = last
            self._buf = np.concatenate((self._buf, self._res.process(chunk, last=last)))
        out, self._buf = self._buf[:n], self._buf[n:]
        self._pos += len(out)
        return out

    def seek(self, pos: int) -> int:
        pos = max(0, int(pos))
        if self.length is not None:
            pos = min(pos, self.length)
        if self._whole:
            self._pos = pos
            return pos
        native = int(pos * self.native_rate / self.rate)
        try:
            self._f.seek(native)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise MediaError(f"cannot seek in {self.path}: {exc}") from exc
        self._res.reset()
        self._buf = np.zeros(0, dtype=np.int16)
        self._eof = False
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()


class SndfileWriter(AudioWriter):
    """Writes mono int16 at ``rate``. libsndfile rewrites the header on close."""

    def __init__(self, path: str, rate: int, ext: str | None = None, append: bool = False) -> None:
        self.path = path
        self.rate = rate
        self.samples = 0
        ext = (ext or _ext(path)).lower()
        d = os.path.dirname(path)
        if d and not os.path.isdir(d):
            raise MediaError(f"cannot record to {path}: directory {d} does not exist")
        if ext in RAW_FORMATS and RAW_FORMATS[ext].samplerate != rate:
            # Raw files carry no header: write them at their own rate, resampling frames.
            self._res: StreamResampler | None = StreamResampler(
                rate, RAW_FORMATS[ext].samplerate, quality="QQ"
            )
        else:
            self._res = None
        mode = "r+" if append and os.path.exists(path) else "w"
        self._f = _sf_open(path, ext, mode, rate)
        if mode == "r+":
            self._f.seek(0, sf.SEEK_END)
        self._lock = threading.Lock()

    def write(self, frame: np.ndarray) -> None:
        with self._lock:
            if self._f.closed:
                return
            data = self._res.process(frame) if self._res else frame
            self._f.write(np.asarray(data, dtype=np.int16))
            self.samples += len(frame)

    def truncate(self) -> None:
        with self._lock:
            if not self._f.closed:
                self._f.seek(0)
                self._f.truncate(0)
                self.samples = 0

    def close(self) -> None:
        with self._lock:
            if not self._f.closed:
                self._f.flush()
                self._f.close()

    @property
    def closed(self) -> bool:
        return self._f.closed


ReaderFactory = Callable[[str, int], AudioReader]
WriterFactory = Callable[[str, int], AudioWriter]


@dataclass
class FileFormat:
    name: str
    reader: ReaderFactory | None
    writer: WriterFactory | None = None
    module: str = ""


FORMATS: dict[str, FileFormat] = {}
_formats_lock = threading.Lock()


def register_format(
    ext: str,
    reader: ReaderFactory | None,
    writer: WriterFactory | None = None,
    module: str = "",
) -> None:
    """Add (or replace) the handler for files ending in ``.ext``."""
    with _formats_lock:
        FORMATS[ext.lower().lstrip(".")] = FileFormat(ext.lower(), reader, writer, module)


def unregister_format(ext: str) -> None:
    with _formats_lock:
        FORMATS.pop(ext.lower().lstrip("."), None)


def _ext(path: str) -> str:
    base = os.path.basename(path)
    if "." not in base:
        return ""
    return base.rsplit(".", 1)[1].lower()


def _register_builtin() -> None:
    exts = set(_WRITE_MAJOR) | set(RAW_FORMATS)
    for major in sf.available_formats():
        exts.add(major.lower())
    for ext in sorted(exts):
        writer = None
        if ext in _WRITE_MAJOR or ext in RAW_FORMATS:

            def writer(path: str, rate: int, _e: str = ext) -> AudioWriter:
                return SndfileWriter(path, rate, _e)

        def reader(path: str, rate: int, _e: str = ext) -> AudioReader:
            return SndfileReader(path, rate, _e)

        register_format(ext, reader, writer, module="mod_sndfile")


_register_builtin()


#: Formats modules added with ``module.add_file_format`` (the running switch's
#: ``file_formats`` registry, installed by ``Switch.start``); tried before FORMATS.
_module_formats: Mapping[str, Any] = {}


def use_module_formats(registry: Mapping[str, Any]) -> None:
    global _module_formats
    _module_formats = registry


def _format_for(path: str) -> FileFormat:
    ext = _ext(path)
    if not ext:
        raise MediaError(f"cannot tell the format of {path}: no file extension")
    fmt = _module_formats.get(ext) or FORMATS.get(ext)
    if fmt is None:
        raise MediaError(f"no file format handler for .{ext} ({path})")
    return fmt


def open_reader(path: str, rate: int) -> AudioReader:
    """Open a sound file for playback at the channel ``rate``."""
    fmt = _format_for(path)
    if fmt.reader is None:
        raise MediaError(f".{_ext(path)} files cannot be read ({path})")
    if not os.path.exists(path):
        raise MediaError(f"file not found: {path}")
    return fmt.reader(path, rate)


def open_writer(path: str, rate: int) -> AudioWriter:
    """Open a sound file for recording at ``rate`` (mono, 16-bit where the format has it)."""
    fmt = _format_for(path)
    if fmt.writer is None:
        raise MediaError(f".{_ext(path)} files cannot be written ({path})")
    return fmt.writer(path, rate)


def read_all(path: str, rate: int) -> np.ndarray:
    """Decode a whole file to int16 mono at ``rate``."""
    r = open_reader(path, rate)
    try:
        parts = []
        while True:
            chunk = r.read(rate * 10)
            if len(chunk) == 0:
                break
            parts.append(chunk)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    finally:
        r.close()


def write_all(path: str, samples: np.ndarray, rate: int) -> None:
    w = open_writer(path, rate)
    try:
        w.write(to_int16(np.asarray(samples)))
    finally:
        w.close()


def insert_file(orig: str, insert: str, sample_pos: int, rate: int = 8000) -> None:
    """Splice ``insert`` into ``orig`` at ``sample_pos`` (samples at ``rate``).

    The result is written at the original file's own rate to a temporary file beside it,
    then renamed over it, so a failure never leaves ``orig`` half-written.
    """
    if not os.path.exists(orig):
        raise MediaError(f"file not found: {orig}")
    probe = open_reader(orig, rate)
    native = getattr(probe, "native_rate", rate)
    probe.close()
    base = read_all(orig, native)
    extra = read_all(insert, native)
    pos = int(round(max(0, sample_pos) * native / rate))
    pos = min(pos, len(base))
    merged = np.concatenate((base[:pos], extra, base[pos:]))
    d = os.path.dirname(os.path.abspath(orig))
    fd, tmp = tempfile.mkstemp(suffix="." + _ext(orig), dir=d)
    os.close(fd)
    try:
        write_all(tmp, merged, native)
        os.replace(tmp, orig)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
