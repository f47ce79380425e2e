"""``freeswitch.JSON()`` (behaviour reference §10).

``decode`` parses in Python and builds the Lua table: JSON null members and arrays nested
directly in arrays are dropped, a scalar top value gives an empty table, a parse error
gives nil; trailing text after the value is ignored, as cJSON_Parse does.  Integral
numbers come back as Lua integers (see docs/lua.md, "Numbers").

``encode`` runs in Lua (it walks the script's table): a table whose first ``next()`` key
is the number 1 is an array, anything else an object with ``tostring`` keys; an empty table
is ``{}`` unless ``encode_empty_table_as_object(false)``; output is cJSON's tab-indented
form unless ``return_unformatted_json(true)``.  Numbers print as cJSON prints doubles.
"""

from __future__ import annotations

import json as _json
from typing import Any

from . import register_class
from .spec import ClassSpec, Method, args

_DECODER = _json.JSONDecoder(strict=False, parse_constant=lambda name: _reject(name))


def _reject(name: str) -> None:
    raise ValueError(f"invalid JSON constant {name}")


class LuaJSON:
    __slots__ = ("ctx",)

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx


_DROP = object()


def _clean(v: Any, in_array: bool = False) -> Any:
    if v is None:
        return _DROP
    if isinstance(v, bool) or isinstance(v, str):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() and abs(v) < 2**63 else v
    if isinstance(v, int):
        return v if -(2**63) <= v < 2**63 else float(v)
    if isinstance(v, list):
        if in_array:
            return _DROP  # cJSON->Lua drops arrays nested directly in arrays
        out = [_clean(x, True) for x in v]
        return [x for x in out if x is not _DROP]
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            c = _clean(x, False)
            if c is not _DROP:
                out[k] = c
        return out
    return _DROP


def _new(ctx: Any) -> LuaJSON:
    return LuaJSON(ctx)


def _decode(j: LuaJSON, text: str | None) -> Any:
    if text is None:
        return None
    i = 0
    while i < len(text) and ord(text[i]) <= 32:
        i += 1
    try:
        value, _ = _DECODER.raw_decode(text, i)
    except (ValueError, RecursionError):
        return None
    value = _clean(value)
    if not isinstance(value, (dict, list)):
        value = {}
    return j.ctx.table(value)


def json_api(ctx: Any, request: Any) -> dict[str, Any] | None:
    """switch_json_api_execute for the JSON APIs fsd has: ``fsapi`` (mod_commands' JSON
    API: ``{"command": "fsapi", "data": {"cmd": "status", "arg": ""}}`` → ``{"message":
    <API output>}``, or ``{"message": "INVALID CALL"}``).  An unknown command or a request
    without ``data`` gives no reply (nil), as FreeSWITCH."""
    if not isinstance(request, dict) or "data" not in request:
        return None
    if request.get("command") != "fsapi":
        return None
    data = request.get("data")
    data = data if isinstance(data, dict) else {}
    cmd, arg = data.get("cmd"), data.get("arg")
    if not isinstance(cmd, str) or not cmd:
        return {"message": "INVALID CALL"}
    out = ctx.host.api_execute(cmd, arg if isinstance(arg, str) else "", None)
    if out == "INVALID COMMAND!\n" or out.endswith("COMMAND RETURNED ERROR!\n"):
        return {"message": "INVALID CALL"}
    return {"message": out}


def _execute(j: LuaJSON, request: Any) -> Any:
    """``JSON:execute(jsonTextOrTable)`` → the JSON API's reply as a table, or nil."""
    from ..runtime import to_python

    if isinstance(request, (bytes, str)):
        text = request.decode("utf-8", "replace") if isinstance(request, bytes) else request
        try:
            obj = _json.loads(text)
        except ValueError:
            return None
    else:
        obj = to_python(request)
    reply = json_api(j.ctx, obj)
    if reply is None:
        return None
    cleaned = _clean(reply)
    return j.ctx.table(cleaned if isinstance(cleaned, (dict, list)) else {})


