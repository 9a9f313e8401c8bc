"""The dashboard in a real browser: Debian's chromium driven by selenium.

Needs a running `puente serve` at PUENTE_URL (scripts/test starts one on generated El Salvador data).
Saves a screenshot of each page to PUENTE_SCREENSHOTS for review.
"""

import csv
import io
import json
import os
import pathlib
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ.get("PUENTE_URL", "http://127.0.0.1:8097")
SHOTS = pathlib.Path(os.environ.get("PUENTE_SCREENSHOTS", "screenshots"))
# The pages a node publishing its statistics shows to anyone; /imports needs a login (tested below).
PAGES = {"overview": "/", "returns": "/returns", "movements": "/movements", "quality": "/quality"}


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,900"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def api(path):
    with urllib.request.urlopen(BASE + path, timeout=30) as response:
        return json.loads(response.read())


def number(text):
    """`12 345` (narrow no-break space), `12,345` or `x` → a float, or None when suppressed."""
    text = text.strip()
    if text in ("x", "—"):
        return None
    return float(text.replace("\u202f", "").replace(",", "").replace("−", "-"))


def table_rows(driver, table_id):
    """Rows of a data table (they sit in a closed <details>, so read textContent, not visible text)."""
    rows = {}
    for row in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr"):
        cells = [c.get_attribute("textContent") for c in row.find_elements(By.CSS_SELECTOR, "th, td")]
        rows[cells[0]] = cells[1:]
    return rows


def screenshot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The whole page: grow the window to the document's height first.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1100, min(max(height, 900), 6000))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1100, 900)


def test_each_page_opens_without_errors_and_is_saved(browser):
    for name, path in PAGES.items():
        for lang in ("es", "en"):
            browser.get(BASE + path + ("?lang=en" if lang == "en" else ""))
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
            assert browser.find_element(By.TAG_NAME, "h1").text
            # Every chart has a text alternative the browser exposes.
            for svg in browser.find_elements(By.CSS_SELECTOR, "figure svg[role=img]"):
                labelled = svg.get_attribute("aria-labelledby").split()
                assert all(browser.find_element(By.ID, i).get_attribute("textContent") for i in labelled)
            errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, errors
            screenshot(browser, f"{name}-{lang}")


def test_pages_fit_a_phone(browser):
    browser.set_window_size(390, 844)
    try:
        for name, path in PAGES.items():
            browser.get(BASE + path)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than a phone"
        browser.get(BASE + "/returns")
        browser.save_screenshot(str(SHOTS / "returns-phone.png"))
    finally:
        browser.set_window_size(1100, 900)


def test_headline_equals_the_api(browser):
    browser.get(BASE + "/")
    period = Select(browser.find_element(By.NAME, "period")).first_selected_option.get_attribute("value")
    table = api(f"/api/v1/stats?measure=returns&filter=year:{period}")
    shown = browser.find_element(By.CSS_SELECTOR, "#total-returns b").text
    assert number(shown) == table["total"]["value"]


def test_a_filter_changes_every_chart_and_stays_in_the_url(browser):
    browser.get(BASE + "/returns")
    before = table_rows(browser, "returns-by-month-table")
    Select(browser.find_element(By.NAME, "sex")).select_by_value("F")   # the script applies it at once
    WebDriverWait(browser, 10).until(EC.url_contains("sex=F"))
    assert "sex=F" in browser.current_url
    after = table_rows(browser, "returns-by-month-table")
    assert after != before
    period = Select(browser.find_element(By.NAME, "period")).first_selected_option.get_attribute("value")
    expected = api(f"/api/v1/stats?measure=returns&by=month&filter=year:{period},sex:F")
    published = {c["key"][0]: c["value"] for c in expected["cells"] if c["key"][0] != "_U"}
    assert len(after) == len(published)
    shown = sorted(number(v[0]) for v in after.values())
    assert shown == sorted(published.values())
    # The pyramid now has women only.
    pyramid = table_rows(browser, "returns-pyramid-table")
    assert all(number(v[1]) in (0, None) for v in pyramid.values())
    assert any(number(v[0]) for v in pyramid.values())
    # Links keep the filter: the overview shows the same selection.
    browser.find_element(By.CSS_SELECTOR, "header nav a:first-child").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "total-returns")))
    assert "sex=F" in browser.current_url
    assert Select(browser.find_element(By.NAME, "sex")).first_selected_option.get_attribute("value") == "F"


def test_returned_persons_equal_the_api(browser):
    """The returns page counts linked persons as well as events (the test script links them)."""
    browser.get(BASE + "/returns")
    shown = table_rows(browser, "returned-persons-by-month-table")
    period = Select(browser.find_element(By.NAME, "period")).first_selected_option.get_attribute("value")
    expected = api(f"/api/v1/stats?measure=returned_persons&by=month&filter=year:{period}")
    published = {c["key"][0]: c["value"] for c in expected["cells"] if c["key"][0] != "_U"}
    assert len(shown) == len(published) == 12
    assert sorted(number(v[0]) for v in shown.values()) == sorted(published.values())
    # Persons are fewer than returns in a year, and some returns were of persons returned before.
    returns = api(f"/api/v1/stats?measure=returns&filter=year:{period}")["total"]["value"]
    persons = api(f"/api/v1/stats?measure=returned_persons&filter=year:{period}")["total"]["value"]
    assert 0 < persons < returns
    assert "%" in browser.find_element(By.ID, "repeat-returns").text


