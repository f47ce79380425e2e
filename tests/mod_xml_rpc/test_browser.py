"""The wiki's Command Portal in a real browser: headless Chromium (Debian's chromium and
chromium-driver, .ci/setup.d/http.sh) driven by Selenium, which is given the driver's path
so that nothing is downloaded."""

from __future__ import annotations

import shutil

import pytest

from fsd import __version__

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path, monkeypatch):
    webdriver = pytest.importorskip("selenium.webdriver")
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must never download
    from selenium.webdriver.chrome.service import Service

    if not shutil.which(CHROMIUM) or not shutil.which(DRIVER):
        pytest.fail("chromium and chromedriver are needed (.ci/setup.d/http.sh installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}",
                 "--window-size=1000,700"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_command_portal_in_chromium(browser, client, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    # credentials in the URL: the browser sends them, and keeps them for the form's POST
    url = f"http://freeswitch:works@{client.host}:{client.port}/api/lua?lua/api.lua"
    browser.get(url)
    assert browser.title == "FreeSWITCH Command Portal"
    assert browser.find_element(By.TAG_NAME, "h2").text == "FreeSWITCH Command Portal"
    box = browser.find_element(By.NAME, "command")
    box.send_keys("version")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    pre = WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.TAG_NAME, "pre")))
    text = pre.text
    assert text.startswith("FreeSWITCH Version"), text
    assert f"fsd {__version__}" in text
    shot = tmp_path / "command_portal.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 1000
    print(f"screenshot: {shot}")
