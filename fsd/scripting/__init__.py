"""The language-neutral script API (behaviour reference §3–§12), written once in Python.

Every script language (mod_lua, mod_python, a third-party one registered with
``module.add_language``) is an *adapter* over these objects: it converts arguments, raises
errors in its own language and keeps its own conventions (1-based, names of callbacks…);
the semantics — what ``session.streamFile`` does when the channel hangs up, when a hangup
hook runs, which events a script may fire, how a kill reaches a blocked call — live here.

* :mod:`.context`   one run: kill flag, resources closed at its end, the registry of runs
* :mod:`.host`      what a script reaches of the switch (API, globals, event bus, dirs)
* :mod:`.media`     the blocking media calls with their input callbacks
* :mod:`.session`   ``Session`` (hangup hook and input callback rules included)
* :mod:`.event`, :mod:`.consumer`, :mod:`.api`, :mod:`.dbh`, :mod:`.menu` (engine
  :mod:`.ivrmenu`), :mod:`.dtmf`, :mod:`.funcs`, :mod:`.calls`   the other objects
  (Stream is :class:`fsd.api.Stream`; JSON stays with Lua, Python has its ``json``)
* :mod:`.languages` how the core routes to registered languages

Threading rule (one place): a script runs in one thread (the call's session thread, or a
thread of its own for background runs); its objects are used only from it.  Other threads
touch a run only through :meth:`.context.ScriptContext.kill` and the session's listeners,
which set flags that the script's thread acts on at its next blocking call.
"""
