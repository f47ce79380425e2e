-- Wiki "freeswitch.IVRMenu": the page's 16-argument constructor (it omits confirm_macro)
-- fails with FreeSWITCH's argument-count error; the bindAction and execute lines then run
-- on a 17-argument menu.  Adjustments: the page's placeholder names are left undefined
-- (nil), as in the page; pcall catches the constructor error.
local ok, err = pcall(function()
 local menu = freeswitch.IVRMenu(
    main,                 -- ?IVRMenu: the top level menu or nil if this is the top level one
    name,                 -- ?string:  the name of the menu
    greeting_sound,       -- ?string:  the menu prompt played the first time the menu is played
    short_greeting_sound, -- ?string:  the short version of the menu prompt played on subsequent loops
    invalid_sound,        -- ?string:  the sound to play when an invalid entry/no entry is made
    exit_sound,           -- ?string:  played when the menu is terminated
    transfer_sound,       -- ?string:  the sound to play on transfer
 
    confirm_key,          -- ?string:  the key used to confirm a digit entry
    tts_engine,           -- ?string:  the TTS engine to use for this menu
    tts_voice,            -- ?string:  the TTS voice to use for this menu
    confirm_attempts,     -- ?int:     number of times to prompt to confirm input before failure
    inter_timeout,        -- ?int:     inter-digit timeout     
    digit_len,            -- ?int:     max number of digits
    timeout,              -- ?int:     number of milliseconds to pause before looping
    max_failures,         -- ?int:     threshold of failures before hanging up
    max_timeouts)         -- ?int:     threshold of timeouts before hanging up
end)
freeswitch.setGlobalVariable("wiki_ivr_err", tostring(err))
menu = freeswitch.IVRMenu(nil, "lua_demo_ivr", "silence_stream://100", "silence_stream://50", "", "", "", "", "", "", "", 1, 300, 1, 800, 1, 1)
 menu:bindAction("menu-exit", nil, "*")
 menu:bindAction("menu-back", nil, "5")
 menu:bindAction("menu-exec-app", "transfer xfer-target XML c", "7")
session:answer()
freeswitch.setGlobalVariable("wiki_ivr_ready", "1")
 menu:execute(session, "lua_demo_ivr")
