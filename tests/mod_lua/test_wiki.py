"""Every example of lua-api-wiki.txt that needs no session, run as written (paths and
addresses adjusted only)."""

import time

from fsd.api import Stream
from fsd.events import Event


def test_custom_event_with_body(lua, bus):
    sub = bus.subscribe(name="wiki")
    sub.bind("CUSTOM", "dial::dial-result")
    out = lua("""
 dial_record_id, Disposition, Campaign, dial_num = 1234, "AA", 20, 7777777
 custom_msg =    "dial_record_id: " .. dial_record_id .. "\\n" ..
         "call_disposition: " .. Disposition .. "\\n" ..
         "campaign_number: "  .. Campaign .. "\\n" ..
         "called_number: "    .. dial_num .."\\n"  ;
         local e = freeswitch.Event("custom", "dial::dial-result");
         e:addBody(custom_msg);
         e:fire();
 stream:write("done")""")
    assert out == "done"
    ev = sub.get(timeout=2)
    assert ev is not None and ev.body.startswith("dial_record_id: 1234\ncall_disposition: AA")
    assert ev.headers[0] == ["Event-Subclass", "dial::dial-result"]
    sub.close()


def test_message_waiting(lua, bus):
    sub = bus.subscribe(name="wiki")
    sub.bind("MESSAGE_WAITING")
    lua("""
 local event = freeswitch.Event("message_waiting");
 event:addHeader("MWI-Messages-Waiting", "no");
 event:addHeader("MWI-Message-Account", "sip:1000@10.0.1.100");
 event:addHeader("Sofia-Profile", "internal");
 event:fire();""")
    ev = sub.get(timeout=2)
    assert ev.get_header("MWI-Message-Account") == "sip:1000@10.0.1.100"
    sub.close()


def test_params_dump_and_console_log(entry, logs):
    # params:getHeader / serialize as in dialplan.lua or an XML handler
    params = Event("REQUEST_PARAMS")
    params.add_header("variable_sip_req_uri", "1000@example.com")
    r = entry.run_string("""~
 local uri = params:getHeader("variable_sip_req_uri")
 io.write(params:serialize());
 io.write(params:serialize("text"));
 io.write(params:serialize("json"));
 freeswitch.consoleLog("info",params:serialize())
 freeswitch.consoleLog("info", "uri " .. uri)""", objects={"params": ("Event", params)})
    assert r.ok
    assert any(x.text == "uri 1000@example.com" for x in logs)


def test_api_objects(lua, apis):
    apis.funcs["version"] = lambda a, s, st: st.write("FreeSWITCH Version 1.10.12")
    apis.funcs["sofia"] = lambda a, s, st: st.write(f"sofia {a}")
    out = lua("""
 api = freeswitch.API();
 -- get current time in milliseconds
 time = api:getTime()
 reply = api:executeString("version");
 sofia = api:executeString("sofia status");
 stream:write(reply .. "|" .. sofia .. "|" .. type(time))""")
    assert out == "FreeSWITCH Version 1.10.12|sofia status|string"


def test_console_functions(lua, logs):
    lua("""
 freeswitch.consoleCleanLog("This Rocks!!!\\n");
 freeswitch.consoleLog("info",   "lua rocks\\n");
 freeswitch.consoleLog("notice", "lua rocks\\n");
 freeswitch.consoleLog("err",    "lua rocks\\n");
 freeswitch.consoleLog("debug",  "lua rocks\\n");
 freeswitch.consoleLog("warning","lua rocks\\n");""")
    assert sorted(r.level for r in logs if r.text == "lua rocks\n") == [3, 4, 5, 6, 7]


def test_event_consumer_examples(lua):
    out = lua("""
 con = freeswitch.EventConsumer("CUSTOM");
 con:pop()
 con:pop(1,500)
 con = freeswitch.EventConsumer();
 con:bind("RELOADXML");
 con:bind("SHUTDOWN");
 con:bind("CUSTOM", "multicast::event");
 con:pop()
 con:pop(1,50)
 con = freeswitch.EventConsumer("CUSTOM","conference::maintenance");
 function poll()
   local event = freeswitch.Event("CUSTOM", "ping::running?")
   local con = freeswitch.EventConsumer("CUSTOM", "ping::running!")
   event:addHeader("hi", "there")
   event:fire()
   if con:pop(1, 500) then
     print("reply received")
     return true
   end
   print("no reply")
   return false
 end
 stream:write(tostring(poll()))""")
    assert out == "false"