# Lua side --------------------------------------------------------------------------------
_ENCODE = r"""function(o, t, self)
  if type(t) ~= "table" then return nil end
  local fmt = not rawget(self, "__fsd_unformatted")
  local empty_obj = rawget(self, "__fsd_empty_array") == nil
  local string_format, string_byte, string_gsub, math_floor, math_type, tostring, next, type =
    string.format, string.byte, string.gsub, math.floor, math.type, tostring, next, type
  local function esc(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\"
    elseif c == "\b" then return "\\b" elseif c == "\f" then return "\\f"
    elseif c == "\n" then return "\\n" elseif c == "\r" then return "\\r"
    elseif c == "\t" then return "\\t" end
    return string_format("\\u%04x", string_byte(c))
  end
  local function str(s) return '"' .. string_gsub(s, '[%c"\\]', function(c)
      if c == "\127" then return c end
      return esc(c) end) .. '"' end
  local function num(v)
    local d = v + 0.0
    if d ~= d or d == math.huge or d == -math.huge then return "null" end
    local i = d >= 0 and math_floor(d) or -math_floor(-d)
    if math.abs(i - d) <= 2.220446049250313e-16 and d <= 2147483647 and d >= -2147483648 then
      return string_format("%d", i)
    end
    if math.abs(math_floor(d) - d) <= 2.220446049250313e-16 and math.abs(d) < 1.0e60 then
      return string_format("%.0f", d)
    end
    if math.abs(d) < 1.0e-6 or math.abs(d) > 1.0e9 then return string_format("%e", d) end
    return string_format("%f", d)
  end
  local seen = {}
  local enc
  local function value(v, depth)
    local tv = type(v)
    if tv == "string" then return str(v)
    elseif tv == "number" then return num(v)
    elseif tv == "boolean" then return v and "true" or "false"
    elseif tv == "table" then return enc(v, depth) end
    return nil
  end
  enc = function(tbl, depth)
    if seen[tbl] then error("JSON encode: table contains a cycle", 0) end
    seen[tbl] = true
    local out = {}
    local k1 = next(tbl)
    local res
    if k1 == nil then
      if empty_obj then res = fmt and ("{\n" .. string.rep("\t", depth) .. "}") or "{}"
      else res = "[]" end
    elseif k1 == 1 then
      for _, v in next, tbl do
        local s = value(v, depth + 1)
        if s then out[#out + 1] = s end
      end
      res = "[" .. table.concat(out, fmt and ", " or ",") .. "]"
    else
      local ind = string.rep("\t", depth + 1)
      for k, v in next, tbl do
        local s = value(v, depth + 1)
        if s then
          if fmt then out[#out + 1] = ind .. str(tostring(k)) .. ":\t" .. s
          else out[#out + 1] = str(tostring(k)) .. ":" .. s end
        end
      end
      if fmt then
        res = "{\n" .. table.concat(out, ",\n") .. (#out > 0 and "\n" or "") .. string.rep("\t", depth) .. "}"
      else
        res = "{" .. table.concat(out, ",") .. "}"
      end
    end
    seen[tbl] = nil
    return res
  end
  return enc(t, 0)
end"""

# execute2: the reply printed as encode() prints (formatted unless return_unformatted_json);
# FreeSWITCH would crash printing a missing reply; fsd returns "".
_EXECUTE2 = r"""function(o, x, self)
  local r = self:execute(x)
  if r == nil then return "" end
  return self:encode(r)
end"""

_SET_UNFORMATTED = r"""function(o, flag, self) rawset(self, "__fsd_unformatted", flag or nil) end"""
_SET_EMPTY_OBJ = r"""function(o, flag, self)
  if flag then rawset(self, "__fsd_empty_array", nil) else rawset(self, "__fsd_empty_array", true) end
end"""


register_class(ClassSpec(
    "JSON",
    ctor=Method("JSON", _new, []),
    methods=[
        Method("decode", _decode, args("s")),
        Method("encode", None, args("any"), lua=_ENCODE),
        Method("execute", _execute, args("any")),
        Method("execute2", None, args("any"), lua=_EXECUTE2),
        Method("encode_empty_table_as_object", None, args("b"), lua=_SET_EMPTY_OBJ),
        Method("return_unformatted_json", None, args("b"), lua=_SET_UNFORMATTED),
    ],
))
