"""fsd's media engine: frames, codecs, sound files, tones, DTMF, the media clock and ports.

Start with :class:`fsd.media.port.MediaPort` (one per channel) and
:mod:`fsd.media.collect` (getDigits / read / playAndGetDigits).  See docs/media.md.
"""

from fsd.media.clock import MediaClock, get_clock, shutdown_clocks
from fsd.media.dtmf import DTMF, DTMFDetector, detect_digits, generate_dtmf
from fsd.media.errors import MediaError
from fsd.media.port import MediaPort, PlaybackResult, RecordResult, bridge, unbridge

__all__ = [
    "DTMF",
    "DTMFDetector",
    "MediaClock",
    "MediaError",
    "MediaPort",
    "PlaybackResult",
    "RecordResult",
    "bridge",
    "detect_digits",
    "generate_dtmf",
    "get_clock",
    "shutdown_clocks",
    "unbridge",
]