def test_firing_custom_event_and_fsman(lua, bus):
    sub = bus.subscribe(name="wiki")
    sub.bind("CUSTOM", "my::event")
    sub.bind("MESSAGE")
    out = lua("""
 local event = freeswitch.Event("custom", "my::event");
 event:addHeader("My-Header", "test");
 event:fire();
 Utils = {}
 function Utils:trim(s) if s == nil then return false end return (s:gsub("^%s*(.-)%s*$", "%1")) end
 FSMan = {}
 function FSMan:fire(nameHeader, header, body)
   local myEvent = freeswitch.Event("MESSAGE");
   nameHeader = Utils:trim(nameHeader);
   header = Utils:trim(header);
   body = Utils:trim(body);
   if (nameHeader == false ) then nameHeader="Generic_Name_Header" end
   if (header == false) then header="Header_Generic" end
   if (body == false) then body="Body_Generic" end
   myEvent:addHeader(nameHeader, header);
   myEvent:addBody(body);
   myEvent:fire();
 end
 FSMan:fire(" X-Name ", nil, " text ")
 stream:write("ok")""")
    assert out == "ok"
    got = [sub.get(timeout=2), sub.get(timeout=2)]
    msg = [e for e in got if e.name == "MESSAGE"][0]
    assert msg.get_header("X-Name") == "Header_Generic" and msg.body == "text"
    sub.close()


def test_global_variable_and_msleep(lua, host):
    host.globals.set("varname", "v1")
    t0 = time.monotonic()
    out = lua("""
 my_globalvar = freeswitch.getGlobalVariable("varname")
 freeswitch.msleep(500);
 stream:write(my_globalvar)""")
    assert out == "v1" and time.monotonic() - t0 >= 0.49


def test_hello_api_script(entry, tmp_path, apis):
    (tmp_path / "hello.lua").write_text('stream:write("hello world")')
    assert apis.execute("lua", "hello.lua") == "hello world"


def test_web_page_script(entry, tmp_path, apis):
    apis.funcs["version"] = lambda a, s, st: st.write("1.10")
    (tmp_path / "api.lua").write_text("""
stream:write("Content-Type: text/html\\n\\n");
stream:write("<title>FreeSWITCH Command Portal</title>");
stream:write("<h2>FreeSWITCH Command Portal</h2>");
stream:write("<form method=post><input name=command size=40> ");
stream:write("<input type=submit value=\\"Execute\\">");
stream:write("</form><hr noshade size=1><br>");
command = env:getHeader("command");
if (command) then
  api = freeswitch.API();
  reply = api:executeString(command);
  if (reply) then
    stream:write("<br><B>Command Result</b><br><pre>" .. reply .. "</pre>\\n");
  end
end
env:addHeader("cool", "true");
stream:write(env:serialize() .. "\\n\\n");
""")
    env = Event("API")
    env.add_header("command", "version")
    s = Stream(env)
    entry.api_lua("api.lua", None, s)
    out = s.get_data()
    assert out.startswith("Content-Type: text/html\n\n")
    assert "<pre>1.10</pre>" in out and "cool: true\n" in out


def test_hangup_hook_style_env(entry, tmp_path, logs):
    # hook-test.lua, with an env like the hangup hook's (a channel-data event)
    (tmp_path / "hook-test.lua").write_text("""
dat = env:serialize()
freeswitch.consoleLog("INFO","Here's everything:\\n" .. dat .. "\\n")
dat = env:getHeader("uuid")
freeswitch.consoleLog("INFO","Inside hangup hook, uuid is: " .. dat .. "\\n")
dat = env:getHeader("my_custom_var")
freeswitch.consoleLog("INFO","my_custom_var is '" .. dat .. "'\\n")
""")
    env = Event("CHANNEL_DATA", standard_headers=False)
    env.add_header("uuid", "abc-123")
    env.add_header("my_custom_var", "foobar")
    s = Stream(env)
    entry.api_lua("hook-test.lua", None, s)
    assert s.get_data() == ""
    assert any(r.text == "my_custom_var is 'foobar'\n" for r in logs)
