-- Per-state bootstrap, run once in every fresh Lua state before the script.
-- Receives (F, OPT): F maps keys to the Python functions of the bindings, OPT carries the
-- run context and settings.  Returns the table of entry points Python uses (run, wrap...).
-- This chunk is compiled once per process and loaded as bytecode (see runtime.py).
local F, OPT = ...
local CTX = OPT.ctx
local BIND = F["@bind"]  -- functools.partial: no-argument methods bind once per instance
local py_check, py_killed, py_describe, py_log = OPT.check, OPT.killed, OPT.describe, OPT.log

local type, select, error, tostring, tonumber, setmetatable, getmetatable, rawget =
  type, select, error, tostring, tonumber, setmetatable, getmetatable, rawget
local string_format, math_type, math_floor, math_ceil, math_tointeger =
  string.format, math.type, math.floor, math.ceil, math.tointeger
local debug_sethook, debug_traceback, debug_getinfo = debug.sethook, debug.traceback, debug.getinfo
local raw_pcall, raw_xpcall = pcall, xpcall
local co_create, co_resume, co_running = coroutine.create, coroutine.resume, coroutine.running

-- lupa's bridge back into Python is not for scripts.
_G.python = nil
if package and package.loaded then package.loaded.python = nil end

-- Containment: a count hook stops runaway loops when the run is killed or over budget ----
local KILL = setmetatable({}, {__tostring = function() return "script stopped" end})
local COUNT = OPT.count
local killed = false

local function hook()
  if killed or py_check() then
    killed = true
    -- keep firing often, but leave room for error handlers to run
    debug_sethook(co_running(), hook, "", 1000)
    error(KILL, 0)
  end
end

-- a failed protected call re-raises when the failure was the kill, so pcall cannot
-- swallow it
local function pass(ok, ...)
  if not ok and (killed or py_killed()) then
    killed = true
    error(KILL, 0)
  end
  return ok, ...
end

function pcall(f, ...) return pass(raw_pcall(f, ...)) end
function xpcall(f, h, ...) return pass(raw_xpcall(f, h, ...)) end

coroutine.create = function(f)
  local co = co_create(f)
  debug_sethook(co, hook, "", killed and 1000 or COUNT)
  return co
end
coroutine.resume = function(co, ...) return pass(co_resume(co, ...)) end
coroutine.wrap = function(f)
  local co = coroutine.create(f)
  return function(...)
    local res = table.pack(co_resume(co, ...))
    if not res[1] then
      local e = res[2]
      if killed or py_killed() then killed = true; error(KILL, 0) end
      if type(e) == "string" then error(e, 2) end
      error(e, 0)
    end
    return table.unpack(res, 2, res.n)
  end
end

-- scripts must not remove the hook, nor reach the real debug.sethook (or the bootstrap's
-- other locals) through the upvalues of the functions above or the registry
debug.sethook = function() py_log(4, "debug.sethook is disabled in fsd\n") end
for _, name in ipairs({"getupvalue", "setupvalue", "upvaluejoin", "upvalueid", "getregistry",
                       "setlocal", "getlocal"}) do
  debug[name] = nil
end

-- A __gc metamethod cannot be stopped: Lua runs finalizers with hooks off, and at the end
-- of a run the state is closed with the GIL held, so one endless finalizer would freeze the
-- whole daemon.  Scripts' metatables are therefore set without marking the object for
-- finalization (the metatable keeps its __gc field; it is just never called).  The bindings
-- above use the local setmetatable and keep their own finalizers.
local warned_gc = false
local function no_finalizer(set)
  return function(t, mt)
    local gc = type(mt) == "table" and rawget(mt, "__gc") or nil
    if gc == nil then return set(t, mt) end
    if not warned_gc then
      warned_gc = true
      py_log(4, "__gc metamethods of scripts are not run in fsd (a finalizer cannot be stopped)\n")
    end
    rawset(mt, "__gc", nil)
    local ok, r = raw_pcall(set, t, mt)
    rawset(mt, "__gc", gc)
    if not ok then error(r, 2) end
    return r
  end
end
_G.setmetatable = no_finalizer(setmetatable)
debug.setmetatable = no_finalizer(debug.setmetatable)

-- os.exit would end the whole daemon: FreeSWITCH replaces it with a log line
os.exit = function() py_log(3, "Surely you jest! exiting is a bad plan....\n") end

-- Binding helpers used by the generated class code --------------------------------------
local REG, MT, WRAP = {}, {}, {}
local CLASSOF = {}

