"""/docs/oauth in Chromium (issue 17, item 6): with JavaScript, every code block has a Copy
button that puts exactly the block's text on the clipboard and says so; without JavaScript, the
table of contents and the API index move to their sections, every API operation is shown, no
Copy button is there, and the page says everything it says with JavaScript."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.live]

COPIED = "Copied"
ANNOUNCED = "Code copied to the clipboard"
# The text of <main> as the reader sees it, without the buttons docs.js adds.
MAIN_TEXT_WITHOUT_COPY_BUTTONS = """() => {
  const main = document.querySelector('main').cloneNode(true);
  main.querySelectorAll('.copy-code').forEach((button) => button.remove());
  document.body.appendChild(main);  // innerText needs a rendered element
  const text = main.innerText;
  main.remove();
  return text;
}"""


def api_operations(page) -> list[tuple[str, str]]:
    """(anchor, "METHOD path") of every /api/v1 operation in the server's OpenAPI document."""
    document = page.request.get("/api/openapi.json").json()
    return [
        (
            "api-" + re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-"),
            f"{method.upper()}\u00a0{path}",
        )
        for path, item in document["paths"].items()
        if path == "/api/v1" or path.startswith("/api/v1/")
        for method in item
    ]


def copy_button_of(page, code_id: str):
    return page.locator(".code-block", has=page.locator(f"#{code_id}")).locator(".copy-code")


def test_every_code_block_gets_a_copy_button(page):
    page.goto("/docs/oauth")
    blocks = page.locator(".docs pre")
    assert blocks.count() > 10
    buttons = page.locator(".docs .code-block > button.copy-code")
    assert buttons.count() == blocks.count()
    assert set(buttons.all_inner_texts()) == {"Copy"}
    mcp = copy_button_of(page, "mcp-url")
    assert mcp.get_attribute("aria-label") == "Copy code: Connect an AI assistant"


def test_each_copy_button_has_a_name_of_its_own(page):
    # WCAG 2.4.6: a control's label says what it does; a screen reader's list of buttons shows
    # only the names, so two "Copy code: X" for two different blocks cannot be told apart.
    page.goto("/docs/oauth")
    names = page.locator(".copy-code").evaluate_all(
        "buttons => buttons.map(b => b.getAttribute('aria-label'))"
    )
    assert len(names) > 10
    assert sorted(name for name in set(names) if names.count(name) > 1) == []
    example = "Copy code: POST /api/v1/galleries — Create a gallery, Example request"
    assert example in names, names


def test_copy_puts_the_blocks_exact_text_on_the_clipboard_and_says_it_copied(page, live):
    page.goto("/docs/oauth")
    mcp = copy_button_of(page, "mcp-url")
    mcp.click()
    assert page.evaluate("navigator.clipboard.readText()") == f"{live.url}/mcp"
    assert mcp.inner_text() == COPIED
    assert page.locator("#live").inner_text() == ANNOUNCED

    # A long block: the whole example, as the download serves it, not what fits on screen.
    downloaded = page.request.get("/docs/oauth/examples/piksend_example.py").text()
    copy_button_of(page, "python-example-code").click()
    assert page.evaluate("navigator.clipboard.readText()") == downloaded
    assert copy_button_of(page, "python-example-code").inner_text() == COPIED

    # A block of the API reference: its example request, exactly as shown.
    first_example = page.locator(".api-op pre").first
    first_example.locator("xpath=..").locator(".copy-code").click()
    assert page.evaluate("navigator.clipboard.readText()") == first_example.text_content()

    # "Copied" is a moment's answer: the button offers to copy again (docs.js: after 2 s).
    page.wait_for_function(
        "() => document.querySelector('.code-block:has(#mcp-url) .copy-code')"
        ".textContent === 'Copy'",
        timeout=10_000,
    )


def test_without_javascript_the_contents_links_lead_to_their_sections(page_without_js):
    page = page_without_js
    page.goto("/docs/oauth")
    links = page.locator("nav.toc a, nav[aria-label='API operations'] a")
    targets = [
        href.removeprefix("#")
        for href in links.evaluate_all("as => as.map(a => a.getAttribute('href'))")
    ]
    assert len(targets) > 40 and all(targets)
    for target in targets:
        assert page.locator(f"[id='{target}']").count() == 1, f"#{target}"
    for index in range(links.count()):
        link = links.nth(index)
        target = targets[index]
        link.click()
        assert page.evaluate("location.hash") == f"#{target}"
        assert page.evaluate(
            """(id) => {
                const box = document.getElementById(id).getBoundingClientRect();
                return box.top < window.innerHeight && box.bottom > 0;
            }""",
            target,
        ), f"#{target} is not on screen after its link"


def test_without_javascript_every_api_operation_is_shown_and_there_is_no_copy_button(
    page_without_js,
):
    page = page_without_js
    page.goto("/docs/oauth")
    operations = api_operations(page)
    assert len(operations) >= 20
    shown = page.locator("article.api-op")
    assert shown.count() == len(operations)
    for anchor, title in operations:
        article = page.locator(f"article.api-op#{anchor}")
        assert article.is_visible(), anchor
        assert article.locator("h4 code").inner_text() == title
        assert article.locator("pre").count() >= 1  # its example
    assert page.locator(".copy-code").count() == 0
    assert page.get_by_role("button", name=re.compile("^Copy")).count() == 0


def test_the_page_says_the_same_without_javascript_as_with_it(page, page_without_js):
    page.goto("/docs/oauth")
    copy_button_of(page, "mcp-url").wait_for()  # docs.js has run
    page_without_js.goto("/docs/oauth")
    with_js = page.evaluate(MAIN_TEXT_WITHOUT_COPY_BUTTONS)
    without_js = page_without_js.evaluate(MAIN_TEXT_WITHOUT_COPY_BUTTONS)
    assert len(without_js) > 10_000
    assert without_js == with_js
