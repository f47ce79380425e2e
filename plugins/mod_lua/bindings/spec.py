"""How a Python class becomes a Lua class: specs, and the Lua code generated from them.

A binding class is described once, in Python, by a :class:`ClassSpec`.  From all specs we
generate one block of Lua source that builds, per Lua state:

* a method table per class (also the class table, ``freeswitch.<Name>``, callable as the
  constructor through ``__call``), and one shared metatable for its instances;
* for each method a small Lua function that checks the argument count and types exactly
  as FreeSWITCH's SWIG wrapper does, looks the Python object up in a private weak table
  (instance proxy table -> Python object) and calls the *unbound* Python function.

Scripts only ever hold plain Lua tables, so no Python attribute is reachable from Lua, and
a bound call costs one table lookup and a few ``type()`` checks on top of the Lua->Python
call.  The generated source is compiled once per process (see runtime.py).

Argument kinds (SWIG conventions, behaviour reference §2):

``s``  string: a string, a number (converted by ``tostring``) or nil; other types rejected
``i``  int: a number or a numeric string, truncated toward zero
``b``  bool: a real boolean
``o:Class``  an instance of that binding class, or nil
``any``  passed through untouched (Lua functions, tables)

Python callables receive: constructors and module functions ``(ctx, *args)`` where ``ctx``
is the run's :class:`fsd_modules.mod_lua.runtime.RunContext`; methods ``(obj, *args)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_DEFAULT_CTYPE = {"s": "char const *", "i": "int", "b": "bool", "any": "SWIGLUA_REF"}


@dataclass
class Arg:
    kind: str  # s, i, b, any, o:<Class>
    ctype: str = ""

    def __post_init__(self) -> None:
        if not self.ctype:
            if self.kind.startswith("o:"):
                self.ctype = self.kind[2:] + " *"
            else:
                self.ctype = _DEFAULT_CTYPE[self.kind]


def args(*kinds: str | Arg) -> list[Arg]:
    """``args("s", "i", Arg("s", "char *"))`` -> a list of :class:`Arg`."""
    return [k if isinstance(k, Arg) else Arg(k) for k in kinds]


@dataclass
class Method:
    """One callable.  ``func`` is the Python side; ``lua`` (alternative) is a Lua function
    expression implementing the method entirely in Lua, given ``self``'s Python object as
    its first argument after checks (``function(o, self, a1, ...) ... end``)."""

    name: str
    func: Callable[..., Any] | None = None
    params: list[Arg] = field(default_factory=list)
    required: int | None = None  # how many of params are mandatory (default: all)
    returns: str | None = None  # binding class name to wrap a returned object in
    lua: str | None = None
    aliases: tuple[str, ...] = ()
    swig_name: str | None = None  # name used in error messages when it differs

    def __post_init__(self) -> None:
        self.params = [p if isinstance(p, Arg) else Arg(p) for p in self.params]

    @property
    def min_args(self) -> int:
        return len(self.params) if self.required is None else self.required


@dataclass
class ClassSpec:
    """A Lua class ``freeswitch.<name>``."""

    name: str
    ctor: Method | None
    methods: list[Method] = field(default_factory=list)
    getters: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    gc: Callable[[Any], Any] | None = None  # called when the Lua proxy is collected
    lua_ctor: str | None = None  # a Lua constructor replacing ctor (pure-Lua classes)
    #: Lua statements run after an instance proxy ``p`` wraps Python object ``o``
    lua_on_wrap: str | None = None
    #: methods may ask (through ``ctx.raise_in_lua``) for a Lua error to be raised with a
    #: plain string once they return (Session's hangup-hook "exit", destroy(errmsg))
    signals: bool = False
    #: more entries for the ``F`` table (Python helpers the Lua snippets call)
    extra_funcs: dict[str, Callable[..., Any]] = field(default_factory=dict)
    #: set for classes that live in a module of their own (``require "ESL"``) rather
    #: than in the ``freeswitch`` table
    module: str | None = None


@dataclass
class ModuleFunc:
    """A function of the ``freeswitch`` table: ``func(ctx, *args)``."""

    method: Method


_KNOWN: frozenset[str] = frozenset()


def _lua_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _checks(fn_label: str, params: list[Arg], first_index: int,
            known: frozenset[str] = frozenset(), required: int | None = None) -> list[str]:
    """Lua statements converting/validating ``a1..aN`` in place.  Optional parameters left
    out (nil) are passed on as nil: the Python side applies the default."""
    out: list[str] = []
    req = len(params) if required is None else required
    for i, a in enumerate(params, start=1):
        if i > req and a.kind in ("i", "b"):
            v = f"a{i}"
            inner = _checks(fn_label, [a], first_index + i - 1, known)[0].replace("a1", v)
            out.append(f"if {v} ~= nil then {inner} end")
            continue
        v = f"a{i}"
        pos = first_index + i - 1
        lab, ct = _lua_str(fn_label), _lua_str(a.ctype)
        if a.kind == "s":
            out.append(f"if type({v}) ~= 'string' and {v} ~= nil then {v} = S({v}, {lab}, {pos}, {ct}) end")
        elif a.kind == "i":
            out.append(f"if math_type({v}) ~= 'integer' then {v} = I({v}, {lab}, {pos}, {ct}) end")
        elif a.kind == "b":
            out.append(f"if type({v}) ~= 'boolean' then TE({lab}, {pos}, {ct}, {v}) end")
        elif a.kind.startswith("o:"):
            cls = a.kind[2:]
            if cls not in known:  # a C type Lua can never produce (setPriority's arg)
                out.append(f"if {v} ~= nil then TE({lab}, {pos}, {ct}, {v}) end")
                continue
            out.append(
                f"if {v} ~= nil then local r = REG[{_lua_str(cls)}][{v}] "
                f"if r == nil then TE({lab}, {pos}, {ct}, {v}) end {v} = r end"
            )
        elif a.kind == "any":
            pass
        else:  # pragma: no cover - programming error
            raise ValueError(f"unknown arg kind {a.kind}")
    return out


def _call_expr(m: Method, key: str, first: str, n: int, cls_spec: ClassSpec | None) -> str:
    call_args = ", ".join([first] + [f"a{i}" for i in range(1, n + 1)])
    if m.lua is not None:
        target = f"L_{key.replace('.', '_')}"
        call = f"{target}({call_args}{', self' if cls_spec else ''})"
    else:
        call = f"F[{_lua_str(key)}]({call_args})"
    if m.returns:
        return f"return WRAPR({_lua_str(m.returns)}, {call})"
    return f"return {call}"


def _fast_noarg_lua(cls: ClassSpec, m: Method) -> str:
    """A method without parameters (``s:get_data()``, ``session:ready()``).

    Passing the Python object from Lua to Python costs as much as the bare call itself, so
    the first call on an instance binds the Python function to its object
    (``functools.partial``, cached in a weak table keyed by the instance) and later calls
    pass no argument at all.  The checks are SWIG's, raised from this function so that
    their messages carry the script's position (an explicit nil ``self`` with nothing
    after it counts as no argument)."""
    key = f"{cls.name}.{m.name}"
    label = _lua_str(f"{cls.name}::{m.swig_name or m.name}")
    ctype = _lua_str(cls.name + " *")
    ret = "b()"
    if cls.signals:
        ret = "SIGR(b())"
    return "\n".join([
        "(function()",
        f"  local fn = F[{_lua_str(key)}]",
        "  local C = setmetatable({}, {__mode = 'k'})",
        "  return function(self, ...)",
        "    local b = C[self]",
        f"    if b ~= nil and select('#', ...) == 0 then return {ret} end",
        "    local n = select('#', ...) + (self == nil and 0 or 1)",
        f"    if n ~= 1 then AC({label}, 1, 1, n) end",
        "    local o = R[self]",
        f"    if o == nil then TE({label}, 1, {ctype}, self) end",
        "    b = BIND(fn, o) C[self] = b",
        f"    return {ret}",
        "  end",
        "end)()",
    ])


def _method_lua(cls: ClassSpec, m: Method) -> str:
    label = f"{cls.name}::{m.swig_name or m.name}"
    n = len(m.params)
    lo, hi = m.min_args + 1, n + 1  # SWIG counts self
    params = ", ".join(["self"] + [f"a{i}" for i in range(1, n + 1)])
    key = f"{cls.name}.{m.name}"
    lines = [
        "function(...)",
        "  local n = select('#', ...)",
        f"  if n < {lo} or n > {hi} then AC({_lua_str(label)}, {lo}, {hi}, n) end",
        f"  local {params} = ...",
        "  local o = R[self]",
        f"  if o == nil then TE({_lua_str(label)}, 1, {_lua_str(cls.name + ' *')}, self) end",
    ]
    lines += ["  " + s for s in _checks(label, m.params, 2, _KNOWN, m.min_args)]
    expr = _call_expr(m, key, "o", n, cls)
    if cls.signals:
        # one result at most for such classes; a pending error string is raised here,
        # in the script's frame, exactly as a C binding calling lua_error would
        lines.append("  local r = " + expr[len("return "):])
        lines.append("  local e = SIG.e if e ~= nil then SIG.e = nil error(e, 0) end")
        lines.append("  return r")
    else:
        lines.append("  " + expr)
    lines.append("end")
    return "\n".join(lines)


def _func_lua(label: str, key: str, m: Method, first: str) -> str:
    n = len(m.params)
    lo, hi = m.min_args, n
    params = ", ".join(f"a{i}" for i in range(1, n + 1))
    lines = ["function(...)", "  local n = select('#', ...)"]
    lines.append(f"  if n < {lo} or n > {hi} then AC({_lua_str(label)}, {lo}, {hi}, n) end")
    if params:
        lines.append(f"  local {params} = ...")
    lines += ["  " + s for s in _checks(label, m.params, 1, _KNOWN, m.min_args)]
    lines.append("  " + _call_expr(m, key, first, n, None))
    lines.append("end")
    return "\n".join(lines)


#: The bootstrap's locals (sandbox.lua, where ``--@@BINDINGS@@`` sits) a class chunk uses.
#: A class chunk is compiled on its own and loaded only when a script first touches the
#: class, outside the bootstrap's scope, so these arrive in one table and become the
#: chunk's locals again (a name missing here would silently read a global a script can
#: replace: tests/mod_lua/test_lazy_classes.py checks every chunk's free names).
CLASS_ENV = ("F", "CTX", "BIND", "REG", "MT", "WRAP", "PACE", "TE", "AC", "S", "I", "WRAPR",
             "SIG", "SIGR", "FS", "tname", "type", "select", "error", "tostring", "tonumber",
             "setmetatable", "getmetatable", "rawget", "string_format", "math_type",
             "math_floor", "math_ceil", "math_tointeger", "raw_pcall", "raw_xpcall",
             "py_log", "py_describe")


def _class_body(cls: ClassSpec) -> list[str]:
    """Statements building one class; they end by returning its method table."""
    q = _lua_str(cls.name)
    out: list[str] = []
    out.append("local M, R = {}, setmetatable({}, {__mode = 'k'})")
    out.append(f"REG[{q}] = R")
    for m in cls.methods:
        if m.lua is not None:
            out.append(f"local L_{cls.name}_{m.name} = {m.lua}")
        if not m.params and m.lua is None and m.func is not None and not m.returns:
            body = _fast_noarg_lua(cls, m)
        else:
            body = _method_lua(cls, m)
        out.append(f"M[{_lua_str(m.name)}] = {body}")
        for al in m.aliases:
            out.append(f"M[{_lua_str(al)}] = M[{_lua_str(m.name)}]")
    if cls.getters:
        out.append(
            "local index = function(t, k) local v = M[k] if v ~= nil then return v end "
            f"local g = F[{_lua_str(cls.name + '.@get')}] local o = R[t] "
            "if o ~= nil and type(k) == 'string' then return g(o, k) end end"
        )
    else:
        out.append("local index = M")
    gc = ""
    if cls.gc is not None:
        # never call into Python once the run is over: the state is being closed
        # (possibly from Python's garbage collector, in another thread)
        gc = (f", __gc = function(t) if SIG.closed then return end local o = R[t] if o ~= nil then "
              f"pcall(F[{_lua_str(cls.name + '.@gc')}], o) end end")
    out.append(f"local mt = {{__index = index, __name = {q}, __metatable = false{gc}}}")
    out.append(f"MT[{q}] = mt")
    on_wrap = cls.lua_on_wrap or ""
    # PACE (sandbox.lua) steps the collector for the Python memory wrappers hold
    out.append(f"WRAP[{q}] = function(o) local p = setmetatable({{}}, mt) R[p] = o PACE() {on_wrap} return p end")
    if cls.lua_ctor is not None:
        ctor = cls.lua_ctor
    elif cls.ctor is not None:
        from dataclasses import replace

        ctor_m = replace(cls.ctor, returns=cls.name)
        ctor = _func_lua(f"new_{cls.name}", f"{cls.name}.@new", ctor_m, "CTX")
    else:
        ctor = (f"function() error('No constructor defined for {cls.name}', 2) end")
    out.append(f"local ctor = {ctor}")
    out.append("setmetatable(M, {__call = function(_, ...) return ctor(...) end})")
    out.append("return M")
    return out


def generate_class(cls: ClassSpec, classes: list[ClassSpec]) -> str:
    """The Lua chunk that builds one class in a state: called with the table of
    :data:`CLASS_ENV` values, returns the class table (``freeswitch.<Name>``)."""
    global _KNOWN
    _KNOWN = frozenset(c.name for c in classes)
    names = ", ".join(CLASS_ENV)
    fields = ", ".join(f"H.{n}" for n in CLASS_ENV)
    return "\n".join([f"local H = ...\nlocal {names} = {fields}"] + _class_body(cls))


def generate_funcs(funcs: list[ModuleFunc], classes: list[ClassSpec]) -> str:
    """The Lua chunk that puts every module function into ``FS`` (``freeswitch``), built
    the first time a script asks for one of them (a name a script already set is kept)."""
    global _KNOWN
    _KNOWN = frozenset(c.name for c in classes)
    names = ", ".join(CLASS_ENV)
    fields = ", ".join(f"H.{n}" for n in CLASS_ENV)
    out = [f"local H = ...\nlocal {names} = {fields}",
           "local rawset = rawset",
           "local function put(k, v) if rawget(FS, k) == nil then rawset(FS, k, v) end end"]
    for f in funcs:
        m = f.method
        out.append("do")
        if m.lua is not None:
            out.append(f"  local L_fs_{m.name} = {m.lua}")
        body = _func_lua(m.swig_name or m.name, f"fs.{m.name}", m, "CTX")
        out.append(f"  local fn = {body}")
        for n in (m.name, *m.aliases):
            out.append(f"  put({_lua_str(n)}, fn)")
        out.append("end")
    return "\n".join(out)


def generate_lua(classes: list[ClassSpec], funcs: list[ModuleFunc]) -> str:
    """Lua source, run inside the bootstrap chunk (which provides the helpers ``F, CTX,
    REG, MT, S, I, TE, AC, WRAP, WRAPR, math_type, BIND``), that defines every module
    function into ``FS`` (the ``freeswitch`` table) and makes every class appear there
    on first use.

    A class is built in a state the first time anything asks for it: ``freeswitch.<Name>``,
    ``require "ESL"`` (classes with ``module``), or Python/Lua wrapping an object of it
    (``WRAP``/``REG``/``MT``).  Its chunk's bytecode, and the class's entries of ``F``,
    come from one call of ``F["@class"]``; the
    module functions are one more chunk (``"@funcs"``), built on the first use of any.  A state
    whose script only writes to ``stream`` loads one small class instead of all of them
    (issue 13: building every class was most of the cost of a fresh state).  ``pairs`` on
    ``freeswitch`` builds them all first, so iterating it shows what it always showed."""
    global _KNOWN
    _KNOWN = frozenset(c.name for c in classes)
    out: list[str] = []
    env = ", ".join(f"{n} = {n}" for n in CLASS_ENV)
    in_fs = ", ".join(f"[{_lua_str(c.name)}] = true" for c in classes if not c.module)
    mods: dict[str, list[str]] = {}
    for c in classes:
        if c.module:
            mods.setdefault(c.module, []).append(c.name)
    every = ", ".join(f"[{_lua_str(c.name)}] = true" for c in classes)
    fnames = [n for f in funcs for n in (f.method.name, *f.method.aliases)]
    func_set = ", ".join(f"[{_lua_str(n)}] = true" for n in fnames)
    out += [
        "do",
        "  local load, rawset, next, class_code = load, rawset, next, F['@class']",
        "  local table_pack = table.pack",
        "  -- one Python call per class: its bytecode, then its F entries (key, function...)",
        "  local function fetch(name)",
        "    local r = table_pack(class_code(name))",
        "    for i = 2, r.n, 2 do rawset(F, r[i], r[i + 1]) end",
        "    return r[1]",
        "  end",
        f"  local CLASS, IN_FS = {{{every}}}, {{{in_fs}}}",
        f"  local H = {{{env}}}",
        "  local MOD = {}",
        "  -- REG[name] is set by the chunk: it marks a built class",
        "  local function BUILD(name)",
        "    local M = load(fetch(name), '=fsd_bootstrap', 'b')(H)",
        "    if not IN_FS[name] then MOD[name] = M",
        "    elseif rawget(FS, name) == nil then rawset(FS, name, M) end",
        "    return M",
        "  end",
        f"  local FUNC, funcs_built = {{{func_set}}}, false",
        "  local function FUNCS()",
        "    funcs_built = true",
        "    load(fetch('@funcs'), '=fsd_bootstrap', 'b')(H)",
        "  end",
        "  local function lazy(t, k)",
        "    if CLASS[k] and rawget(REG, k) == nil then BUILD(k) end",
        "    return rawget(t, k)",
        "  end",
        "  setmetatable(REG, {__index = lazy})",
        "  setmetatable(WRAP, {__index = lazy})",
        "  setmetatable(MT, {__index = lazy})",
        "  setmetatable(FS, {",
        "    __index = function(t, k)",
        "      if IN_FS[k] then if rawget(REG, k) == nil then return BUILD(k) end",
        "      elseif FUNC[k] and not funcs_built then FUNCS() return rawget(t, k) end",
        "    end,",
        "    __pairs = function(t)",
        "      if not funcs_built then FUNCS() end",
        "      for k in next, IN_FS do if rawget(REG, k) == nil then BUILD(k) end end",
        "      return next, t, nil",
        "    end,",
        "  })",
    ]
    for mod, names in mods.items():
        body = " ".join(f"if rawget(REG, {_lua_str(n)}) == nil then BUILD({_lua_str(n)}) end "
                        f"T[{_lua_str(n)}] = MOD[{_lua_str(n)}]"
                        for n in names)
        out.append(f"  package.preload[{_lua_str(mod)}] = function() local T = {{}} {body} "
                   f"_G[{_lua_str(mod)}] = T return T end")
    # classes the run is known to need, built now (a spare state, made ahead of time)
    out.append("  for name in (OPT.prebuild or ''):gmatch('[^,]+') do local _ = REG[name] end")
    out.append("end")
    return "\n".join(out)


def python_table(classes: list[ClassSpec], funcs: list[ModuleFunc]) -> dict[str, Callable[..., Any]]:
    """The ``F`` table: key -> Python callable, as the generated Lua refers to them."""
    import functools

    table: dict[str, Callable[..., Any]] = {"@bind": functools.partial}
    for cls in classes:
        if cls.ctor is not None and cls.ctor.func is not None and cls.lua_ctor is None:
            table[f"{cls.name}.@new"] = cls.ctor.func
        for m in cls.methods:
            if m.func is not None:
                table[f"{cls.name}.{m.name}"] = m.func
        if cls.getters:
            getters = cls.getters

            def get(o: Any, k: str, _g: dict = getters) -> Any:
                fn = _g.get(k)
                return fn(o) if fn is not None else None

            table[f"{cls.name}.@get"] = get
        if cls.gc is not None:
            table[f"{cls.name}.@gc"] = cls.gc
        table.update(cls.extra_funcs)
    for f in funcs:
        if f.method.func is not None:
            table[f"fs.{f.method.name}"] = f.method.func
    return table
