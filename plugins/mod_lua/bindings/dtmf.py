"""``freeswitch.DTMF(digit [, duration])`` (behaviour reference §12): attributes ``digit``
and ``duration``; a duration of 0 becomes the default 2000 samples.  Pure Lua: input
callbacks build the same shape."""

from __future__ import annotations

from . import register_class
from .spec import ClassSpec

_CTOR = r"""function(...)
  local n = select('#', ...)
  if n < 1 or n > 2 then AC("new_DTMF", 1, 2, n) end
  local digit, duration = ...
  if type(digit) == "number" then digit = tostring(digit) end
  if type(digit) ~= "string" then TE("new_DTMF", 1, "char", digit) end
  if duration == nil then duration = 2000 else duration = I(duration, "new_DTMF", 2, "uint32_t") end
  if duration < 0 then error("Error in new_DTMF (arg 2), number must not be negative", 2) end
  if duration == 0 then duration = 2000 end
  local p = WRAP["DTMF"](true)
  p.digit = digit:sub(1, 1)
  p.duration = duration
  return p
end"""

register_class(ClassSpec("DTMF", ctor=None, lua_ctor=_CTOR))
