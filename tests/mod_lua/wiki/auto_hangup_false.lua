-- Wiki "setAutoHangup(false)".  Adjustments: none.
 session:setAutoHangup(false)
