-- Lua 5.3 pattern matching (reference manual §6.4.1) written in Lua, for mod_lua.
--
-- Why: the C functions string.find/match/gmatch/gsub run a backtracking matcher in one C
-- call, and Lua's count hook (how fsd stops a script: lua_kill, cpu-limit, fsd -stop)
-- never fires inside a C call.  `string.find(string.rep("a", 30000), ".-.-.-.-b")` would
-- hold its thread for hours.  This matcher follows the same algorithm step for step (same
-- results, same captures, same error messages, same "pattern too complex" depth), but
-- every step is Lua code, so the hook fires and the script can be stopped.  sandbox.lua
-- calls it only when the C call could be long (guard.lua's estimate), and loads it into a
-- state only then.
--
-- Which byte belongs to which class (%a, [%w_], ...) is asked once per class of the C
-- library itself (one short gsub over the 256 bytes), so locale-dependent classes agree
-- with the C functions exactly.  Positions are 1-based; the end of the subject is len+1.
--
-- Returns a table: find, match, gmatch, gsub (same signatures as string.*, arguments
-- already checked and converted by the caller).

-- B: the base functions to use, captured by the sandbox before any script ran (the
-- string table by then holds the sandbox's wrappers); loaded stand-alone, the globals.
local B = ... or {pcall = pcall, error = error, type = type, tostring = tostring,
                  setmetatable = setmetatable, getmetatable = getmetatable,
                  concat = table.concat, unpack = table.unpack, string = string}
local byte, sub, char = B.string.byte, B.string.sub, B.string.char
local c_find, c_gsub, c_format = B.string.find, B.string.gsub, B.string.format
local type, error, tostring, unpack, pcall, concat = B.type, B.error, B.tostring, B.unpack,
  B.pcall, B.concat
local setmetatable, getmetatable = B.setmetatable, B.getmetatable

local MAXCAPTURES = 32      -- LUA_MAXCAPTURES
local MAXCCALLS = 200       -- the C matcher's recursion limit ("pattern too complex")
local CAP_UNFINISHED, CAP_POSITION = -1, -2

local PCT, LBR, RBR, CARET = byte("%"), byte("["), byte("]"), byte("^")
local LPAR, RPAR, DOLLAR, DOT = byte("("), byte(")"), byte("$"), byte(".")
local STAR, PLUS, MINUS, QUEST = byte("*"), byte("+"), byte("-"), byte("?")
local B_b, B_f, D0, D9 = byte("b"), byte("f"), byte("0"), byte("9")

-- The C functions raise their errors with the position of the Lua line that called them
-- (luaL_error); a callback's error passes through unchanged.  Matcher errors are thrown
-- as a marked table and turned into a message at the caller's level by `finish`.
local PERR = {}
local function perr(msg) error(setmetatable({msg}, PERR), 0) end

local function finish(ok, ...)
  if ok then return ... end
  local e = ...
  if getmetatable(e) == PERR then error(e[1], 2) end
  error(e, 0)
end

-- Class membership tables ----------------------------------------------------------------
local ALL                  -- the 256 bytes, built on first use
local MASKS = {}           -- class text ("%a", "[^%s,]", ".") -> {[byte] = true}
local nmasks = 0

-- The set of bytes a single-character class matches, asked of the C matcher: one class
-- item without quantifier is a linear scan of 256 bytes.
local function class_mask(text)
  local m = MASKS[text]
  if m then return m end
  if not ALL then
    local t = {}
    for i = 0, 255 do t[i + 1] = char(i) end
    ALL = concat(t)
  end
  m = {}
  c_gsub(ALL, text, function(ch) m[byte(ch)] = true end)
  if nmasks > 512 then MASKS, nmasks = {}, 0 end
  MASKS[text], nmasks = m, nmasks + 1
  return m
end

-- A pattern for C's find that matches a run of the class at `text` (used to count how far
-- a greedy item can expand in one linear C call).
local function run_text(text)
  if #text == 1 and text ~= "." then
    local c = byte(text)
    -- letters and digits stand for themselves; anything else is escaped (a raw "(" or
    -- "%" would change the meaning; "%1" would be a back-reference, hence digits raw)
    if not ((c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122)) then
      return "%" .. text
    end
  end
  return text
end

-- Pattern information, kept per pattern string ---------------------------------------------
-- P.pat, P.pend (len+1); P.ep[p]: end of the single-char class starting at p (index after
-- it); P.lit[p]: its byte when it is a plain character; P.set[p]: its membership table.
local PATS, npats = {}, 0

local function pattern_info(pat)
  local P = PATS[pat]
  if P then return P end
  P = {pat = pat, pend = #pat + 1, ep = {}, lit = {}, set = {}, run = {}}
  if npats > 256 then PATS, npats = {}, 0 end
  PATS[pat], npats = P, npats + 1
  return P
end

-- the C matcher's classEnd, raising the same errors at the same moment (lazily: a malformed
-- piece the match never reaches is no error)
local function class_end(P, p)
  local pat, pend = P.pat, P.pend
  local c = byte(pat, p)
  p = p + 1
  if c == PCT then
    if p >= pend then perr("malformed pattern (ends with '%')") end
    return p + 1
  elseif c == LBR then
    if byte(pat, p) == CARET then p = p + 1 end
    repeat
      if p >= pend then perr("malformed pattern (missing ']')") end
      local cc = byte(pat, p)
      p = p + 1
      if cc == PCT and p < pend then p = p + 1 end
    until byte(pat, p) == RBR
    return p + 1
  end
  return p
end

-- end of the class at p, and its compiled form (memoised per pattern position)
local function item(P, p)
  local ep = P.ep[p]
  if ep then return ep end
  ep = class_end(P, p)
  local c = byte(P.pat, p)
  if c == DOT then
    P.set[p] = class_mask(".")
  elseif c == PCT or c == LBR then
    P.set[p] = class_mask(sub(P.pat, p, ep - 1))
  else
    P.lit[p] = c
  end
  P.ep[p] = ep
  return ep
end

-- Matching state: ms.src, ms.slen, ms.P, ms.level, ms.cs[i] (capture start), ms.cl[i]
-- (capture length or CAP_*), ms.depth.

local do_match

local function single(ms, s, p)
  if s > ms.slen then return false end
  local P = ms.P
  local lit = P.lit[p]
  if lit then return byte(ms.src, s) == lit end
  return P.set[p][byte(ms.src, s)] == true
end

local function max_expand(ms, s, p, ep)
  local P = ms.P
  local rp = P.run[p]
  if not rp then
    rp = "^" .. run_text(sub(P.pat, p, ep - 1)) .. "*"
    P.run[p] = rp
  end
  -- how many characters from s match the class: one linear C call
  local _, e = c_find(ms.src, rp, s)
  local i = (e or s - 1) - s + 1
  while i >= 0 do
    local res = do_match(ms, s + i, ep + 1)
    if res then return res end
    i = i - 1
  end
  return nil
end

local function min_expand(ms, s, p, ep)
  while true do
    local res = do_match(ms, s, ep + 1)
    if res then return res end
    if single(ms, s, p) then s = s + 1 else return nil end
  end
end

local function start_capture(ms, s, p, what)
  local level = ms.level
  if level >= MAXCAPTURES then perr("too many captures") end
  level = level + 1
  ms.cs[level], ms.cl[level], ms.level = s, what, level
  local res = do_match(ms, s, p)
  if not res then ms.level = ms.level - 1 end
  return res
end

local function end_capture(ms, s, p)
  local l
  for i = ms.level, 1, -1 do
    if ms.cl[i] == CAP_UNFINISHED then l = i break end
  end
  if not l then perr("invalid pattern capture") end
  ms.cl[l] = s - ms.cs[l]
  local res = do_match(ms, s, p)
  if not res then ms.cl[l] = CAP_UNFINISHED end
  return res
end

local function match_balance(ms, s, p)
  local P = ms.P
  if p >= P.pend - 1 then perr("malformed pattern (missing arguments to '%b')") end
  local src, slen = ms.src, ms.slen
  local b, e = byte(P.pat, p), byte(P.pat, p + 1)
  if s > slen or byte(src, s) ~= b then return nil end
  local depth = 1
  for i = s + 1, slen do
    local c = byte(src, i)
    if c == e then
      depth = depth - 1
      if depth == 0 then return i + 1 end
    elseif c == b then
      depth = depth + 1
    end
  end
  return nil
end

local function match_capture(ms, s, d)
  local l = d - D0  -- "%1" -> 1
  if l < 1 or l > ms.level or ms.cl[l] == CAP_UNFINISHED then
    perr(c_format("invalid capture index %%%d", l))
  end
  local len = ms.cl[l]
  if len == CAP_POSITION then return nil end  -- C compares a huge unsigned length: never
  if ms.slen - s + 1 >= len then
    local src, from = ms.src, ms.cs[l]
    if sub(src, from, from + len - 1) == sub(src, s, s + len - 1) then return s + len end
  end
  return nil
end

do_match = function(ms, s, p)
  if ms.depth == 0 then perr("pattern too complex") end
  ms.depth = ms.depth - 1
  local P = ms.P
  local pat, pend = P.pat, P.pend
  while p ~= pend do
    local pc = byte(pat, p)
    if pc == LPAR then
      if byte(pat, p + 1) == RPAR then
        s = start_capture(ms, s, p + 2, CAP_POSITION)
      else
        s = start_capture(ms, s, p + 1, CAP_UNFINISHED)
      end
      break
    elseif pc == RPAR then
      s = end_capture(ms, s, p + 1)
      break
    elseif pc == DOLLAR and p + 1 == pend then
      if s ~= ms.slen + 1 then s = nil end
      break
    end
    local nc = pc == PCT and byte(pat, p + 1)
    if nc == B_b then
      s = match_balance(ms, s, p + 2)
      if not s then break end
      p = p + 4
    elseif nc == B_f then
      p = p + 2
      if byte(pat, p) ~= LBR then perr("missing '[' after '%f' in pattern") end
      local ep = item(P, p)
      local set = P.set[p]
      local prev = s == 1 and 0 or byte(ms.src, s - 1)
      local cur = byte(ms.src, s) or 0
      if not set[prev] and set[cur] then
        p = ep
      else
        s = nil
        break
      end
    elseif nc and nc >= D0 and nc <= D9 then
      s = match_capture(ms, s, nc)
      if not s then break end
      p = p + 2
    else
      local ep = item(P, p)
      local q = byte(pat, ep)
      if not single(ms, s, p) then
        if q == STAR or q == QUEST or q == MINUS then
          p = ep + 1
        else
          s = nil
          break
        end
      elseif q == QUEST then
        local res = do_match(ms, s + 1, ep + 1)
        if res then
          s = res
          break
        end
        p = ep + 1
      elseif q == PLUS then
        s = max_expand(ms, s + 1, p, ep)
        break
      elseif q == STAR then
        s = max_expand(ms, s, p, ep)
        break
      elseif q == MINUS then
        s = min_expand(ms, s, p, ep)
        break
      else
        s = s + 1
        p = ep
      end
    end
  end
  ms.depth = ms.depth + 1
  return s
end

-- Captures ---------------------------------------------------------------------------------
local function one_capture(ms, i, s, e)
  if i > ms.level then
    if i ~= 1 then perr(c_format("invalid capture index %%%d", i)) end
    return sub(ms.src, s, e - 1)
  end
  local l = ms.cl[i]
  if l == CAP_UNFINISHED then perr("unfinished capture") end
  if l == CAP_POSITION then return ms.cs[i] end
  local from = ms.cs[i]
  return sub(ms.src, from, from + l - 1)
end

-- the values a match returns: its captures, or the whole match (s ~= nil) when it has none
local function captures(ms, s, e)
  local n = ms.level
  if n == 0 and s then return sub(ms.src, s, e - 1) end
  if n == 1 then return one_capture(ms, 1, s, e) end
  local t = {}
  for i = 1, n do t[i] = one_capture(ms, i, s, e) end
  return unpack(t, 1, n)
end

-- Where an unanchored search may skip to: when every match must begin with one character of
-- a known class (the first item after any '(' has no '*', '?' or '-'), positions where
-- that class does not match fail at once in the C matcher too, so a linear C search finds
-- the next candidate.  Returns nil, or a function(s) -> next candidate position or nil.
-- Only used after a first attempt, so errors the C matcher raises wherever it starts are
-- raised here too.
local function first_class(P, p)
  local pat, pend = P.pat, P.pend
  while byte(pat, p) == LPAR and byte(pat, p + 1) ~= RPAR do p = p + 1 end
  if p >= pend then return nil end
  local c = byte(pat, p)
  if c == LPAR or c == RPAR or (c == DOLLAR and p + 1 == pend) then return nil end
  if c == PCT then
    local nc = byte(pat, p + 1)
    if nc == B_b or nc == B_f or (nc and nc >= D0 and nc <= D9) then return nil end
  end
  local ep = P.ep[p]
  if not ep then return nil end  -- not compiled yet: the first attempt did not reach it
  local q = byte(pat, ep)
  if q == STAR or q == QUEST or q == MINUS or c == DOT then return nil end
  local lit = P.lit[p]
  if lit then
    local ch = char(lit)
    return function(src, s) return c_find(src, ch, s, true) end
  end
  local text = sub(pat, p, ep - 1)
  return function(src, s) return c_find(src, text, s) end
end

local function skipper(P, p1)
  local k = P.skip and P.skip[p1]
  if k == nil then
    k = first_class(P, p1) or false
    if P.ep[p1] ~= nil or k then  -- decided (the first item was compiled)
      P.skip = P.skip or {}
      P.skip[p1] = k
    end
  end
  return k
end

local function new_state(src, pat)
  return {src = src, slen = #src, P = pattern_info(pat), level = 0, cs = {}, cl = {},
          depth = MAXCCALLS}
end

local function reset(ms)
  ms.level = 0
  ms.depth = MAXCCALLS
end

-- Plain search, interruptible: C's search on bounded windows (each call at most about
-- `budget` byte comparisons), or, for a very long needle, candidate by candidate.
local function plain_find(s, p, init, budget)
  local n, m = #s, #p
  if m == 0 then return init, init - 1 end
  if m * m <= budget then
    local w = budget // m
    local i = init
    while i + m - 1 <= n do
      local last = i + w + m - 2
      local a = c_find(sub(s, i, last), p, 1, true)
      if a then return i + a - 1, i + a + m - 2 end
      i = i + w
    end
    return nil
  end
  local first = sub(p, 1, 1)
  local i = init
  while true do
    local a = c_find(s, first, i, true)
    if not a or a + m - 1 > n then return nil end
    if sub(s, a, a + m - 1) == p then return a, a + m - 1 end
    i = a + 1
  end
