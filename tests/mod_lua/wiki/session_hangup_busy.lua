-- Wiki "You can hang up a session and provide an optional Hangup Cause".  Adjustments:
-- none (the second form, session:hangup(), runs on the already hung-up channel).
 session:hangup("USER_BUSY");
 session:hangup(); -- default normal_clearing
