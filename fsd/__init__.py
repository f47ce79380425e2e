"""fsd: a softswitch daemon that runs FreeSWITCH's world unmodified.  See docs/architecture.md."""

import pluggy

__version__ = "0.1.0"

#: Decorator for module hook implementations (see fsd/hookspecs.py).
hookimpl = pluggy.HookimplMarker("fsd")

#: The plugin contract's version, ``(major, minor)`` (see fsd/hookspecs.py and
#: docs/plugins.md): a module needing a hook added in 1.n checks
#: ``fsd.CONTRACT_VERSION >= (1, n)``.
from fsd.hookspecs import CONTRACT_VERSION  # noqa: E402

__all__ = ["CONTRACT_VERSION", "__version__", "hookimpl"]