end

local M = {}

local function posrelat(pos, len)
  if pos >= 0 then return pos end
  if -pos > len then return 0 end
  return len + pos + 1
end

-- string.find (find = true) and string.match; init is an integer or nil
local function find_aux(isfind, s, p, init, plain, budget)
  local ls = #s
  init = posrelat(init or 1, ls)
  if init < 1 then
    init = 1
  elseif init > ls + 1 then
    return nil
  end
  if isfind and (plain or not c_find(p, "[%^%$%*%+%?%.%(%[%%%-]")) then
    return plain_find(s, p, init, budget or 1000000)
  end
  local ms = new_state(s, p)
  local anchor = byte(p, 1) == CARET
  local p1 = anchor and 2 or 1
  local s1, skip = init, nil
  repeat
    reset(ms)
    local e = do_match(ms, s1, p1)
    if e then
      if isfind then
        if ms.level == 0 then return s1, e - 1 end
        return s1, e - 1, captures(ms, nil, e)
      end
      return captures(ms, s1, e)
    end
    s1 = s1 + 1
    if skip == nil then skip = skipper(ms.P, p1) end
    if skip and s1 <= ls then
      s1 = skip(s, s1)
      if not s1 then return nil end
    end
  until anchor or s1 > ls + 1
  return nil
