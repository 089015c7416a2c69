"""The game in a real browser: Debian's Chromium, driven by Playwright, against `realornn serve`.

The server is the real one (a subprocess on a free port, a SQLite file in a temporary folder, the
shipped char 7-gram), so the pages, the scripts, the JSON API and the Content-Security-Policy are
tested together. Every test also fails on a console error or a CSP violation.
"""

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

REAL_PLAYS = re.compile(r"As You Like It|Hamlet|Macbeth")
RIGHT_OR_WRONG = re.compile(r"Right!|Wrong\.")


@pytest.fixture
def page(browser, server_url, problems, csp_reporter) -> Iterator[Page]:
    """A fresh browser context (so a new player cookie) on the server, filling `problems`."""
    context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    context.add_init_script(csp_reporter)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            problems.append(f"console.{message.type}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    yield page
    context.close()


def total_guesses(url: str) -> int:
    with urllib.request.urlopen(f"{url}/api/stats", timeout=10) as response:
        return json.load(response)["overall"]["guesses"]


def test_pair_round_played_by_clicking_is_revealed_and_counted(page, server_url, problems):
    guesses_before = total_guesses(server_url)
    page.goto("/")
    expect(page.locator("#question")).to_have_text("Which is the real Shakespeare?")
    passages = page.locator("#passages .passage")
    expect(passages).to_have_count(2)
    expect(passages.locator(".passage-text").first).not_to_be_empty()

    page.locator('#passages button[data-choice="0"]').click()

    expect(page.locator("#result")).to_contain_text(RIGHT_OR_WRONG)
    real = page.locator("#passages .passage.is-real")
    fake = page.locator("#passages .passage.is-generated")
    expect(real).to_have_count(1)
    expect(fake).to_have_count(1)
    expect(real.locator(".verdict")).to_contain_text("Real Shakespeare")
    expect(real.locator(".attribution cite")).to_have_text(REAL_PLAYS)
    expect(real.locator(".attribution")).to_contain_text(re.compile(r"Act [IVX]+, Scene [IVX]+"))
    expect(fake.locator(".attribution")).to_contain_text("char-7gram-kn")
    expect(fake.locator(".attribution")).to_contain_text("Temperature")
    expect(page.locator("#reveal")).to_be_visible()
    expect(page.locator("#heatmap-explanation")).not_to_be_empty()
    assert page.locator("#passages .heatmap span").count() > 100  # one span per character
    expect(page.locator("#guesses")).to_have_text("1")
    expect(page.locator("#next-round")).to_be_focused()
    # the machine judge's verdict on the same round, shown only now
    expect(page.locator("#judge-verdict")).to_be_visible()
    expect(page.locator("#judge-verdict")).to_contain_text(
        re.compile(r"machine judge thought passage [12] was real \(\d+% sure\)")
    )

    page.goto("/stats")
    expect(page.locator("#overall-guesses")).to_have_text(str(guesses_before + 1))
    expect(page.locator("#stats-empty")).to_have_count(0)
    expect(page.locator("#stats-judge")).to_contain_text("All rounds")  # a judged round counted
    assert problems == []


def test_single_round_played_with_the_keyboard(page, problems):
    page.goto("/")
    expect(page.locator("#passages .passage")).to_have_count(2)  # the first (pair) round

    page.locator('label[for="mode-single"]').click()  # a new round, in single mode
    expect(page.locator("#single-choices")).to_be_visible()
    expect(page.locator("#question")).to_have_text("Real or RNN?")
    expect(page.locator("#passages .passage")).to_have_count(1)
    page.keyboard.press("r")

    expect(page.locator("#result")).to_contain_text(RIGHT_OR_WRONG)
    expect(page.locator('#single-choices button[data-choice="real"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#passages .passage .verdict")).to_contain_text(
        re.compile(r"Real Shakespeare|Generated")
    )
    expect(page.locator("#passages .attribution")).to_be_visible()
    expect(page.locator("#guesses")).to_have_text("1")

    page.keyboard.press("n")  # the next round, still in single mode
    expect(page.locator("#result")).to_be_empty()
    expect(page.locator("#single-choices")).to_be_visible()
    expect(page.locator('#single-choices button[data-choice="generated"]')).to_be_enabled()
    page.keyboard.press("g")
    expect(page.locator("#result")).to_contain_text(RIGHT_OR_WRONG)
    expect(page.locator("#guesses")).to_have_text("2")
    assert problems == []


def test_explorer_streams_a_sample_with_its_die(page, problems):
    page.goto("/explore")
    page.locator("#ex-length").fill("60")
    page.locator("#ex-seed").fill("7")
    page.locator("#ex-prime").fill("ROSALIND:\n")
    page.locator("#generate").click()

    expect(page.locator("#sample-status")).to_contain_text("Done", timeout=30_000)
    expect(page.locator("#sample-output .prime")).to_have_text("ROSALIND:\n")
    expect(page.locator("#die li")).not_to_have_count(0)
    expect(page.locator("#sample-summary")).to_contain_text(re.compile(r"Seed\s*7 \("))
    assert len(page.locator("#sample-output").text_content()) >= len("ROSALIND:\n") + 60

    page.locator("#ex-length").fill("99999")  # refused before any request is made
    page.locator("#generate").click()
    expect(page.locator("#explore-errors")).to_contain_text("Length must be")
    assert problems == []


def test_pages_render_without_console_errors(page, problems):
    for path, heading in [
        ("/stats", "Can people tell?"),
        ("/leaderboard", "Leaderboard"),
        ("/how", "How it works"),
    ]:
        page.goto(path)
        expect(page.locator("h1")).to_have_text(heading)
        expect(page.locator('.site-nav a[aria-current="page"]')).to_have_count(1)
    page.goto("/docs")
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()  # Swagger UI, vendored
    assert problems == []
