#!/usr/bin/env python3
"""The operator console's flows in a real headless Chromium, driven by Selenium.

Run by ConsoleBrowserTests.swift against a seeded `serve` (see ConsoleFixture.swift): artist 1
applied then renamed (a MODIFY, applied), artists 2 and 3 parked by a mapping error (artist 3 named
like a script), one quarantined message full of HTML and one an older parser quarantined although
its body reads now (--quarantined-id, carrying --correlation-id). Covers the mouse flows, a
keyboard-only one (Tab and Enter from the login page to a preview), and every screen at 1280 px
(no wrapped dates, no cut badge) and 390 px (stacked cards, nothing wider than the window, no box
scrolling sideways). Saves a PNG of every screen in --screenshots. Exits non-zero on the first flow
that fails, saying which.
"""
import argparse
import json
import os
import re
import sys

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

FORGED_POST = """
const done = arguments[arguments.length - 1];
fetch(arguments[0], {method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: arguments[1]})
  .then(r => done(r.status)).catch(e => done("error " + e));
"""


class Flows:
    def __init__(self, args):
        self.total_changes = 0
        self.url = args.url.rstrip("/")
        self.args = args
        self.folder = args.screenshots
        with open(args.stats) as handle:
            self.stats = json.load(handle)
        self.total_changes = sum(self.stats["changes"].values())
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,800", "--lang=en-GB"):
            options.add_argument(flag)
        service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_window_size(1280, 800)
        self.wait = WebDriverWait(self.driver, 30)

    # helpers

    def open(self, path):
        self.driver.get(self.url + path)

    def shot(self, name):
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        width = self.driver.get_window_size()["width"]
        self.driver.set_window_size(width, max(800 if width > 600 else 844, min(height + 140, 4000)))
        self.driver.save_screenshot(os.path.join(self.folder, name + ".png"))
        self.driver.set_window_size(width, 800 if width > 600 else 844)

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def button(self, label_start):
        for button in self.driver.find_elements(By.TAG_NAME, "button"):
            if button.text.startswith(label_start):
                return button
        raise AssertionError(f"no button starting {label_start!r} on {self.driver.current_url}: "
                             + ", ".join(b.text for b in self.driver.find_elements(By.TAG_NAME, "button")))

    def expect(self, condition, message):
        if not condition:
            raise AssertionError(message + f" (at {self.driver.current_url})")

    def no_alert(self):
        try:
            alert = self.driver.switch_to.alert
            raise AssertionError(f"a script ran: alert {alert.text!r}")
        except NoAlertPresentException:
            pass

    def log_in(self, token):
        self.open("/ui/login")
        field = self.driver.find_element(By.ID, "token")
        field.send_keys(token)
        self.button("Log in").click()
        self.wait.until(expected_conditions.url_to_be(self.url + "/ui"))

    def log_out(self):
        self.button("Log out").click()
        self.wait.until(expected_conditions.url_contains("/ui/login"))

    def focused(self):
        return self.driver.switch_to.active_element

    def describe(self, element):
        return f"<{element.tag_name}> {element.text or element.get_attribute('id') or element.get_attribute('name')!r}"

    def tab_to(self, wanted, what, limit=80):
        """Presses Tab until `wanted(focused element)`, checking that each press moves the focus."""
        for _ in range(limit):
            before = self.focused()
            before.send_keys(Keys.TAB)
            after = self.focused()
            self.expect(after != before, f"Tab moved the focus off {self.describe(before)}")
            if wanted(after):
                return after
        raise AssertionError(f"{what} is not reachable with Tab within {limit} presses (at {self.driver.current_url})")

    def fits_width(self, what):
        scroll, inner = self.driver.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        self.expect(inner <= 400, f"the window is phone-sized, not {inner} px")
        self.expect(scroll <= inner, f"{what} overflows a {inner} px wide window: {scroll} px wide")

    def phone(self):
        self.driver.set_window_size(390, 844)

    def desktop(self):
        self.driver.set_window_size(1280, 800)

    def no_inner_scroll(self, what):
        """No box scrolls sideways inside the page (a table squeezed into a scrolling wrapper)."""
        wide = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('main *')).filter(e => {"
            " const s = getComputedStyle(e); return (s.overflowX === 'auto' || s.overflowX === 'scroll')"
            " && e.scrollWidth > e.clientWidth + 1 && e.tagName !== 'PRE'; }).map(e => e.tagName + '.' + e.className)")
        self.expect(not wide, f"{what}: boxes scroll sideways: {wide}")

    def phone_screen(self, path, what, name):
        """Opens `path` at 390 px: it fits, nothing scrolls sideways inside, tables are cards."""
        self.phone()
        try:
            self.open(path)
            self.phone_checks(what, name)
        finally:
            self.desktop()

    def phone_here(self, what, name):
        """The page on screen (a POST's answer) at 390 px, as phone_screen checks it."""
        self.phone()
        try:
            self.phone_checks(what, name)
        finally:
            self.desktop()

    def phone_checks(self, what, name):
        self.fits_width(what)
        self.no_inner_scroll(what)
        heads = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('main table thead')).filter(h =>"
            " h.offsetParent !== null && h.getBoundingClientRect().left >= 0 && h.getBoundingClientRect().height > 0).length")
        self.expect(heads == 0, f"{what}: {heads} table heads still show at phone width (not cards)")
        self.shot(name)

    def dates_on_one_line(self, what):
        """At 1280 px every date in a table stays on one line with its age."""
        broken = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('main td time')).filter(t => {"
            " const age = t.parentElement.querySelector('.age'); const r = t.getBoundingClientRect();"
            " return r.height > 24 || (age && Math.abs(age.getBoundingClientRect().top - r.top) > 2); })"
            ".map(t => t.textContent)")
        self.expect(not broken, f"{what}: dates wrap: {broken}")
        cut = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('main .badge')).filter(b => b.scrollWidth > b.clientWidth + 1"
            " || b.getBoundingClientRect().height > 26).map(b => b.textContent)")
        self.expect(not cut, f"{what}: badges cut or wrapped: {cut}")

    def no_raw_names(self, what):
        """Badges, options and outcomes read as words: no `would_retry`, no doubled `conflict: conflict:`."""
        labels = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('main .badge, main option')).map(e => e.textContent)")
        raw = [label for label in labels if "_" in label]
        self.expect(not raw, f"{what} shows raw names: {raw}")
        self.expect("would be conflict: conflict" not in self.text(), f"{what} repeats the outcome in its message")

    def ids_in_table(self):
        return [int(a.text) for a in self.driver.find_elements(By.CSS_SELECTOR, "table tbody tr td.num a")]

    def position(self):
        return self.driver.find_element(By.CSS_SELECTOR, "[data-position]").text

    def wait_for_job(self):
        self.wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "[data-job-finished]"))

    # flows

    def keyboard_only(self):
        self.open("/ui/login")
        field = self.focused()
        self.expect(field.get_attribute("id") == "token", f"the token field has the focus, not {self.describe(field)}")
        field.send_keys(self.args.operator_token)
        field.send_keys(Keys.ENTER)
        self.wait.until(expected_conditions.url_to_be(self.url + "/ui"))
        link = self.tab_to(lambda e: e.tag_name == "a" and e.text == "Failures", "the Failures link")
        link.send_keys(Keys.ENTER)
        self.wait.until(expected_conditions.url_contains("/ui/errors"))
        button = self.tab_to(lambda e: e.tag_name == "button" and e.text.startswith("Preview: retry"),
                             "a failure group's preview button")
        button.send_keys(Keys.ENTER)
        self.wait.until(expected_conditions.url_contains("/ui/actions/preview"))
        self.expect("This will retry 2 changes." in self.text(), "the keyboard reached the group's preview")
        confirm = self.tab_to(lambda e: e.tag_name == "button" and e.text == "Retry 2 changes", "the confirm button")
        self.expect(confirm.is_displayed(), "the confirm button is visible when focused")
        self.shot("00-keyboard-preview")
        self.driver.delete_all_cookies()

    def login_and_overview(self):
        self.open("/ui")
        self.expect(self.driver.current_url.endswith("/ui/login"), "an anonymous visit lands on the login page")
        self.shot("01-login")
        self.log_in(self.args.operator_token)
        for status, count in self.stats["changes"].items():
            shown = self.driver.find_element(By.CSS_SELECTOR, f'a[data-status="{status}"] .n').text
            self.expect(shown.replace(",", "") == str(count), f"overview shows {shown} {status}, stats --json says {count}")
        self.expect("Replay is running" in self.text() or "paused" in self.text(), "the overview says whether replay runs")
        # The last 24 hours, drawn on the server: failures hatched, applies solid, the queue's depth a line.
        applies = self.driver.find_elements(By.CSS_SELECTOR, 'svg[data-chart="activity"] rect[data-kind="applies"]')
        failures = self.driver.find_elements(By.CSS_SELECTOR, 'svg[data-chart="activity"] rect[data-kind="failures"]')
        self.expect(applies and failures, f"the chart draws applies ({len(applies)}) and failures ({len(failures)})")
        caption = self.driver.find_element(By.ID, "activity-caption").text
        self.expect("hatched" in caption and "solid" in caption, f"the chart's key names its shapes: {caption!r}")
        fill = self.driver.execute_script("return getComputedStyle(arguments[0]).fill", failures[0])
        self.expect("url(" in fill, f"failures are drawn with a pattern, not a colour alone: {fill}")
        self.expect(self.driver.find_elements(By.CSS_SELECTOR, 'svg[data-chart="depth"] circle[data-depth]'),
                    "the queue's depth has a reading")
        self.shot("02-overview")
        # The overview refreshes itself: the figures are replaced by a newer rendering, without a reload.
        self.open("/ui?refresh=2")
        marker = self.driver.execute_script("window.notReloaded = true; return 1")
        first = self.driver.find_element(By.CSS_SELECTOR, "[data-refresh]").get_attribute("data-generated")
        self.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-refresh]").get_attribute("data-generated") != first)
        self.expect(self.driver.execute_script("return window.notReloaded === true") and marker == 1,
                    "the page refreshed its figures in place, not by reloading")
        self.expect(len(self.driver.find_elements(By.CSS_SELECTOR, "a[data-status]")) == len(self.stats["changes"]),
                    "the refreshed overview still shows every status")
        self.phone_screen("/ui", "the overview", "02b-overview-phone")

    def retry_failure_group(self):
        self.open("/ui/errors")
        self.expect("mapper_parsing_exception" in self.text(), "the failure group shows its error")
        # Artists 2 and 3 fail on one field: one group by fingerprint, whatever their ids and values.
        self.expect("2 documents" in self.text(), "one group for both documents")
        self.shot("03-failures")
        self.button("Preview: retry 2 changes").click()
        self.wait.until(expected_conditions.url_contains("/ui/actions/preview"))
        self.expect("This will retry 2 changes." in self.text(), "the preview counts the group")
        self.shot("04-preview-retry")
        # Not run here: the next flow retries the same two changes by selection.

    def retry_selected_changes(self):
        self.open("/ui/changes?status=parked")
        self.driver.find_element(By.ID, "select-all").click()
        self.button("Preview: retry 2 changes").click()
        self.wait.until(expected_conditions.url_contains("/ui/actions/preview"))
        self.expect("This will retry 2 changes." in self.text(), "the preview counts the selection")
        self.button("Retry 2 changes").click()
        self.wait_for_job()
        # Each change ends applied: by this retry, or by serve's replay loop when it picked the
        # change up first once the retry made it pending (then this retry's result is a conflict
        # naming that, which is what an operator should see).
        rows = self.driver.find_elements(By.CSS_SELECTOR, "table tbody tr")
        self.expect(len(rows) == 2, f"one per-change result each, not {len(rows)}")
        for row in rows:
            cells = row.find_elements(By.TAG_NAME, "td")
            self.expect(len(cells) >= 3 and cells[2].text.strip() == "Applied", "the selected change is applied: " + row.text)
            self.expect(cells[1].text.strip() in ("Applied", "Conflict"), "applied by this retry or just before it: " + row.text)
        self.expect("Done: 2 changes." in self.text(), "the job says how many it did")
        self.no_raw_names("the results")
        self.shot("05-retry-results")
        self.phone_screen(self.driver.current_url.replace(self.url, ""), "the results", "05b-retry-results-phone")

    def rollback_and_audit(self):
        self.open("/ui/changes?key=2")
        self.driver.find_element(By.CSS_SELECTOR, "table tbody tr td.num a").click()
        self.wait.until(expected_conditions.url_matches(r"/ui/changes/\d+$"))
        self.expect("Bea Parked" in self.text(), "the change shows its new image")
        name = self.driver.find_element(By.CSS_SELECTOR, 'table.diff tr[data-path="name"]')
        self.expect(name.get_attribute("data-mark") == "added" and "added" in name.text,
                    f"an INSERT's fields are marked added: {name.text!r}")
        element = self.driver.find_elements(By.CSS_SELECTOR, 'table.diff tr[data-path="styles[0]"]')
        self.expect(element and "indent-1" in element[0].get_attribute("class") and "blackwork" in element[0].text,
                    "an array's element is a nested row of its own under its field")
        self.shot("07-change")
        self.driver.find_element(By.ID, "change-reason").send_keys("imported twice by mistake")
        self.button("Preview: roll back this change").click()
        self.wait.until(expected_conditions.url_contains("/ui/actions/preview"))
        self.expect("This will roll back 1 change." in self.text(), "the rollback preview counts one change")
        self.shot("08-preview-rollback")
        self.button("Roll back 1 change").click()
        self.wait_for_job()
        self.expect("Rolled back" in self.text(), "the change was rolled back")
        self.expect("Done: 1 change." in self.text(), "one change, singular")
        self.open("/ui/audit?actor=alice&action=rolled_back")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "table tbody tr")
        self.expect(len(rows) == 1, f"one rollback by alice in the audit log, not {len(rows)}")
        self.expect("alice" in rows[0].find_element(By.CSS_SELECTOR, "td.actor").text, "the actor is the operator")
        self.expect("imported twice by mistake" in rows[0].text, "the reason is recorded")
        self.open("/ui/audit")
        ids = [int(cell.text) for cell in self.driver.find_elements(By.CSS_SELECTOR, "table tbody tr td.num")]
        self.expect(ids == sorted(ids, reverse=True), f"the audit log lists the newest first: {ids}")
        self.expect(re.match(r"^1–\d+ of [\d,]+ actions?$", self.position()), f"the audit log counts: {self.position()!r}")
        self.dates_on_one_line("the audit log")
        self.no_raw_names("the audit log")
        self.shot("09-audit")
        self.phone_screen("/ui/audit", "the audit log", "09b-audit-phone")
        self.phone()
        try:
            self.open("/ui/audit?actor=alice")
            actor = self.driver.find_element(By.CSS_SELECTOR, "table tbody tr td.actor")
            self.expect(actor.text.strip().endswith("alice"), f"the actor reads in full on a phone: {actor.text!r}")
        finally:
            self.desktop()

    def rollback_conflict_asks_before_force(self):
        # The INSERT of artist 1, under the MODIFY that renamed it since: the oldest of its changes.
        self.open("/ui/changes?key=1&order=oldest")
        self.driver.find_element(By.CSS_SELECTOR, "table tbody tr td.num a").click()
        self.wait.until(expected_conditions.url_matches(r"/ui/changes/\d+$"))
        self.driver.find_element(By.ID, "change-reason").send_keys("check the conflict")
        self.button("Preview: roll back this change").click()
        self.wait.until(expected_conditions.url_contains("/ui/actions/preview"))
        text = self.text()
        self.expect("would conflict" in text and "sequence" in text, "the conflict names the sequences")
        self.no_raw_names("the conflict preview")
        self.shot("10-rollback-conflict")
        self.phone_here("the conflict preview", "10d-rollback-conflict-phone")
        self.button("Roll back 1 change anyway (force)").click()
        self.wait_for_job()
        results = self.driver.find_elements(By.CSS_SELECTOR, "table tbody tr")
        self.expect(len(results) == 1 and "Rolled back" in results[0].text,
                    "the forced rollback rolled the change back: " + " | ".join(r.text for r in results))
        self.shot("10b-forced-rollback-results")
        self.open("/ui/audit?actor=alice&action=rolled_back")
        rows = [row.text for row in self.driver.find_elements(By.CSS_SELECTOR, "table tbody tr")]
        forced = [row for row in rows if "check the conflict" in row]
        self.expect(len(forced) == 1 and "(forced)" in forced[0],
                    f"the audit screen shows the forced rollback with its reason: {rows}")
        self.shot("10c-audit-forced")

    def phone_width(self):
        self.phone()
        try:
            self.open("/ui/changes")
            self.fits_width("the changes list")
            self.no_inner_scroll("the changes list")
            rows = self.driver.find_elements(By.CSS_SELECTOR, "table tbody tr")
            tallest = max(row.size["height"] for row in rows)
            self.expect(tallest <= 300, f"a change's card is compact at 390 px, not {tallest} px tall")
            self.shot("14-changes-phone")
            self.open("/ui/changes?key=3")
            self.driver.find_element(By.CSS_SELECTOR, "table tbody tr td.num a").click()
            self.wait.until(expected_conditions.url_matches(r"/ui/changes/\d+$"))
            self.phone_checks("one change", "15-change-phone")
        finally:
            self.desktop()

    def newest_first_with_totals(self):
        self.open("/ui/changes")
        ids = self.ids_in_table()
        self.expect(ids == sorted(ids, reverse=True), f"changes are listed newest first: {ids}")
        total = self.total_changes
        self.expect(self.position() == f"1–{total} of {total} changes", f"the list says where it is: {self.position()!r}")
        self.dates_on_one_line("the changes list")
        self.no_raw_names("the changes list")
        self.shot("06-changes")
        self.driver.find_element(By.LINK_TEXT, "Oldest first").click()
        self.wait.until(expected_conditions.url_contains("order=oldest"))
        self.expect(self.ids_in_table() == sorted(ids), "the toggle lists the oldest first")
        # Two a page: each page says where it is, and the pages hold every change once.
        self.open("/ui/changes?limit=2")
        seen = []
        page = 1
        while True:
            shown = self.ids_in_table()
            first = 2 * (page - 1) + 1
            want = f"{first}–{first + len(shown) - 1} of {total} changes"
            self.expect(self.position() == want, f"page {page} says {self.position()!r}, not {want!r}")
            seen += shown
            if page == 2:
                self.shot("06b-changes-page-2")
                self.expect(self.driver.find_elements(By.LINK_TEXT, "First page"), "a later page links to the first")
            following = self.driver.find_elements(By.CSS_SELECTOR, "a[rel=next]")
            if not following:
                break
            following[0].click()
            page += 1
            self.wait.until(expected_conditions.url_contains(f"from={first + 2}"))
        self.expect(seen == sorted(ids, reverse=True), f"the pages hold every change once, newest first: {seen}")

    def nested_diff(self):
        # Artist 1's newest change is the MODIFY that renamed it and added a style.
        self.open("/ui/changes?key=1")
        self.driver.find_element(By.CSS_SELECTOR, "table tbody tr td.num a").click()
        self.wait.until(expected_conditions.url_matches(r"/ui/changes/\d+$"))
        def row(path):
            rows = self.driver.find_elements(By.CSS_SELECTOR, f'table.diff tr[data-path="{path}"]')
            self.expect(rows, f"the diff has a row for {path}")
            return rows[0]
        self.expect(row("name").get_attribute("data-mark") == "changed", "the renamed field is marked changed")
        self.expect("changed" in row("name").text, "the mark is written, not only coloured")
        added = row("styles[1]")
        self.expect(added.get_attribute("data-mark") == "added" and "dotwork" in added.text,
                    "the added element is a nested row marked added")
        self.expect(row("styles[0]").get_attribute("data-mark") is None, "the unchanged element is not marked")
        self.expect("indent-1" in added.get_attribute("class"), "nested rows are indented under their field")
        self.expect('["' not in self.text() and '{"' not in self.text(), "no nested value shows as raw JSON")
        breaking = self.driver.execute_script(
            "const s = getComputedStyle(document.querySelector('table.diff td.value'));"
            " return [s.wordBreak, s.overflowWrap]")
        self.expect(breaking[0] == "normal" and breaking[1] in ("break-word", "anywhere"),
                    f"values wrap between tokens, never inside one: {breaking}")
        self.shot("07b-change-nested")
        self.phone_here("the nested diff", "07c-change-nested-phone")

    def search(self):
        self.open("/ui")
        box = self.driver.find_element(By.ID, "search-q")
        box.send_keys("2")
        box.send_keys(Keys.ENTER)
        self.wait.until(expected_conditions.url_contains("/ui/search"))
        kinds = [badge.text for badge in self.driver.find_elements(By.CSS_SELECTOR, ".matches .badge")]
        self.expect("Change" in kinds and "Artist" in kinds, f"2 is a change id and an artist id: {kinds}")
        self.expect(self.driver.find_element(By.CSS_SELECTOR, "[data-matches]").text.startswith("2 matches"),
                    "the matches are counted")
        self.shot("16-search")
        self.phone_screen("/ui/search?q=2", "the search results", "16b-search-phone")
        self.open("/ui/search?q=ARTIST%233")
        self.expect(self.driver.current_url.endswith("/ui/history?key=3"), "an artist key alone opens its history")
        self.open("/ui/search?q=" + self.args.correlation_id)
        self.expect(self.driver.current_url.endswith("/ui/quarantined"),
                    f"a correlation id opens its message (quarantined): {self.driver.current_url}")
        self.open("/ui/search?q=no-such-thing-anywhere")
        self.expect("Nothing matches" in self.text(), "a search that finds nothing says so")

    def quarantine_actions(self):
        self.open("/ui/quarantined")
        self.expect(self.position() == "1–2 of 2 messages", f"the quarantine counts its messages: {self.position()!r}")
        self.shot("12b-quarantined-actions")
        self.phone_screen("/ui/quarantined", "the quarantine", "12c-quarantined-phone")
        self.open("/ui/quarantined")
        old = self.driver.find_element(By.CSS_SELECTOR, f'section[data-message-id="{self.args.quarantined_id}"]')
        # Re-ingest, previewed: the kept body is read again and would store the artist's change.
        old.find_element(By.CSS_SELECTOR, 'button[value="reingest"]').click()
        self.wait.until(expected_conditions.url_contains("/ui/quarantined/preview"))
        self.expect("This will re-ingest message" in self.text() and "would store 1 change" in self.text(),
                    "the re-ingest preview says what the body carries")
        self.shot("17-reingest-preview")
        self.button("Re-ingest this message").click()
        self.wait.until(expected_conditions.url_contains("/ui/quarantined/run"))
        self.expect("is re-ingested" in self.text(), "the message is re-ingested")
        self.expect(self.driver.find_elements(By.CSS_SELECTOR, 'a[href^="/ui/changes/"]'), "its stored change is linked")
        self.shot("18-reingested")
        # Delete, previewed, with a reason: the HTML message nobody can read.
        self.open("/ui/quarantined")
        section = self.driver.find_element(By.CSS_SELECTOR, "section.message")
        section.find_element(By.CSS_SELECTOR, 'button[value="delete"]').click()
        self.wait.until(expected_conditions.url_contains("/ui/quarantined/preview"))
        self.expect("reason is required to delete" in self.text(), "a delete without a reason is refused before anything runs")
        self.open("/ui/quarantined")
        section = self.driver.find_element(By.CSS_SELECTOR, "section.message")
        section.find_element(By.CSS_SELECTOR, 'input[name="reason"]').send_keys("spam from a test sender")
        section.find_element(By.CSS_SELECTOR, 'button[value="delete"]').click()
        self.wait.until(expected_conditions.url_contains("/ui/quarantined/preview"))
        self.expect("This will delete message" in self.text(), "the delete is previewed")
        self.shot("19-delete-preview")
        self.button("Delete this message").click()
        self.wait.until(expected_conditions.url_contains("/ui/quarantined/run"))
        self.expect("is deleted from the quarantine" in self.text(), "the message is deleted from the quarantine")
        self.open("/ui/quarantined")
        self.expect("No message waits in the quarantine." in self.text(), "the quarantine is empty")
        self.open("/ui/audit?action=deleted")
        rows = [row.text for row in self.driver.find_elements(By.CSS_SELECTOR, "table tbody tr")]
        self.expect(len(rows) == 1 and "spam from a test sender" in rows[0] and "alice" in rows[0],
                    f"the delete is in the audit trail with its actor and reason: {rows}")
        self.open("/ui/audit?action=reingested")
        rows = [row.text for row in self.driver.find_elements(By.CSS_SELECTOR, "table tbody tr")]
        self.expect(len(rows) == 1 and "Re-ingested" in rows[0], f"the re-ingest is in the audit trail: {rows}")

    def history_and_escaping(self):
        self.open("/ui/history?key=3&at=2099-01-01")
        self.no_alert()
        self.expect("Timeline of artist 3" in self.text(), "the timeline shows")
        self.expect("<script>alert(1)</script>" in self.text(), "the script-like name shows as text")
        self.expect(not self.driver.find_elements(By.CSS_SELECTOR, "main script"), "no script element in the page")
        self.shot("11-history")
        self.open("/ui/changes?key=3")
        self.driver.find_element(By.CSS_SELECTOR, "table tbody tr td.num a").click()
        self.wait.until(expected_conditions.url_matches(r"/ui/changes/\d+$"))
        self.no_alert()
        self.expect("<script>alert(1)</script>" in self.text(), "the change page shows the name as text")
        self.open("/ui/quarantined")
        self.no_alert()
        self.expect('<img src=x onerror="alert(2)">' in self.text(), "the HTML body shows as text")
        self.expect(not self.driver.find_elements(By.CSS_SELECTOR, "main img, main b, main script"),
                    "no element from the body was made")
        self.shot("12-quarantined")

    def forged_post_refused(self):
        status = self.driver.execute_async_script(
            FORGED_POST, self.url + "/ui/actions/run", "command=skip&id=1&reason=forged")
        self.expect(status == 403, f"a POST without the CSRF token is refused, got {status}")

    def logout_ends_session(self):
        session = self.driver.get_cookie("dlq_console_session")
        self.expect(session is not None and session.get("httpOnly") and session.get("sameSite") == "Strict",
                    f"the session cookie is HttpOnly and SameSite=Strict: {session}")
        self.log_out()
        self.driver.add_cookie({"name": "dlq_console_session", "value": session["value"], "path": "/ui"})
        self.open("/ui")
        self.expect(self.driver.current_url.endswith("/ui/login"), "the old cookie no longer opens the console")
        self.driver.delete_all_cookies()

    def reader_cannot_act(self):
        self.log_in(self.args.reader_token)
        self.open("/ui/changes")
        buttons = [b.text for b in self.driver.find_elements(By.TAG_NAME, "button")]
        self.expect(not any(label.startswith("Preview") for label in buttons), f"a reader sees no action: {buttons}")
        self.expect(not self.driver.find_elements(By.CSS_SELECTOR, "input[name=id]"), "a reader cannot select changes")
        self.open("/ui/errors")
        self.shot("13-reader-failures")
        csrf = self.driver.find_element(By.CSS_SELECTOR, "header input[name=csrf]").get_attribute("value")
        status = self.driver.execute_async_script(
            FORGED_POST, self.url + "/ui/actions/run", f"csrf={csrf}&command=retry&id=1")
        self.expect(status == 403, f"the server refuses a reader's action, got {status}")
        self.log_out()

    def run(self):
        flows = [self.keyboard_only, self.login_and_overview, self.newest_first_with_totals, self.retry_failure_group,
                 self.retry_selected_changes, self.rollback_and_audit, self.nested_diff,
                 self.rollback_conflict_asks_before_force, self.phone_width, self.history_and_escaping, self.search,
                 self.quarantine_actions, self.forged_post_refused, self.logout_ends_session, self.reader_cannot_act]
        passed = 0
        try:
            for flow in flows:
                try:
                    flow()
                except Exception:
                    self.driver.save_screenshot(os.path.join(self.folder, f"failed-{flow.__name__}.png"))
                    print(f"FAILED {flow.__name__}", file=sys.stderr)
                    raise
                passed += 1
                print(f"ok {flow.__name__}")
        finally:
            self.driver.quit()
        print(f"browser flows: {passed} passed, 0 failed")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--operator-token", required=True)
    parser.add_argument("--reader-token", required=True)
    parser.add_argument("--stats", required=True, help="stats --json of the seeded audit log")
    parser.add_argument("--screenshots", required=True)
    parser.add_argument("--quarantined-id", required=True, help="a quarantined message whose body reads now")
    parser.add_argument("--correlation-id", required=True, help="the correlation id that message carries")
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    Flows(args).run()


if __name__ == "__main__":
    main()
