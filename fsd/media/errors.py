"""The one exception type the media engine raises for bad input."""

from __future__ import annotations


class MediaError(Exception):
    """A sound file, tone spec or media request that cannot be served.

    The message names what was asked for and why it failed, so a caller can log it as is
    and carry on: the port that raised it keeps working.
    """