-- Lua's collector sees a binding object as a small table, not the Python object it keeps
-- alive (an Event with its headers: kilobytes), so a loop creating events would let them
-- pile up by the million.  Every PACE_EVERY wrappers the collector is stepped as if each
-- had allocated PACE_KB kilobytes: dead wrappers and their Python objects go promptly, at
-- a cost proportional to the wrappers made (as for any allocation).
local gc_step = collectgarbage
local PACE_EVERY, PACE_KB = 256, 4
local wrapped = 0
local function PACE()
  wrapped = wrapped + 1
  if wrapped >= PACE_EVERY then
    wrapped = 0
    gc_step("step", PACE_EVERY * PACE_KB)
  end
end

local function tname(v)
  local t = type(v)
  if t == "table" then
    for cls, r in pairs(REG) do
      if r[v] ~= nil then return cls .. " *" end
    end
  end
  return t
end

local function TE(fn, i, ctype, v, level)
  error(string_format("Error in %s (arg %d), expected '%s' got '%s'", fn, i, ctype, tname(v)), level or 3)
end

local function AC(fn, lo, hi, n)
  error(string_format("Error in %s expected %d..%d args, got %d", fn, lo, hi, n), 3)
end

local function S(v, fn, i, ctype)
  if type(v) == "number" then return tostring(v) end
  TE(fn, i, ctype, v, 4)
end

local function I(v, fn, i, ctype)
  local n = v
  local t = type(v)
  if t == "string" then n = tonumber(v) elseif t ~= "number" then n = nil end
  if n == nil then
    error(string_format("Error in %s (arg %d), expected '%s' got '%s'", fn, i, ctype, tname(v)), 3)
  end
  local k = math_tointeger(n)
  if k then return k end
  if n ~= n or n == math.huge or n == -math.huge then return 0 end
  return math_tointeger(n >= 0 and math_floor(n) or math_ceil(n)) or 0
end

local function WRAPR(cls, o, ...)
  if o == nil then return nil end
  return WRAP[cls](o)
end

-- a binding sets SIG.e to have a plain-string Lua error raised when it returns
local SIG = {}

-- return r, unless the binding asked for an error (fast no-argument methods)
local function SIGR(r)
  local e = SIG.e
  if e ~= nil then SIG.e = nil error(e, 0) end
  return r
end

local FS = {}
_G.freeswitch = FS
package.loaded.freeswitch = FS

--@@BINDINGS@@

-- Search paths for require (lua.conf.xml script-directory / module-directory)
if OPT.path then package.path = OPT.path end
if OPT.cpath then package.cpath = OPT.cpath end

-- Running -------------------------------------------------------------------------------
local function handler(e)
  if e == KILL or killed or py_killed() then
    killed = true
    debug_sethook()
    return KILL
  end
  debug_sethook()
  local msg
  if type(e) == "string" then
    msg = e
  else
    -- a Python exception (or a non-string Lua error): say where it happened
    local where = ""
    for level = 2, 40 do
      local info = debug_getinfo(level, "Sl")
      if not info then break end
      if info.what ~= "C" and (info.currentline or 0) > 0 and info.short_src ~= "fsd_bootstrap" then
        where = info.short_src .. ":" .. info.currentline .. ": "
        break
      end
    end
    if type(e) == "table" and getmetatable(e) == nil then
      msg = where .. "(error object is a table value)"
    else
      msg = where .. py_describe(e)
    end
  end
  return debug_traceback(msg, 2)
end

local EXPORT = {}

-- run a loaded chunk (or any function) under the hook and the message handler
local function run_func(f, ...)
  debug_sethook(hook, "", COUNT)
  local ok, e = raw_xpcall(f, handler, ...)
  debug_sethook()
  if ok then return true end
  if e == KILL or killed then return false, "killed" end
  return false, "error", e
end

function EXPORT.run_file(path)
  local f, err = loadfile(path)
  if not f then return false, "load", err end
  return run_func(f)
end

function EXPORT.run_code(code, chunkname)
  local f, err = load(code, chunkname)
  if not f then return false, "load", err end
  return run_func(f)
end

EXPORT.run_func = run_func

function EXPORT.wrap(cls, o) return WRAP[cls](o) end

function EXPORT.set_global(name, v) _G[name] = v end

function EXPORT.get_global(name) return _G[name] end

function EXPORT.is_killed() return killed end

EXPORT.sig = SIG

-- the run is over: __gc metamethods must no longer call into Python (the state may be
-- closed later by Python's garbage collector, in any thread)
function EXPORT.close() SIG.closed = true end

-- call a script function by value from Python, with the message handler (so errors carry
-- file:line and a traceback) but without catching the kill
function EXPORT.call(f, ...)
  local res = table.pack(raw_xpcall(f, function(e)
    if e == KILL or killed or py_killed() then killed = true return KILL end
    if type(e) == "string" then return debug_traceback(e, 2) end
    return debug_traceback(py_describe(e), 2)
  end, ...))
  if not res[1] and res[2] == KILL then error(KILL, 0) end
  return table.unpack(res, 1, res.n)
end

return EXPORT
