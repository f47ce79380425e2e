-- string.find/match/gmatch/gsub/rep and table.move for scripts: the C functions when the
-- call is provably short, the pure-Lua matcher (pattern.lua) or C calls in bounded pieces
-- otherwise, so that no single C call can hold a script beyond the reach of the kill hook
-- (lua_kill, cpu-limit, fsd -stop).
--
-- Called with (LP, S, BUDGET): the matcher module (pattern.lua; runtime.py passes a table
-- that loads it into the state on first use), the string table to patch, and the most
-- matcher steps one C call may take.  Returns internals for the tests.
--
-- The estimate.  The C matcher backtracks only at quantified items: `x*`, `x+`, `x-` try
-- at most (run of x from there) + 1 positions, `x?` two.  For each start position the work
-- is therefore at most
--     sum over k of  prod_{i<=k} (L_i + 1) * (1 + seg_k + L_{k+1} * cmax)
-- where L_i bounds the run item i can take (the subject length n, or the longest run of
-- its class in this subject), seg_k is the work of the fixed items between quantified
-- items k and k+1 (their bytes * the widest class cmax, plus n per %b or back-reference).
-- Unanchored searches multiply by n + 1 start positions; gsub and gmatch attempt each
-- position at most once, so the same figure bounds them (per call of gmatch's iterator).
-- A plain find (or a pattern without specials) costs n * m comparisons.
--
-- BUDGET (runtime.py PATTERN_BUDGET, 1e8 "steps") keeps the slowest C call it lets
-- through near 110 ms on the machine measured (bench/bench_lua_patterns.py): far below the
-- kill's promptness goal (a second), while the usual calls stay in C, by the shape alone
-- for short subjects and, for long ones, after one linear look at the runs of the
-- quantified classes (a megabyte of words with `%s+` or `(%w+)=(%w+)` stays in C).  Only
-- the rest takes the pure-Lua path: 5-80x slower (docs/lua.md), but it can be stopped.

local LP, S, BUDGET = ...

local type, tonumber, math_type, math_tointeger = type, tonumber, math.type, math.tointeger
local byte, sub, max = string.byte, string.sub, math.max
local pack, unpack, pcall, error = table.pack, table.unpack, pcall, error
local debug_getinfo = debug.getinfo
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

-- The pattern's shape: quantified items in order (their class text, false for '?'); the
-- pattern bytes (seg[k]) and the %b / back-references (lin[k]) between quantified items k
-- and k+1; the widest class.  A malformed piece ends the walk: the C matcher raises there,
-- so only the part before it can cost time.
local function analyse(pat, gm)
  local pend = #pat + 1
  local p, anchored = 1, false
  if not gm and byte(pat, 1) == CARET then anchored, p = true, 2 end
  local q, seg, lin, cmax, k = {}, {[0] = 0}, {[0] = 0}, 1, 0
  -- clean: no error the C matcher could raise (captures balanced and at most 32,
  -- back-references to closed captures, no malformed piece, far from the depth limit)
  local clean, ncap, open, closed, nest = true, 0, {}, {}, 0
  while p < pend do
    local c = byte(pat, p)
    local nc = c == PCT and byte(pat, p + 1)
    local from = p
    if c == LPAR then
      ncap, nest = ncap + 1, nest + 1
      if ncap > 32 then clean = false end
      if byte(pat, p + 1) == RPAR then
        closed[ncap] = true
        p = p + 2
      else
        open[#open + 1] = ncap
        p = p + 1
      end
    elseif c == RPAR then
      if #open == 0 then clean = false break end
      closed[open[#open]], open[#open] = true, nil
      nest, p = nest + 1, p + 1
    elseif c == DOLLAR and p + 1 == pend then
      p = p + 1
    elseif nc == B_b then
      if p + 3 >= pend then clean = false break end
      lin[k], p = lin[k] + 1, p + 4
    elseif nc == B_f then
      local ep = byte(pat, p + 2) == LBR and class_end(pat, pend, p + 2)
      if not ep then clean = false break end
      cmax, p = max(cmax, ep - p - 2), ep
    elseif nc and nc >= D0 and nc <= D9 then
      if not closed[nc - D0] then clean = false end
      lin[k], p = lin[k] + 1, p + 2
    else
      local ep = class_end(pat, pend, p)
      if not ep then clean = false break end
      cmax = max(cmax, ep - p)
      local qc = byte(pat, ep)
      if qc == STAR or qc == PLUS or qc == MINUS or qc == QUEST then
        q[#q + 1] = qc ~= QUEST and sub(pat, p, ep - 1)
        seg[k] = seg[k] + (ep + 1 - p)
        k = k + 1
        seg[k], lin[k] = 0, 0
        from = nil
        p = ep + 1
      else
        p = ep
      end
    end
    if from then seg[k] = seg[k] + (p - from) end
  end
  if #open > 0 or nest + #q > 150 then clean = false end
  return {anchored = anchored, cmax = cmax, q = q, seg = seg, lin = lin, clean = clean,
          ncap = ncap}
end

-- upper bound on the C matcher's steps for a subject of n bytes; L[k] bounds item k's run.
-- An attempt after k quantified items runs segment k (its bytes times the widest class,
-- plus n per %b or back-reference) and the expansion of item k+1 (its run), and branches
-- (run + 1) ways; each invocation costs 1 more.
local function bound(SH, n, L)
  local n1 = n + 1.0
  local cmax, q, seg, lin = SH.cmax, SH.q, SH.seg, SH.lin
  local nq = #q
  local total, prod = 0.0, 1.0
  for k = 0, nq do
    local w = 1 + seg[k] * cmax + lin[k] * n1
    if k < nq then
      local lk = q[k + 1] and (L and L[k + 1] or n1) or 1
      total = total + prod * (w + lk * cmax)
      prod = prod * (lk + 1)
    else
      total = total + prod * w
    end
  end
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

-- shapes per pattern: SH_A for find/match/gsub, SH_G for gmatch (no anchor there)
local SH_A, SH_G, nshapes = {}, {}, 0

local function shape(p, gm)
  local SH = (gm and SH_G or SH_A)[p]
  if SH then return SH end
  SH = analyse(p, gm)
  SH.nmax = longest_ok(SH)
  if nshapes > 256 then SH_A, SH_G, nshapes = {}, {}, 0 end
  (gm and SH_G or SH_A)[p], nshapes = SH, nshapes + 1
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
  local SH = shape(p, gm)
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

-- Each wrapper first tries the common case inline (strings, a pattern already seen, a
-- subject short enough for its shape): about 0.1 us on top of the C call.
-- The C functions raise with the position of the line that called them and the name it
-- called them by ("bad argument #2 to 'find'").  Called from these wrappers they would see
-- the wrapper instead, so a call that may fail (a pattern not known to be well formed, a
-- replacement that may be refused, an argument of the wrong type) runs under pcall and its
-- error is raised again as the direct call would have raised it.  Errors of a gsub callback
-- pass through unchanged.
local LIB_ERRORS = {"malformed pattern", "missing '[' after '%f' in pattern",
                    "invalid capture index", "invalid pattern capture", "unfinished capture",
                    "too many captures", "pattern too complex",
                    "invalid use of '%' in replacement string", "invalid replacement value",
                    "resulting string too large", "not enough memory for buffer allocation"}

local function library_error(e)
  for i = 1, #LIB_ERRORS do
    if c_find(e, LIB_ERRORS[i], 1, true) == 1 then return true end
  end
  return false
end

-- e: the error of the C function `qname` called by a wrapper, which calls this (not as a
-- tail call: level 2 is the wrapper, level 3 the script line that called it)
local function fail(qname, e)
  if type(e) == "string" then
    local argn, why = c_match(e, "^bad argument #(%d+) to '%?' (%(.*%))$")
    if argn then
      local info = debug_getinfo(2, "n") or {}
      local name, nargn = info.name or qname, tonumber(argn)
      if info.namewhat == "method" then nargn = nargn - 1 end
      if nargn == 0 then
        e = "calling '" .. name .. "' on bad self " .. why
      else
        e = "bad argument #" .. nargn .. " to '" .. name .. "' " .. why
      end
      error(e, 3)
    elseif library_error(e) then
      error(e, 3)
    end
  end
  error(e, 0)
end

-- gsub replacement strings: the highest %N they use (0 for none), or false if malformed
local REPL, nrepl = {}, 0
local function repl_refs(repl)
  local r = REPL[repl]
  if r ~= nil then return r end
  r = 0
  local i = c_find(repl, "%", 1, true)
  while i do
    local d = byte(repl, i + 1)
    if d and d >= D0 and d <= D9 then
      if d - D0 > r then r = d - D0 end
    elseif d ~= PCT then
      r = false
      break
    end
    i = c_find(repl, "%", i + 2, true)
  end
  if nrepl > 256 then REPL, nrepl = {}, 0 end
  REPL[repl], nrepl = r, nrepl + 1
  return r
end

-- Each wrapper first tries the common case inline (strings, a well-formed pattern already
-- seen, a subject short enough for its shape): about 0.1 us on top of the C call.
S.find = function(s, p, init, plain)
  if type(s) == "string" and type(p) == "string" and (init == nil or math_type(init) == "integer") then
    if plain then
      if #s * (#p + 1) <= BUDGET then return c_find(s, p, init, plain) end
    else
      local SH = SH_A[p]
      if SH and SH.clean and #s <= SH.nmax then return c_find(s, p, init) end
    end
  end
  local ss, ps = str_arg(s), str_arg(p)
  local k = int_arg(init)
  if ss and ps and k ~= false then
    if plain then
      if #ss * (#ps + 1) > BUDGET then return LP.find(ss, ps, k, true, BUDGET) end
      return c_find(ss, ps, k, true)
    end
    if not use_c(ss, ps, false) then return LP.find(ss, ps, k, false, BUDGET) end
    if shape(ps, false).clean then return c_find(ss, ps, k) end
  end
  local r = pack(pcall(c_find, s, p, init, plain))
  if not r[1] then fail("string.find", r[2]) end
  return unpack(r, 2, r.n)
end

S.match = function(s, p, init)
  if type(s) == "string" and type(p) == "string" then
    local SH = SH_A[p]
    if SH and SH.clean and #s <= SH.nmax and (init == nil or math_type(init) == "integer") then
      return c_match(s, p, init)
    end
  end
  local ss, ps = str_arg(s), str_arg(p)
  local k = int_arg(init)
  if ss and ps and k ~= false then
    if not use_c(ss, ps, false) then return LP.match(ss, ps, k) end
    if shape(ps, false).clean then return c_match(ss, ps, k) end
  end
  local r = pack(pcall(c_match, s, p, init))
  if not r[1] then fail("string.match", r[2]) end
  return unpack(r, 2, r.n)
end

S.gmatch = function(s, p)
  local ss, ps = str_arg(s), str_arg(p)
  if ss and ps then
    -- (the iterator's own errors are raised when the script's loop calls it: as in C)
    if not use_c(ss, ps, true) then return LP.gmatch(ss, ps) end
    return c_gmatch(ss, ps)
  end
  local r = pack(pcall(c_gmatch, s, p))
  if not r[1] then fail("string.gmatch", r[2]) end
  return unpack(r, 2, r.n)
end

S.gsub = function(s, p, repl, n)
  if type(s) == "string" and type(p) == "string" and n == nil and type(repl) == "string" then
    local SH = SH_A[p]
    if SH and SH.clean and #s <= SH.nmax then
      local refs = repl_refs(repl)
      if refs and (refs <= 1 or refs <= SH.ncap) then return c_gsub(s, p, repl) end
    end
  end
  local ss, ps = str_arg(s), str_arg(p)
  local k = int_arg(n)
  local tr = type(repl)
  if tr == "number" then repl, tr = repl .. "", "string" end
  if ss and ps and k ~= false and (tr == "string" or tr == "table" or tr == "function") then
    if not use_c(ss, ps, false) then return LP.gsub(ss, ps, repl, k) end
  end
  local r = pack(pcall(c_gsub, s, p, repl, n))
  if not r[1] then fail("string.gsub", r[2]) end
  return unpack(r, 2, r.n)
end

-- string.rep of an empty string with an empty separator loops n times in C doing nothing
-- (string.rep("", 2^62) never returns); every other case allocates its result first, so
-- the memory cap (max-memory) refuses a huge one at once.
S.rep = function(s, n, sep)
  if type(s) == "string" and math_type(n) == "integer" and sep == nil and #s > 0 then
    return c_rep(s, n)  -- the common case: cannot raise but for memory
  end
  if (s == "" and (sep == nil or sep == "")) then
    local k = int_arg(n)
    if k and k > 1 then return "" end
  end
  local r = pack(pcall(c_rep, s, n, sep))
  if not r[1] then fail("string.rep", r[2]) end
  return unpack(r, 2, r.n)
end

if S.gfind then S.gfind = S.gmatch end

-- table.move copies element by element in C, and its time is not bounded by memory:
-- table.move({}, 1, 2^40, 2) loops 2^40 times storing nils.  A move of more than
-- MOVE_CHUNK elements is made of C moves of MOVE_CHUNK elements, taken in the order the
-- single move takes them (ascending, or descending when the ranges overlap upwards), so
-- the hook can stop it between two.  The values moved are the same; __index/__newindex
-- metamethods of the tables see the same accesses, grouped per chunk.
local c_move, maxint = table.move, math.maxinteger
local MOVE_CHUNK = 1 << 16

table.move = function(a1, f, e, t, a2)
  if math_type(f) == "integer" and math_type(e) == "integer" and math_type(t) == "integer"
     and e >= f and (f > 0 or e < maxint + f) then
    local n = e - f + 1
    if n > MOVE_CHUNK and t <= maxint - n + 1 then
      local dest = a2
      if dest == nil then dest = a1 end
      local forward = t > e or t <= f or dest ~= a1
      local lo, hi
      if forward then lo, hi = f, f + MOVE_CHUNK - 1 else lo, hi = e - MOVE_CHUNK + 1, e end
      -- the first piece checks the arguments as the whole call would
      local r = pack(pcall(c_move, a1, lo, hi, t + (lo - f), a2))
      if not r[1] then fail("table.move", r[2]) end
      while true do
        if forward then
          if hi == e then break end
          lo = hi + 1
          hi = (e - lo >= MOVE_CHUNK) and lo + MOVE_CHUNK - 1 or e
        else
          if lo == f then break end
          hi = lo - 1
          lo = (hi - f >= MOVE_CHUNK) and hi - MOVE_CHUNK + 1 or f
        end
        c_move(a1, lo, hi, t + (lo - f), a2)
      end
      return dest
    end
  end
  local r = pack(pcall(c_move, a1, f, e, t, a2))
  if not r[1] then fail("table.move", r[2]) end
  return unpack(r, 2, r.n)
end

return {use_c = use_c, shape = shape, bound = bound, analyse = analyse}
