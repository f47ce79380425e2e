-- string.find/match/gmatch/gsub/rep for scripts: the C functions when the call is provably
-- short, the pure-Lua matcher (pattern.lua) otherwise, so that no single C call can hold a
-- script beyond the reach of the kill hook (lua_kill, cpu-limit, fsd -stop).
--
-- Called with (LP, S, BUDGET): the matcher module, the string table to patch, and the
-- most matcher steps one C call may take.  Returns a table of internals for the tests.
--
-- The estimate.  The C matcher backtracks only at quantified items: `x*`, `x+`, `x-` try
-- at most (run of x from there) + 1 positions, `x?` two.  For each start position the work
-- is therefore at most
--     sum over k of  prod_{i<=k} (L_i + 1) * (own + L_{k+1} * cmax)
-- where L_i bounds the run item i can take (the subject length n, or the longest run of
-- its class in this subject), `own` is one pass over the pattern's fixed items (pattern
-- length * widest class, plus n per %b or back-reference), and cmax the widest class.
-- Unanchored searches multiply by n + 1 start positions; gsub and gmatch attempt each
-- position at most once, so the same figure bounds them (per call of gmatch's iterator).
-- A plain find (or a pattern without specials) costs n * m comparisons.
--
-- BUDGET (sandbox.lua: 1e7 "steps") keeps the longest C call near 10-30 ms on the
-- machines measured (bench/bench_lua_patterns.py): far below the kill's promptness goal
-- (a second), while the usual calls stay in C: `^(%d+)$` up to ~550 000 characters,
-- `%s+` up to ~1 100 and beyond that whenever runs of spaces are short, `(%w+)=(%w+)` up
-- to ~150 (beyond: if the words are short).  Only the rest takes the pure-Lua path, which
-- is slower (about 30-100x, stated in docs/lua.md) but can be stopped.

local LP, S, BUDGET = ...

local type, tonumber, math_type, math_tointeger = type, tonumber, math.type, math.tointeger
local byte, sub, max = string.byte, string.sub, math.max
local c_find, c_match, c_gmatch, c_gsub, c_rep = S.find, S.match, S.gmatch, S.gsub, S.rep

local PCT, LBR, RBR, CARET = byte("%"), byte("["), byte("]"), byte("^")
local LPAR, RPAR, DOLLAR = byte("("), byte(")"), byte("$")
local STAR, PLUS, MINUS, QUEST = byte("*"), byte("+"), byte("-"), byte("?")
local B_b, B_f, D0, D9 = byte("b"), byte("f"), byte("0"), byte("9")

-- end of the class at p, or nil where the C matcher would raise "malformed pattern"
local function class_end(pat, pend, p)
  local c = byte(pat, p)
  p = p + 1
  if c == PCT then
    if p >= pend then return nil end
    return p + 1
  elseif c == LBR then
    if byte(pat, p) == CARET then p = p + 1 end
    repeat
      if p >= pend then return nil end
      local cc = byte(pat, p)
      p = p + 1
      if cc == PCT and p < pend then p = p + 1 end
    until byte(pat, p) == RBR
    return p + 1
  end
  return p
end

-- The pattern's shape: quantified items in order (their class text, false for '?'), the
-- count of %b and back-references, the widest class.  A malformed piece ends the walk: the
-- C matcher raises there, so only the part before it can cost time.
local function analyse(pat, gm)
  local pend = #pat + 1
  local p, anchored = 1, false
  if not gm and byte(pat, 1) == CARET then anchored, p = true, 2 end
  local q, lin, cmax = {}, 0, 1
  while p < pend do
    local c = byte(pat, p)
    local nc = c == PCT and byte(pat, p + 1)
    if c == LPAR then
      p = p + (byte(pat, p + 1) == RPAR and 2 or 1)
    elseif c == RPAR or (c == DOLLAR and p + 1 == pend) then
      p = p + 1
    elseif nc == B_b then
      lin, p = lin + 1, p + 4
    elseif nc == B_f then
      local ep = byte(pat, p + 2) == LBR and class_end(pat, pend, p + 2)
      if not ep then break end
      cmax, p = max(cmax, ep - p - 2), ep
    elseif nc and nc >= D0 and nc <= D9 then
      lin, p = lin + 1, p + 2
    else
      local ep = class_end(pat, pend, p)
      if not ep then break end
      cmax = max(cmax, ep - p)
      local qc = byte(pat, ep)
      if qc == STAR or qc == PLUS or qc == MINUS then
        q[#q + 1] = sub(pat, p, ep - 1)
        p = ep + 1
      elseif qc == QUEST then
        q[#q + 1] = false
        p = ep + 1
      else
        p = ep
      end
    end
  end
  return {anchored = anchored, m = #pat, cmax = cmax, q = q, lin = lin}
end

-- upper bound on the C matcher's steps for a subject of n bytes; L[k] bounds item k's run
local function bound(SH, n, L)
  local n1 = n + 1.0
  local own = (SH.m + 1) * SH.cmax + SH.lin * n1
  local total, prod = 0.0, 1.0
  for k = 1, #SH.q do
    local lk = SH.q[k] and (L and L[k] or n1) or 1
    total = total + prod * (own + lk * SH.cmax)
    prod = prod * (lk + 1)
  end
  total = total + prod * own
  if not SH.anchored then total = total * n1 end
  return total
end

-- the longest subject the bound lets through with every run as long as the subject
local function longest_ok(SH)
  if bound(SH, 0) > BUDGET then return -1 end
  local lo, hi = 0, 1
  while bound(SH, hi) <= BUDGET do
    lo, hi = hi, hi * 2
    if hi > 2 ^ 50 then return hi end
  end
  while hi - lo > 1 do
    local mid = (lo + hi) // 2
    if bound(SH, mid) <= BUDGET then lo = mid else hi = mid end
  end
  return lo
end

local SHAPES = {[false] = {}, [true] = {}}
local nshapes = 0

local function shape(p, gm)
  local SH = SHAPES[gm][p]
  if SH then return SH end
  SH = analyse(p, gm)
  SH.nmax = longest_ok(SH)
  if nshapes > 256 then SHAPES, nshapes = {[false] = {}, [true] = {}}, 0 end
  SHAPES[gm][p], nshapes = SH, nshapes + 1
  return SH
end

-- the longest run of the class `text` in s (a linear C search per run: each run is one
-- step of this Lua loop, so the loop itself can be stopped)
local function longest_run(s, text)
  if text == "." then return #s end
  local pat = LP.run_text(text) .. "+"
  local best, i = 0, 1
  while true do
    local a, b = c_find(s, pat, i)
    if not a then return best end
    if b - a + 1 > best then best = b - a + 1 end
    i = b + 1
  end
end

-- true when the C call is provably within BUDGET for this subject
local function use_c(s, p, gm)
  local SH = SHAPES[gm][p] or shape(p, gm)
  local n = #s
  if n <= SH.nmax then return true end
  if SH.nmax < 0 or #SH.q == 0 then return false end
  -- look at the subject: runs of the quantified classes are usually short.  Runs not yet
  -- measured count as 0, so each intermediate figure is a lower bound: stop at the first
  -- one over budget.
  local L = {}
  for k = 1, #SH.q do L[k] = 0 end
  for k = 1, #SH.q do
    local text = SH.q[k]
    if text then
      L[k] = longest_run(s, text)
      if bound(SH, n, L) > BUDGET then return false end
    end
  end
  return true
end

-- Argument normalisation: what the C function would convert, converted the same way;
-- anything else goes to the C function, which raises its usual "bad argument" error
-- before doing any work.
local function str_arg(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return v .. "" end
  return nil
end

local function int_arg(v)  -- nil: absent; false: not an integer
  if v == nil then return nil end
  if math_type(v) == "integer" then return v end
  local n = tonumber(v)
  return n ~= nil and math_tointeger(n) or false
end

S.find = function(s, p, init, plain)
  local ss, ps = str_arg(s), str_arg(p)
  local k = int_arg(init)
  if ss and ps and k ~= false then
    if plain then
      if #ss * (#ps + 1) > BUDGET then return LP.find(ss, ps, k, true, BUDGET) end
    elseif not use_c(ss, ps, false) then
      return LP.find(ss, ps, k, false, BUDGET)
    end
  end
  return c_find(s, p, init, plain)
end

S.match = function(s, p, init)
  local ss, ps = str_arg(s), str_arg(p)
  local k = int_arg(init)
  if ss and ps and k ~= false and not use_c(ss, ps, false) then return LP.match(ss, ps, k) end
  return c_match(s, p, init)
end

S.gmatch = function(s, p)
  local ss, ps = str_arg(s), str_arg(p)
  if ss and ps and not use_c(ss, ps, true) then return LP.gmatch(ss, ps) end
  return c_gmatch(s, p)
end

S.gsub = function(s, p, repl, n)
  local ss, ps = str_arg(s), str_arg(p)
  local k = int_arg(n)
  local tr = type(repl)
  if tr == "number" then repl, tr = repl .. "", "string" end
  if ss and ps and k ~= false and (tr == "string" or tr == "table" or tr == "function")
     and not use_c(ss, ps, false) then
    return LP.gsub(ss, ps, repl, k)
  end
  return c_gsub(s, p, repl, n)
end

-- string.rep of an empty string with an empty separator loops n times in C doing nothing
-- (string.rep("", 2^62) never returns); every other case allocates its result first, so
-- the memory cap (max-memory) refuses a huge one at once.
S.rep = function(s, n, sep)
  if (s == "" and (sep == nil or sep == "")) then
    local k = int_arg(n)
    if k and k > 1 then return "" end
  end
  return c_rep(s, n, sep)
end

if S.gfind then S.gfind = S.gmatch end

return {use_c = use_c, shape = shape, bound = bound, analyse = analyse}
