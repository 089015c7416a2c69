"""Classroom mode in a real browser: a projector and a student's phone, each its own browser
context (so its own cookies), against `realornn serve` (a subprocess on a free port, a SQLite file
in a temporary folder, the shipped char 7-gram). The pages, the scripts, the rooms API, the
server-sent events and the Content-Security-Policy are tested together; every test also fails on
a console error or a CSP violation in either browser.
"""

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

REAL_PLAYS = re.compile(r"As You Like It|Hamlet|Macbeth")
RIGHT_OR_WRONG = re.compile(r"^(Right!|Wrong\.)$")
PROJECTOR = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def open_page(browser, server_url, problems, csp_reporter) -> Iterator[Callable[..., Page]]:
    """open_page(name, viewport, **context options): a page in a fresh browser context (its own
    cookies: a projector, a phone), reporting into `problems` with its name."""
    contexts = []

    def open_page(name: str, viewport: dict, **options) -> Page:
        context = browser.new_context(base_url=server_url, viewport=viewport, **options)
        context.set_default_timeout(20_000)
        context.add_init_script(csp_reporter)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                problems.append(f"{name} console.{message.type}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(f"{name} uncaught: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


def create_room(projector: Page, rounds: int) -> str:
    """Fill in the /classroom form; the projector lands on the room's page. The room's code."""
    projector.goto("/classroom")
    expect(projector.locator("h1")).to_have_text("Classroom")
    projector.locator("#room-rounds").fill(str(rounds))
    projector.locator("#room-create").click()
    projector.wait_for_url(re.compile(r"/classroom/[A-Z0-9]+$"))
    expect(projector.locator("#room-lobby")).to_be_visible()
    code = projector.locator("#room-host").get_attribute("data-code")
    assert code and re.fullmatch(r"[A-Z0-9]{4,12}", code)
    expect(projector.locator("#room-code")).to_have_text(code)
    expect(projector.locator("#room-join-url")).to_have_attribute(
        "href", re.compile(f"/join/{code}$")
    )
    expect(projector.locator("#room-qr")).to_have_js_property("complete", True)
    assert projector.locator("#room-qr").evaluate("img => img.naturalWidth") > 0  # a real SVG
    expect(projector.locator("#room-player-count")).to_have_text("0")
    return code


def test_a_class_plays_a_round_from_projector_and_phone(open_page, problems):
    projector = open_page("projector", PROJECTOR)
    code = create_room(projector, rounds=1)
    join_href = projector.locator("#room-join-url").get_attribute("href")

    phone = open_page("phone", PHONE, is_mobile=True, has_touch=True)
    phone.goto(join_href)
    expect(phone.locator("#room-join-panel")).to_be_visible()
    phone.locator("#room-nickname").fill("Ophelia")
    phone.locator("#room-join-button").click()
    expect(phone.locator("#room-wait")).to_be_visible()
    expect(phone.locator("#room-me")).to_contain_text("Ophelia")
    expect(projector.locator("#room-player-count")).to_have_text("1")  # live, by SSE

    projector.locator("#room-start").click()
    expect(projector.locator("#room-round")).to_be_visible()
    expect(projector.locator("#room-round-label")).to_have_text("Round 1 of 1")
    expect(projector.locator("#room-passages .passage")).to_have_count(2)
    expect(projector.locator("#room-vote-count")).to_contain_text("0 of 1")
    expect(phone.locator("#room-vote")).to_be_visible()  # the phone follows the projector
    expect(phone.locator("#room-passages .passage")).to_have_count(2)
    for index in range(2):  # the same pair on both screens
        expect(phone.locator("#room-passages .passage-text").nth(index)).to_have_text(
            projector.locator("#room-passages .passage-text").nth(index).text_content()
        )

    phone.locator('#room-choices button[data-choice="0"]').click()
    expect(phone.locator("#room-voted")).to_contain_text("Vote received")
    expect(phone.locator("#room-choices")).to_be_hidden()
    expect(projector.locator("#room-vote-count")).to_contain_text("1 of 1")
    expect(projector.locator("#room-passages .verdict:not(:empty)")).to_have_count(0)  # not how

    projector.locator("#room-reveal").click()
    expect(phone.locator("#room-verdict")).to_have_text(RIGHT_OR_WRONG)
    expect(phone.locator("#room-answer")).to_contain_text("is the real Shakespeare")
    expect(phone.locator("#room-attributions .attribution cite")).to_have_text(REAL_PLAYS)

    expect(projector.locator("#room-result")).to_contain_text("is the real Shakespeare")
    real = projector.locator("#room-passages .passage.is-real")
    fake = projector.locator("#room-passages .passage.is-generated")
    expect(real).to_have_count(1)
    expect(fake).to_have_count(1)
    expect(projector.locator("#room-passages .room-split-percent")).to_have_text(["100%", "0%"])
    expect(real.locator(".attribution cite")).to_have_text(REAL_PLAYS)
    expect(fake.locator(".attribution")).to_contain_text("char-7gram-kn")
    expect(fake.locator(".attribution")).to_contain_text("Temperature")
    assert projector.locator("#room-passages .heatmap span").count() > 100  # one per character
    expect(projector.locator("#room-next")).to_be_hidden()  # that was the only round

    projector.locator("#room-end").click()
    expect(projector.locator("#room-summary")).to_be_visible()
    expect(projector.locator("#room-accuracy")).to_have_text(re.compile(r"^(0|100)%$"))
    expect(projector.locator("#room-accuracy-ci")).to_contain_text("95% interval")
    expect(projector.locator("#room-summary-body svg.chart")).to_have_count(2)
    expect(projector.locator("#room-top-students li")).to_have_count(1)
    expect(projector.locator("#room-top-students")).to_contain_text("Ophelia")
    expect(projector.locator("#room-export-csv")).to_have_attribute(
        "href", f"/api/rooms/{code}/export.csv"
    )
    expect(phone.locator("#room-ended")).to_be_visible()
    expect(phone.locator("#room-final-score")).to_contain_text("Ophelia, you got")
    assert problems == []


def test_a_phone_that_reloads_mid_round_keeps_its_player_and_votes_by_key(open_page, problems):
    projector = open_page("projector", PROJECTOR)
    create_room(projector, rounds=2)
    phone = open_page("phone", PHONE)
    phone.goto(projector.locator("#room-join-url").get_attribute("href"))
    phone.locator("#room-nickname").fill("Yorick")
    phone.locator("#room-nickname").press("Enter")
    expect(phone.locator("#room-wait")).to_be_visible()
    projector.locator("#room-start").click()
    expect(phone.locator("#room-vote")).to_be_visible()

    phone.reload()  # the player cookie finds the player again: no join form
    expect(phone.locator("#room-vote")).to_be_visible()
    expect(phone.locator("#room-join-panel")).to_be_hidden()
    phone.keyboard.press("2")
    expect(phone.locator("#room-voted")).to_contain_text("you picked passage 2")
    expect(projector.locator("#room-vote-count")).to_contain_text("1 of 1")

    phone.reload()  # the vote is remembered by the server too
    expect(phone.locator("#room-voted")).to_contain_text("you picked passage 2")
    projector.locator("#room-reveal").click()
    expect(phone.locator("#room-verdict")).to_have_text(RIGHT_OR_WRONG)
    expect(projector.locator("#room-next")).to_be_visible()
    projector.locator("#room-next").click()
    expect(projector.locator("#room-round-label")).to_have_text("Round 2 of 2")
    expect(phone.locator("#room-choices")).to_be_visible()  # a fresh vote for the new round
    assert problems == []


def test_a_second_browser_sees_the_projector_read_only(open_page, problems):
    projector = open_page("projector", PROJECTOR)
    code = create_room(projector, rounds=1)
    visitor = open_page("visitor", PROJECTOR)
    visitor.goto(f"/classroom/{code}")
    expect(visitor.locator("#room-not-host")).to_be_visible()
    expect(visitor.locator("#room-lobby")).to_be_visible()
    expect(visitor.locator("#room-start")).to_have_count(0)
    expect(visitor.locator("#room-export-csv")).to_have_count(0)
    assert problems == []


def test_a_student_without_the_link_types_the_code(open_page, problems):
    projector = open_page("projector", PROJECTOR)
    code = create_room(projector, rounds=1)
    phone = open_page("phone", PHONE)
    phone.goto("/join")
    phone.locator("#room-code-input").fill(code.lower())
    phone.locator("#room-code-input").press("Enter")
    phone.wait_for_url(re.compile(f"/join/{code}$"))
    expect(phone.locator("#room-join-panel")).to_be_visible()
    assert problems == []


def test_a_late_student_is_told_whether_the_round_on_screen_can_still_take_a_vote(
    open_page, problems
):
    projector = open_page("projector", PROJECTOR)
    create_room(projector, rounds=2)
    join_url = projector.locator("#room-join-url").get_attribute("href")
    projector.locator("#room-start").click()
    expect(projector.locator("#room-round-label")).to_have_text("Round 1 of 2")

    during = open_page("phone during the vote", PHONE)
    during.goto(join_url)
    expect(during.locator("#room-join-context")).to_have_text(
        "Round 1 of 2 is under way: join now and vote in it."
    )
    projector.locator("#room-reveal").click()
    expect(projector.locator("#room-next")).to_be_visible()
    after = open_page("phone after the reveal", PHONE)
    after.goto(join_url)
    expect(after.locator("#room-join-context")).to_contain_text(
        "Voting on round 1 of 2 has closed: join now and vote from the next round."
    )
    assert problems == []