def test_download_a_chart_as_csv(browser, downloads):
    browser.get(BASE + "/returns?sex=M")
    shown = table_rows(browser, "returns-by-month-table")
    link = browser.find_element(By.CSS_SELECTOR, "#returns-by-month .dl a[href*='format=csv']")
    link.click()
    deadline = time.time() + 15
    files = []
    while time.time() < deadline:
        files = [f for f in downloads.iterdir() if not f.name.endswith(".crdownload")]
        if files:
            break
        time.sleep(0.2)
    assert files, "no file downloaded"
    rows = list(csv.DictReader(io.StringIO(files[0].read_text(encoding="utf-8"))))
    months = {r["month"]: r for r in rows if r["month"] not in ("_T", "_U")}
    assert len(months) == len(shown)
    assert sorted(float(r["value"]) for r in months.values() if r["value"]) == sorted(
        number(v[0]) for v in shown.values() if number(v[0]) is not None)
    # Protected exactly as the API: perturbed figures are flagged E.
    assert {r["obs_status"] for r in months.values()} <= {"E", "Q"}


def test_switch_language_and_map(browser):
    browser.get(BASE + "/returns")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Retornos"
    browser.find_element(By.ID, "lang").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Returns"
    assert len(table_rows(browser, "returns-map-table")) > 200
    browser.find_element(By.PARTIAL_LINK_TEXT, "44 municipalities").click()
    WebDriverWait(browser, 10).until(EC.url_contains("map=municipality_2024"))
    assert len(table_rows(browser, "returns-map-table")) == 44
    assert "lang=en" in browser.current_url
    screenshot(browser, "returns-map-2024-en")


def test_log_in_see_the_imports_and_log_out(browser):
    user, password = os.environ.get("PUENTE_TEST_USER"), os.environ.get("PUENTE_TEST_PASSWORD")
    if not user:
        pytest.skip("PUENTE_TEST_USER is not set (scripts/test creates the account)")
    browser.delete_all_cookies()
    browser.get(BASE + "/imports")   # not public: the login form, coming back here after
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "login")))
    assert "next=%2Fimports" in browser.current_url
    browser.find_element(By.NAME, "username").send_keys(user)
    browser.find_element(By.NAME, "password").send_keys("not the password")
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".error")))
    browser.find_element(By.NAME, "username").send_keys(user)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "imports-table")))
    assert browser.current_url.endswith("/imports")
    cookie = browser.get_cookie("puente_session")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert browser.find_element(By.CSS_SELECTOR, "#logout span").text == user
    rows = table_rows(browser, "imports-table")
    assert len(rows) >= 2
    screenshot(browser, "imports-signed-in")
    browser.find_element(By.CSS_SELECTOR, "#logout button").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "login")))   # the header's login link
    browser.get(BASE + "/imports")
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "form#login")))


# The regional hub: scripts/test serves the hub that received El Salvador's package with --hub.
HUB = os.environ.get("PUENTE_HUB_URL", "http://127.0.0.1:8098")


def test_hub_region_page_map_table_and_api_agree(browser):
    with urllib.request.urlopen(HUB + "/api/v1/regional/stats?measure=returns&by=reporting_country,year", timeout=30) as r:
        regional = json.loads(r.read())
    assert regional["countries"], "the hub received no figures"
    latest = max(c["key"][1] for c in regional["cells"])
    browser.get_log("browser")  # what earlier tests left in the log (a refused login) is theirs
    for lang, country_name in (("es", "El Salvador"), ("en", "El Salvador")):
        # The hub's home page is the region's.
        browser.get(HUB + "/" + ("?lang=en" if lang == "en" else ""))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
        shapes = browser.find_elements(By.CSS_SELECTOR, "#region-map svg path")
        assert len(shapes) >= 15, "the map of the region's countries"
        rows = table_rows(browser, "region-table")
        expected = next(c for c in regional["cells"] if c["key"] == ["SLV", latest])
        assert number(rows[country_name][0]) == expected["value"]
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        screenshot(browser, f"region-{lang}")
    # National pages are not a hub's: its navigation offers the region's pages only.
    links = [a.get_attribute("href").split("?")[0] for a in browser.find_elements(By.CSS_SELECTOR, "header nav a")]
    assert links and all(link.endswith("/region") or link.endswith("/region/mirror") for link in links)


def test_hub_mirror_page_shows_both_sides_as_the_api(browser):
    # scripts/test loaded a partner's (Mexico's) returns of Salvadorans at the hub.
    with urllib.request.urlopen(HUB + "/api/v1/regional/mirror?period=2016&flow=RETURN", timeout=30) as r:
        pairs = json.loads(r.read())
    pair = next(p for p in pairs if p["sender"]["country"] == "MEX" and p["receiver"]["country"] == "SLV")
    assert pair["sender"]["protection"] == "published" and pair["receiver"]["protection"] == "perturbed"
    for lang, mexico in (("es", "México"), ("en", "Mexico")):
        browser.get(HUB + "/region/mirror?period=2016" + ("&lang=en" if lang == "en" else ""))
        rows = table_rows(browser, "mirror-returns-table")
        assert mexico in rows, rows
        cells = rows[mexico]
        assert number(cells[1]) == pair["sender"]["figure"]
        assert cells[2].strip().endswith("(E)"), "a perturbed figure is marked"
        assert number(cells[2].replace("(E)", "")) == pair["receiver"]["figure"]
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        screenshot(browser, f"mirror-{lang}")
