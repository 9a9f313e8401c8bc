"""The reintegration loop in a real browser, as its people do it, through the screens only.

A case worker registers a returnee on the reception form, records the consents and refers the case to a
partner; the partner logs in, accepts and completes the referral with an outcome; a supervisor approves
the plan; the case worker records a follow-up and sees the score, which is checked against a computation
of its own from the shipped instrument and weight table.

Needs the node of scripts/test at PUENTE_URL with the accounts and partner it creates
(PUENTE_TEST_STAFF_PASSWORD). Writes how long each screen took to load to PUENTE_SCREENSHOTS.
"""

import json
import os
import pathlib
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ.get("PUENTE_URL", "http://127.0.0.1:8097")
SHOTS = pathlib.Path(os.environ.get("PUENTE_SCREENSHOTS", "screenshots"))
PASSWORD = os.environ.get("PUENTE_TEST_STAFF_PASSWORD")
ROOT = pathlib.Path(__file__).resolve().parents[2]
INSTRUMENT = ROOT / "Sources/PuenteReintegration/Instruments/rss-puente-v1.json"
WEIGHTS = ROOT / "Sources/PuenteReintegration/Instruments/weights-equal-unofficial.json"
PARTNER = "SV-INSAFORP"

pytestmark = pytest.mark.skipif(not PASSWORD, reason="PUENTE_TEST_STAFF_PASSWORD is not set (scripts/test sets it)")


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


LOAD_TIMES = {}


def opened(driver):
    """Waits for the page; the browser logged no error loading it."""
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def measure(driver, name, path, times=5):
    """Loads a screen a few times and keeps the browser's own timing of each: first byte, DOM ready, bytes."""
    for _ in range(times):
        driver.get(BASE + path)
        opened(driver)
        LOAD_TIMES.setdefault(name, []).append(driver.execute_script(
            "const t = performance.getEntriesByType('navigation')[0];"
            "return [t.responseStart - t.requestStart, t.domContentLoadedEventEnd - t.startTime, t.transferSize];"))


def mark_page(driver):
    """Marks the current document, so a wait can tell when the browser has moved to another one."""
    driver.execute_script("window.puenteOldPage = true;")


def wait_for_next_page(driver):
    """Waits until the marked document is gone and the next one has loaded. (Chromium answers a check on a
    node of a document being replaced with its own inspector error, which staleness_of does not expect.)"""
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script("return !window.puenteOldPage && document.readyState === 'complete'"))


def log_in(driver, user, path):
    driver.delete_all_cookies()
    driver.get(BASE + path)
    WebDriverWait(driver, 10).until(EC.presence_of_element_located((By.ID, "login")))
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    mark_page(driver)
    driver.find_element(By.CSS_SELECTOR, "#login button").click()
    wait_for_next_page(driver)
    assert driver.current_url.split("?")[0].endswith(path), driver.current_url


def reveal(driver, form_id):
    """A form of the page, with the <details> it sits in opened as a person would."""
    form = driver.find_element(By.ID, form_id)
    driver.execute_script(
        "for (let d = arguments[0].closest('details'); d; d = d.parentElement.closest('details')) d.open = true;", form)
    return form


def submit(driver, form_id):
    """Submits a form and waits for the page it leads to, which must say it was done."""
    mark_page(driver)
    reveal(driver, form_id).find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_next_page(driver)
    notice = driver.find_element(By.ID, "notice")
    assert "done" in notice.get_attribute("class"), notice.text
    return notice.text


