"""Channel states and call states (behaviour reference §16)."""

STATES = ["CS_NEW", "CS_INIT", "CS_ROUTING", "CS_SOFT_EXECUTE", "CS_EXECUTE",
          "CS_EXCHANGE_MEDIA", "CS_PARK", "CS_CONSUME_MEDIA", "CS_HIBERNATE", "CS_RESET",
          "CS_HANGUP", "CS_REPORTING", "CS_DESTROY", "CS_NONE"]
STATE_NUM = {s: i for i, s in enumerate(STATES)}
CALLSTATES = ["DOWN", "DIALING", "RINGING", "EARLY", "ACTIVE", "HELD", "RING_WAIT", "HANGUP", "UNHELD"]
