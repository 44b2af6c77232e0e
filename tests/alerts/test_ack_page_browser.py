"""The acknowledgement page as a family member sees it: a real headless Chromium
(Debian's chromium and chromium-driver, driven by selenium) at 390×844, a real alerts
service over a real broker; the tap included. With CIVIC_SAVE_SCREENSHOTS=1 the
screenshots are written to docs/images/, which the README shows."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from alerts.config import load as load_alerts_config
from alerts.routing import Signer
from civic_iot.catchers import SmtpCatcher
from civic_iot.demo_alerts import write_local_config
from civic_iot.services import Mosquitto
from common.mqttlink import MqttConfig
from tests.alerts.live import press_call_button, start_service
from tests.support.mqtt import publish, wait_for
from wire import Message, Reading, encode, now_ms, topics

pytestmark = pytest.mark.services
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
PHONE = (390, 844)


def chromium_driver(lang: str) -> webdriver.Chrome:
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     f"--window-size={PHONE[0]},{PHONE[1]}", f"--lang={lang}"):  # fmt: skip
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_window_size(*PHONE)
    return driver


def shows(driver: webdriver.Chrome, text: str) -> None:
    """Wait until the page (after a navigation) shows ``text``."""
    in_main = expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "main"), text)
    WebDriverWait(driver, 20).until(in_main, f"the page never showed {text!r}")


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = chromium_driver("ja")
    yield driver
    driver.quit()


def test_a_family_member_opens_the_link_taps_and_sees_it_is_theirs(
    tmp_path: Path, mosquitto: Mosquitto, browser: webdriver.Chrome
) -> None:
    smtp = SmtpCatcher()
    config = write_local_config(tmp_path, "alerts-1", MqttConfig(host=mosquitto.host,
                                port=mosquitto.port), email={"url": smtp.url()}, tick_s=0.3)  # fmt: skip
    service = start_service(tmp_path, mosquitto, config)
    try:
        press_call_button(mosquitto)
        mail = wait_for(lambda: smtp.to("hanako@example.jp"), what="the family's mail")[0]
        link = re.search(r"http://\S+/ack/\d+\?\S+", mail.body)
        assert link, mail.body
        browser.get(link[0])
        assert browser.title.startswith("緊急ボタンが押されました")
        text = browser.find_element(By.TAG_NAME, "main").text
        assert "見守り宅 A001" in text and "まだ誰も対応していません" in text
        assert "発生:" in text and "対応:" in text
        tel = browser.find_element(By.CSS_SELECTOR, 'a[href="tel:119"]')
        assert tel.is_displayed()
        button = browser.find_element(By.TAG_NAME, "button")
        assert button.text == "対応します"
        # Large enough for a thumb and within the phone's width: no sideways scrolling.
        assert button.size["height"] >= 48 and button.size["width"] >= 300
        assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
        images = DOCS_IMAGES if os.environ.get("CIVIC_SAVE_SCREENSHOTS") else tmp_path
        images.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(images / "ack-page-before.png"))
        button.click()
        shows(browser, "対応中")  # the answer page, once the form's POST has loaded it
        after = browser.find_element(By.TAG_NAME, "main").text
        assert re.search(r"対応中 — 網走 花子さんが \d\d:\d\d に対応しました", after), after
        assert "ケアマネジャー、市の担当者への連絡は止まりました" in after
        assert not browser.find_elements(By.TAG_NAME, "button")
        assert browser.save_screenshot(str(images / "ack-page-after.png"))
        browser.get(link[0])  # later: the call button's alert is over, nothing personal
        over = browser.find_element(By.TAG_NAME, "main").text
        assert "解消しました" in over and "網走" not in over
        assert not browser.find_elements(By.TAG_NAME, "button")
        browser.find_element(By.LINK_TEXT, "English").click()
        shows(browser, "This alert is over.")
    finally:
        assert service.terminate() == 0, service.log()
        smtp.close()


def test_an_english_speaking_browser_gets_english(tmp_path: Path, mosquitto: Mosquitto) -> None:
    smtp = SmtpCatcher()
    config = write_local_config(tmp_path, "alerts-1", MqttConfig(host=mosquitto.host,
                                port=mosquitto.port), email={"url": smtp.url()}, tick_s=0.3)  # fmt: skip
    service = start_service(tmp_path, mosquitto, config)
    driver = chromium_driver("en-US")
    try:
        press_call_button(mosquitto)
        mail = wait_for(lambda: smtp.to("hanako@example.jp"), what="the family's mail")[0]
        link = re.search(r"http://\S+/ack/\d+\?\S+", mail.body)
        assert link, mail.body
        driver.get(link[0])
        text = driver.find_element(By.TAG_NAME, "main").text
        assert "Nobody has taken it yet" in text and "What to do" in text
        assert driver.find_element(By.TAG_NAME, "button").text == "I am taking care of it"
    finally:
        driver.quit()
        assert service.terminate() == 0, service.log()
        smtp.close()


def test_a_family_page_shows_only_that_familys_home(
    tmp_path: Path, mosquitto: Mosquitto, browser: webdriver.Chrome
) -> None:
    smtp = SmtpCatcher()
    config = write_local_config(tmp_path, "alerts-1", MqttConfig(host=mosquitto.host,
                                port=mosquitto.port), email={"url": smtp.url()}, tick_s=0.3)  # fmt: skip
    service = start_service(tmp_path, mosquitto, config)
    try:
        now = now_ms()
        readings = [Reading("motion.detected", True, "1", sensor="kitchen"),
                    Reading("climate.temperature", 21.5, "Cel", sensor="living-room")]  # fmt: skip
        publish(mosquitto, topics.event("home-a001-hub"), encode(Message(1, 1, now, readings[:1])))
        publish(mosquitto, topics.telemetry("home-a001-hub"),
                encode(Message(1, 2, now, readings[1:])))  # fmt: skip
        settings = load_alerts_config(config)
        signer = Signer(Path(settings.secret_file), settings.base_url, settings.link_valid_days)
        link = signer.family_link("r-a001/family", now)

        def page_text() -> str:  # reloaded until the service has taken the readings
            browser.get(link)
            text: str = browser.find_element(By.TAG_NAME, "main").text
            return text if "居間 21.5℃" in text else ""

        page = wait_for(page_text, what="the readings on the family page")
        assert "見守り宅 A001" in page and "起床:" in page and "この7日間の通知" in page
        assert "A002" not in page and "能取" not in page  # never another resident
        assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
        images = DOCS_IMAGES if os.environ.get("CIVIC_SAVE_SCREENSHOTS") else tmp_path
        assert browser.save_screenshot(str(images / "family-page.png"))
        # Another contact's ID in the same link is refused; their own link shows theirs.
        forged = signer.family_link("r-a001/family", now).replace("r-a001", "r-a002")
        browser.get(forged)
        assert "このリンクは無効です" in browser.find_element(By.TAG_NAME, "main").text
        browser.get(signer.family_link("r-a002/family", now))
        shows(browser, "見守り宅 A002")
        assert "A001" not in browser.find_element(By.TAG_NAME, "main").text
    finally:
        assert service.terminate() == 0, service.log()
        smtp.close()
