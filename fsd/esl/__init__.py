"""The event-socket client library: ``ESLconnection`` and ``ESLevent`` as FreeSWITCH's
libesl names them.  ``fsd_cli`` and Lua's ``require("ESL")`` (mod_lua) both use it; it is
part of the core so that neither the CLI nor a module imports mod_event_socket."""

from fsd.esl.client import ESLconnection, ESLevent

__all__ = ["ESLconnection", "ESLevent"]