end

-- (each public function ends in a tail call of finish: its errors then name the line of
-- whoever called the public function, or of the script line calling the sandbox wrapper,
-- which tail-calls it)
function M.find(s, p, init, plain, budget)
  return finish(pcall(find_aux, true, s, p, init, plain, budget))
end

function M.match(s, p, init) return finish(pcall(find_aux, false, s, p, init)) end

-- Lua 5.3.6 gmatch: no anchor ('^' is an ordinary character), and an empty match right
-- where the previous match ended is skipped
function M.gmatch(s, p)
  local ms = new_state(s, p)
  local src, lastmatch, skip = 1, nil, nil
  local ls = ms.slen
  local function step()
    while src <= ls + 1 do
      reset(ms)
      local e = do_match(ms, src, 1)
      if e and e ~= lastmatch then
        local start = src
        src, lastmatch = e, e
        return captures(ms, start, e)
      end
      src = src + 1
      if skip == nil then skip = skipper(ms.P, 1) end
      if skip and src <= ls then src = skip(s, src) or ls + 2 end
    end
  end
  return function() return finish(pcall(step)) end
end

-- gsub's replacement string: %0-%9 and %%
local function add_string(ms, out, s, e, repl)
  if not c_find(repl, "%", 1, true) then
    out[#out + 1] = repl
    return
  end
  local i, n = 1, #repl
  while i <= n do
    local j = c_find(repl, "%", i, true)
    if not j then
      out[#out + 1] = sub(repl, i)
      return
    end
    if j > i then out[#out + 1] = sub(repl, i, j - 1) end
    local d = byte(repl, j + 1)
    if d == PCT then
      out[#out + 1] = "%"
    elseif d and d >= D0 and d <= D9 then
      if d == D0 then
        out[#out + 1] = sub(ms.src, s, e - 1)
      else
        out[#out + 1] = tostring(one_capture(ms, d - D0, s, e))
      end
    else
      perr("invalid use of '%' in replacement string")
    end
    i = j + 2
  end
end

-- repl is a string, a table or a function (a number already made a string); max_n an
-- integer or nil
local function gsub(s, p, repl, max_n)
  local ls = #s
  local tr = type(repl)
  max_n = max_n or ls + 1
  local ms = new_state(s, p)
  local anchor = byte(p, 1) == CARET
  local p1 = anchor and 2 or 1
  local out = {}
  local src, copied, lastmatch, n, skip = 1, 1, nil, 0, nil
  while n < max_n do
    reset(ms)
    local e = do_match(ms, src, p1)
    if e and e ~= lastmatch then
      n = n + 1
      if src > copied then out[#out + 1] = sub(s, copied, src - 1) end
      if tr == "string" then
        add_string(ms, out, src, e, repl)
      else
        local v
        if tr == "table" then
          v = repl[one_capture(ms, 1, src, e)]
        else
          v = repl(captures(ms, src, e))
        end
        if not v then
          out[#out + 1] = sub(s, src, e - 1)
        elseif type(v) == "string" or type(v) == "number" then
          out[#out + 1] = tostring(v)
        else
          perr(c_format("invalid replacement value (a %s)", type(v)))
        end
      end
      src, copied, lastmatch = e, e, e
    elseif src <= ls then
      src = src + 1
      if not anchor then
        if skip == nil then skip = skipper(ms.P, p1) end
        if skip and src <= ls then src = skip(s, src) or ls + 1 end
      end
    else
      break
    end
    if anchor then break end
  end
  if copied <= ls then out[#out + 1] = sub(s, copied) end
  return concat(out), n
end

function M.gsub(s, p, repl, max_n) return finish(pcall(gsub, s, p, repl, max_n)) end

M.pattern_info = pattern_info
M.class_mask = class_mask
M.run_text = run_text
return M
