"""fsd: a softswitch daemon that runs FreeSWITCH's world unmodified.  See docs/architecture.md."""

import pluggy

__version__ = "0.1.0"

#: Decorator for module hook implementations (see fsd/hookspecs.py).
hookimpl = pluggy.HookimplMarker("fsd")
