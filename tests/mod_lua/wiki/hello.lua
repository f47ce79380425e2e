-- Wiki "API commands": hello.lua.  Adjustments: none.
 stream:write("hello world")
