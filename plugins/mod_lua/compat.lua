-- Lua 5.2-compatibility layer for lupa's Lua 5.3.
-- FreeSWITCH's Debian packages link a lua5.3 compiled with 5.2 compatibility, so scripts
-- found in the field use bit32, math.pow and friends, and __ipairs.  lupa's build has no
-- compatibility flags; this file puts those functions back, in plain Lua.
-- It also adds the 5.1 names `unpack` and `loadstring`, which many old scripts still use.

local math, string, table, type, tonumber, error, select = math, string, table, type, tonumber, error, select
local tointeger = math.tointeger

-- bit32 ---------------------------------------------------------------------------------
local ALL = 0xFFFFFFFF

local function uint(v, i, fname)
  local n = tonumber(v)
  if n == nil then
    error(string.format("bad argument #%d to '%s' (number expected, got %s)", i, fname,
      v == nil and "no value" or type(v)), 3)
  end
  local k = tointeger(n)
  if k == nil then
    error(string.format("bad argument #%d to '%s' (number has no integer representation)", i, fname), 3)
  end
  return k & ALL
end

local function sint(v, i, fname)
  local n = tonumber(v)
  local k = n and tointeger(n)
  if k == nil then
    error(string.format("bad argument #%d to '%s' (number expected, got %s)", i, fname,
      v == nil and "no value" or type(v)), 3)
  end
  return k
end

local function shift(r, disp)
  if disp < 0 then
    disp = -disp
    if disp >= 32 then return 0 end
    return (r >> disp) & ALL
  end
  if disp >= 32 then return 0 end
  return (r << disp) & ALL
end

local function mask(w) return ~((~0 << (w - 1)) << 1) & ALL end

local function fieldargs(f, w, fname, fi)
  f = sint(f, fi, fname)
  if w == nil then w = 1 else w = sint(w, fi + 1, fname) end
  if f < 0 then error(string.format("bad argument #%d to '%s' (field cannot be negative)", fi, fname), 3) end
  if w <= 0 then error(string.format("bad argument #%d to '%s' (width must be positive)", fi + 1, fname), 3) end
  if f + w > 32 then error("trying to access non-existent bits", 3) end
  return f, w
end

local bit32 = {}

function bit32.band(...)
  local r = ALL
  for i = 1, select("#", ...) do r = r & uint((select(i, ...)), i, "band") end
  return r
end

function bit32.bor(...)
  local r = 0
  for i = 1, select("#", ...) do r = r | uint((select(i, ...)), i, "bor") end
  return r
end

function bit32.bxor(...)
  local r = 0
  for i = 1, select("#", ...) do r = r ~ uint((select(i, ...)), i, "bxor") end
  return r
end

function bit32.btest(...)
  local r = ALL
  for i = 1, select("#", ...) do r = r & uint((select(i, ...)), i, "btest") end
  return r ~= 0
end

function bit32.bnot(x) return (~uint(x, 1, "bnot")) & ALL end

function bit32.lshift(x, d) return shift(uint(x, 1, "lshift"), sint(d, 2, "lshift")) end

function bit32.rshift(x, d) return shift(uint(x, 1, "rshift"), -sint(d, 2, "rshift")) end

function bit32.arshift(x, d)
  local r, disp = uint(x, 1, "arshift"), sint(d, 2, "arshift")
  if disp < 0 or (r & 0x80000000) == 0 then return shift(r, -disp) end
  if disp >= 32 then return ALL end
  return ((r >> disp) | ~(ALL >> disp)) & ALL
end

local function rotate(r, d)
  local i = d & 31
  if i ~= 0 then r = ((r << i) | (r >> (32 - i))) & ALL end
  return r
end

function bit32.lrotate(x, d) return rotate(uint(x, 1, "lrotate"), sint(d, 2, "lrotate")) end

function bit32.rrotate(x, d) return rotate(uint(x, 1, "rrotate"), -sint(d, 2, "rrotate")) end

function bit32.extract(n, field, width)
  local r = uint(n, 1, "extract")
  local f, w = fieldargs(field, width, "extract", 2)
  return (r >> f) & mask(w)
end

function bit32.replace(n, v, field, width)
  local r, val = uint(n, 1, "replace"), uint(v, 2, "replace")
  local f, w = fieldargs(field, width, "replace", 3)
  local m = mask(w)
  return ((r & ~(m << f)) | ((val & m) << f)) & ALL
end

_G.bit32 = bit32
package.loaded.bit32 = bit32

-- math (LUA_COMPAT_MATHLIB) ---------------------------------------------------------------
local exp, log, floor, abs = math.exp, math.log, math.floor, math.abs

function math.pow(x, y) return x ^ y end
function math.ldexp(m, e) return m * 2.0 ^ e end
function math.log10(x) return log(x, 10) end
function math.cosh(x) return (exp(x) + exp(-x)) / 2 end
function math.sinh(x) return (exp(x) - exp(-x)) / 2 end
function math.tanh(x)
  if x > 20 then return 1.0 elseif x < -20 then return -1.0 end
  local a, b = exp(x), exp(-x)
  return (a - b) / (a + b)
end
math.atan2 = math.atan

function math.frexp(x)
  if x == 0 or x ~= x or x == math.huge or x == -math.huge then return x, 0 end
  local e = floor(log(abs(x), 2)) + 1
  local m = x / 2.0 ^ e
  -- correct rounding at the edges so that 0.5 <= |m| < 1
  if abs(m) >= 1 then m = m / 2; e = e + 1 elseif abs(m) < 0.5 then m = m * 2; e = e - 1 end
  return m, tointeger(e) or e
end

-- ipairs honouring __ipairs (LUA_COMPAT_IPAIRS) -----------------------------------------
local raw_ipairs, getmetatable = ipairs, getmetatable
function ipairs(t)
  local mt = getmetatable(t)
  local h = type(mt) == "table" and mt.__ipairs or nil
  if h then
    local a, b, c = h(t)
    return a, b, c
  end
  return raw_ipairs(t)
end

-- Lua 5.1 names -------------------------------------------------------------------------
unpack = table.unpack
loadstring = load
-- Lua 5.1-era helpers real FreeSWITCH scripts still call (docs/lua.md)
table.getn = function(t) return #t end
table.setn = function() end  -- a no-op, as in Lua 5.1 without LUA_COMPAT_GETN
math.mod = math.fmod
string.gfind = string.gmatch
