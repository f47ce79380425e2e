-- Wiki "getGlobalVariable" and "msleep".  Adjustments: none.
 my_globalvar = freeswitch.getGlobalVariable("varname")
 -- Sleep for 500 milliseconds
 freeswitch.msleep(500);
freeswitch.setGlobalVariable("wiki_gv", tostring(my_globalvar))