def rows(driver, table_id):
    return [[c.get_attribute("textContent").strip() for c in r.find_elements(By.CSS_SELECTOR, "th, td")]
            for r in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")]


def expected_score(answers):
    """The composite score computed here from the shipped files: an indicator is the mean position of its
    answered questions (worst 0, best 1), the composite their weighted mean."""
    instrument = json.loads(INSTRUMENT.read_text(encoding="utf-8"))
    weights = json.loads(WEIGHTS.read_text(encoding="utf-8"))["composite_weights"]
    per_indicator = {}
    for q in instrument["questions"]:
        if q["id"] in answers:
            position = q["answers"].index(answers[q["id"]]) / (len(q["answers"]) - 1)
            per_indicator.setdefault(q["indicator"], []).append(position)
    values = {i: sum(v) / len(v) for i, v in per_indicator.items()}
    total = sum(weights[i] for i in values)
    return sum(weights[i] * v for i, v in values.items()) / total


def test_the_whole_loop_through_the_screens(browser):
    key = f"CAIM-{int(time.time() * 1000)}"
    given, surname = "Rosa Elena", "Martínez"
    document = "04812345-6"

    # 1. The case worker registers the returnee at reception; the case opens and is hers.
    log_in(browser, "carla", "/reception")
    opened(browser)
    form = browser.find_element(By.ID, "reception")
    form.find_element(By.NAME, "recordKey").send_keys(key)
    # An arrival in the node's data year: a return of this year would make it the dashboard's latest.
    browser.execute_script("arguments[0].value = '2016-12-20'", form.find_element(By.NAME, "eventDate"))
    form.find_element(By.NAME, "givenNames").send_keys(given)
    form.find_element(By.NAME, "firstSurname").send_keys(surname)
    Select(form.find_element(By.NAME, "sex")).select_by_value("F")
    browser.execute_script("arguments[0].value = '1991-07-15'", form.find_element(By.NAME, "birthDate"))
    Select(form.find_element(By.NAME, "municipality")).select_by_value("SV-0614")
    Select(form.find_element(By.NAME, "returnType")).select_by_value("DEPORTATION")
    Select(form.find_element(By.NAME, "documentType")).select_by_value("NATIONAL_ID")
    form.find_element(By.NAME, "documentNumber").send_keys(document)
    form.find_element(By.NAME, "phone").send_keys("7000-1234")
    mark_page(browser)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_next_page(browser)
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "case-facts")))
    opened(browser)
    case_url = browser.current_url.split("?")[0]
    assert "/cases/" in case_url
    assert given in browser.find_element(By.TAG_NAME, "h1").text
    facts = dict(zip([e.text for e in browser.find_elements(By.CSS_SELECTOR, "#case-facts dt")],
                     [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#case-facts dd")]))
    assert facts["Estado"] == "Registrado" and facts["Asignado a"] == "carla"
    assert facts["Municipio"] == "San Salvador"
    # The same register number again is refused on the form, which keeps what was typed.
    browser.get(BASE + "/reception")
    browser.find_element(By.NAME, "recordKey").send_keys(key)
    browser.find_element(By.NAME, "givenNames").send_keys(given)
    browser.find_element(By.NAME, "firstSurname").send_keys(surname)
    mark_page(browser)
    browser.find_element(By.CSS_SELECTOR, "#reception button[type=submit]").click()
    wait_for_next_page(browser)
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#notice.error")))
    assert browser.find_element(By.NAME, "givenNames").get_attribute("value") == given
    browser.get_log("browser")  # the refusal's 409, expected
    browser.get(case_url)

    # 2. Consents: to case management, and to referral naming the partner.
    Select(reveal(browser, "consent-form").find_element(By.NAME, "purpose")).select_by_value("reintegration")
    submit(browser, "consent-form")
    form = reveal(browser, "consent-form")
    Select(form.find_element(By.NAME, "purpose")).select_by_value("referral")
    form.find_element(By.CSS_SELECTOR, f"input[name=recipient][value='{PARTNER}']").click()
    submit(browser, "consent-form")
    assert len(rows(browser, "consent-table")) == 2

    # 3. Screening, then a referral to the partner for vocational training, showing it names and phone only.
    browser.find_element(By.CSS_SELECTOR, "#to-screened input[value=health]").click()
    submit(browser, "to-screened")
    form = reveal(browser, "refer-form")
    Select(form.find_element(By.NAME, "partner")).select_by_value(PARTNER)
    Select(form.find_element(By.NAME, "service")).select_by_value("vocational_training")
    submit(browser, "refer-form")
    referrals = rows(browser, "referral-table")
    assert len(referrals) == 1 and referrals[0][3] == "Solicitada"
    referral_id = referrals[0][0].lstrip("#")
    # Assessment and a drafted plan, which she cannot approve herself.
    browser.find_element(By.CSS_SELECTOR, "#to-assessed textarea[name=skills]").send_keys("Carpintería, 6 años")
    browser.find_element(By.CSS_SELECTOR, "#to-assessed textarea[name=intentions]").send_keys("Quedarse; taller propio")
    submit(browser, "to-assessed")
    browser.find_element(By.CSS_SELECTOR, "#to-plan_drafted textarea[name=plan]").send_keys(
        "Curso de carpintería y capital semilla para un taller.")
    submit(browser, "to-plan_drafted")
    assert browser.find_elements(By.ID, "awaits-approval") and not browser.find_elements(By.ID, "to-plan_approved")

    # 4. The partner sees the referral in its inbox, with the consented fields and nothing else.
    log_in(browser, "pablo", "/partner")
    opened(browser)
    inbox = rows(browser, "inbox")
    assert [r for r in inbox if r[0] == f"#{referral_id}"], inbox
    mark_page(browser)
    browser.find_element(By.LINK_TEXT, f"#{referral_id}").click()
    wait_for_next_page(browser)
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "referral-facts")))
    opened(browser)
    shown = {e.get_attribute("data-field"): e.text for e in browser.find_elements(By.CSS_SELECTOR, "#referral-facts dd[data-field]")}
    assert shown == {"given_names": given, "surnames": surname, "phone": "7000-1234"}, shown
    page = browser.page_source
    for outside in (document, "1991-07-15", "San Salvador", "Carpintería", "taller"):
        assert outside not in page, f"the partner's page shows {outside!r}, outside the referral's fields"
    submit(browser, "to-accepted")
    Select(reveal(browser, "to-completed").find_element(By.NAME, "reason")).select_by_value("delivered")
    submit(browser, "to-completed")
    # Closed: the person's details are no longer shown to the partner.
    assert not browser.find_elements(By.CSS_SELECTOR, "#referral-facts dd[data-field]")
    assert given not in browser.page_source

    measure(browser, "partner inbox", "/partner")
    measure(browser, "partner referral", f"/partner/{referral_id}")

    # 5. A supervisor approves the plan (four eyes) and assistance starts.
    log_in(browser, "sara", case_url.replace(BASE, ""))
    submit(browser, "to-plan_approved")
    submit(browser, "to-in_assistance")

    # 6. The case worker sees the outcome, records the returnee's feedback and a follow-up, and sees the score.
    log_in(browser, "carla", "/cases")
    opened(browser)
    assert any(r[0] == "#" + case_url.rsplit("/", 1)[1] for r in rows(browser, "open-cases"))
    browser.get(case_url)
    opened(browser)
    referrals = rows(browser, "referral-table")
    assert referrals[0][3] == "Completada — Servicio prestado", referrals
    Select(browser.find_element(By.CSS_SELECTOR, f"#feedback-{referral_id} select[name=usefulness]")).select_by_value("4")
    submit(browser, f"feedback-{referral_id}")
    assert rows(browser, "referral-table")[0][5] == "recibió el servicio, 4/5"
    survey = reveal(browser, "survey-form")
    assert Select(survey.find_element(By.NAME, "occasion")).first_selected_option.get_attribute("value") == "follow_up"
    answers = {}
    selects = survey.find_elements(By.CSS_SELECTOR, "select[name^=q_]")
    assert len(selects) == 24
    for n, element in enumerate(selects):
        options = [o.get_attribute("value") for o in element.find_elements(By.TAG_NAME, "option") if o.get_attribute("value")]
        if n % 7 == 6:
            continue  # some questions left unanswered, as in a real call
        choice = options[(n * 3) % len(options)]
        Select(element).select_by_value(choice)
        answers[element.get_attribute("name")[2:]] = choice
    submit(browser, "survey-form")
    shown = browser.find_element(By.CSS_SELECTOR, "#latest-score b").text
    assert abs(float(shown) - expected_score(answers)) < 0.005, (shown, expected_score(answers))
    assert browser.find_element(By.ID, "weakest").text
    surveys = rows(browser, "survey-table")
    assert len(surveys) == 1 and surveys[0][1] == "Seguimiento"
    kinds = [r[2] for r in rows(browser, "timeline")]
    for kind in ("Caso abierto", "Remisión solicitada", "Remisión", "Opinión de la persona", "Encuesta"):
        assert kind in kinds, (kind, kinds)

    # The same case in English, and on a phone.
    browser.get(case_url + "?lang=en")
    opened(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Case #")
    assert "Completed" in rows(browser, "referral-table")[0][3]
    browser.set_window_size(390, 844)
    try:
        for path in ("/cases", case_url.replace(BASE, ""), "/reception", "/followups"):
            browser.get(BASE + path)
            opened(browser)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than a phone"
        SHOTS.mkdir(parents=True, exist_ok=True)
        browser.get(case_url)
        browser.save_screenshot(str(SHOTS / "case-phone.png"))
    finally:
        browser.set_window_size(1100, 900)
    browser.get(case_url)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1100, min(max(height, 900), 6000))
    browser.save_screenshot(str(SHOTS / "case-es.png"))
    browser.set_window_size(1100, 900)

    # How long the screens take, for the record.
    case_path = case_url.replace(BASE, "")
    for name, path in (("my cases", "/cases"), ("case", case_path), ("case (en)", case_path + "?lang=en"),
                       ("reception form", "/reception"), ("follow-ups due", "/followups")):
        measure(browser, name, path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    lines = ["screen | loads | first byte ms (median) | DOM ready ms (median) | bytes"]
    for name, timings in sorted(LOAD_TIMES.items()):
        first = sorted(t[0] for t in timings)[len(timings) // 2]
        ready = sorted(t[1] for t in timings)[len(timings) // 2]
        lines.append(f"{name} | {len(timings)} | {first:.1f} | {ready:.1f} | {int(max(t[2] for t in timings))}")
    (SHOTS / "screen-load-times.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
