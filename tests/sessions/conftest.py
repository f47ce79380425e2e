"""A running switch with the call-model modules and a test dialplan context."""

from __future__ import annotations

import pytest

from fsd.testing import EventLog, running_switch

CALL_MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml"]

DIALPLAN = r"""<include>
<context name="t">
  <extension name="capture">
    <condition field="destination_number" expression="^cap(\d+)-(\d+)$">
      <action application="set" data="first=$1"/>
      <action application="set" data="second=$2"/>
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="anti">
    <condition field="destination_number" expression="^anti$"/>
    <condition field="${never_set}" expression="^yes$">
      <action application="set" data="branch=action"/>
      <anti-action application="set" data="branch=anti"/>
      <anti-action application="answer"/>
      <anti-action application="park"/>
    </condition>
  </extension>
  <extension name="xfer">
    <condition field="destination_number" expression="^xfer$">
      <action application="set" data="before_transfer=1"/>
      <action application="transfer" data="cap7-8 XML t"/>
      <action application="set" data="never_reached=1"/>
    </condition>
  </extension>
  <extension name="time_never">
    <condition field="destination_number" expression="^timed$"/>
    <condition year="1999">
      <action application="set" data="tod=1999"/>
      <anti-action application="set" data="tod=not1999"/>
      <anti-action application="answer"/>
      <anti-action application="park"/>
    </condition>
  </extension>
  <extension name="badapp">
    <condition field="destination_number" expression="^badapp$">
      <action application="answer"/>
      <action application="no_such_application" data="x"/>
    </condition>
  </extension>
  <extension name="hook">
    <condition field="destination_number" expression="^hook$">
      <action application="set" data="my_custom_var=custom42"/>
      <action application="set" data="api_hangup_hook=global_setvar hook_saw=\${my_custom_var}/\${hangup_cause}"/>
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="busy">
    <condition field="destination_number" expression="^busy$">
      <action application="hangup" data="USER_BUSY"/>
    </condition>
  </extension>
  <extension name="ring_forever">
    <condition field="destination_number" expression="^ring$">
      <action application="ring_ready"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="end">
    <condition field="destination_number" expression="^end$">
      <action application="answer"/>
      <action application="set" data="done=1"/>
    </condition>
  </extension>
  <extension name="bridge_null">
    <condition field="destination_number" expression="^bridgenull$">
      <action application="set" data="hangup_after_bridge=true"/>
      <action application="bridge" data="null/inner"/>
    </condition>
  </extension>
  <extension name="bridge_fail">
    <condition field="destination_number" expression="^bridgefail$">
      <action application="set" data="continue_on_fail=true"/>
      <action application="bridge" data="error/user_busy"/>
      <action application="set" data="after_fail=${originate_disposition}"/>
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="badregex">
    <condition field="destination_number" expression="^(unclosed$">
      <action application="set" data="bad=1"/>
    </condition>
  </extension>
</context>
</include>
"""


@pytest.fixture
def sw(tmp_path):
    with running_switch(tmp_path, CALL_MODULES,
                        extra_files={"conf/dialplan/t.xml": DIALPLAN}) as switch:
        yield switch


@pytest.fixture
def events(sw):
    return EventLog(sw)
