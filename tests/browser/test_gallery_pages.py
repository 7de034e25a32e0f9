"""The owner's galleries in Chromium against a live ``piksend serve`` (issue 17, item 5):
create, rename, describe and delete; upload several photos without JavaScript and by drag and
drop with a progress bar; share with a copied link; the stats chart."""

from __future__ import annotations

import base64
import itertools
import re
from datetime import UTC, datetime

import pytest

from tests.browser.conftest import sign_up
from tests.support.images import make_image

pytestmark = [pytest.mark.browser, pytest.mark.live]
_emails = itertools.count()


def photo(name: str, color=(200, 40, 90)) -> dict:
    fmt = "PNG" if name.endswith(".png") else "JPEG"
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return {"name": name, "mimeType": mime, "buffer": make_image(fmt, color=color)}


def new_gallery(page, title: str) -> str:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Galleries").click()
    page.get_by_role("link", name="New gallery").click()
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Create gallery").click()
    page.get_by_text("The gallery was created.").wait_for()
    return page.url.split("?")[0]


def signed_up(page, who: str) -> None:
    sign_up(page, f"{who}{next(_emails)}@example.com", name=who.title())


def test_a_gallery_is_created_renamed_described_and_deleted_through_its_dialog(page):
    signed_up(page, "gina")
    new_gallery(page, "Draft")

    page.get_by_role("link", name="Edit title and description").click()
    page.get_by_label("Title").fill("Alps 2026")
    page.get_by_label("Description (optional)").fill("Two weeks in the mountains")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Your changes were saved.").wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == "Alps 2026"
    assert page.locator(".gallery-description").inner_text() == "Two weeks in the mountains"

    page.get_by_role("link", name="Delete gallery").click()
    dialog = page.get_by_role("dialog", name="Delete the gallery?")
    dialog.wait_for()
    assert "/delete" not in page.url  # the dialog, not the confirmation page
    dialog.get_by_role("button", name="Keep it").click()
    assert not dialog.is_visible()
    page.get_by_role("link", name="Delete gallery").click()
    dialog.get_by_role("button", name="Delete the gallery").click()
    page.get_by_text("The gallery and its photos were deleted.").wait_for()
    assert page.get_by_text("You have no galleries yet.").is_visible()


def test_without_javascript_several_photos_upload_at_once_and_delete_asks_on_a_page(
    page_without_js,
):
    page = page_without_js
    signed_up(page, "nojs")
    new_gallery(page, "Plain")

    page.get_by_label("Photos (JPEG, PNG, GIF or WebP)").set_input_files(
        [photo("one.jpg"), photo("two.png"), photo("three.jpg", color=(1, 2, 3))]
    )
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("3 photos uploaded.").wait_for()
    assert page.locator("#photos img").count() == 3

    page.get_by_role("link", name="Delete gallery").click()
    page.wait_for_url(re.compile(r".*/delete$"))
    page.get_by_role("button", name="Delete the gallery").click()
    page.get_by_text("The gallery and its photos were deleted.").wait_for()


def drop(page, files: list[dict]) -> None:
    encoded = [
        {"name": f["name"], "type": f["mimeType"], "data": base64.b64encode(f["buffer"]).decode()}
        for f in files
    ]
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name, {type: f.type}));
            }
            return transfer;
        }""",
        encoded,
    )
    zone = page.locator(".dropzone")
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    zone.dispatch_event("drop", {"dataTransfer": transfer})


def test_photos_dropped_on_the_page_upload_each_with_a_progress_bar(page):
    signed_up(page, "drop")
    gallery_url = new_gallery(page, "Dropped")
    assert page.get_by_text("Or drop photos here.").is_visible()

    not_a_photo = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just words"}
    drop(page, [photo("a.jpg"), photo("b.png"), not_a_photo])

    page.get_by_role("link", name=re.compile("2 uploaded, 1 not uploaded")).wait_for()
    rows = page.locator(".upload-progress li")
    assert rows.locator(".upload-name").all_inner_texts() == ["a.jpg", "b.png", "notes.txt"]
    states = rows.locator(".upload-state").all_inner_texts()
    assert states[:2] == ["Uploaded", "Uploaded"]
    assert states[2].startswith("Not uploaded: ")
    assert [rows.nth(i).locator("progress").evaluate("p => p.value") for i in range(2)] == [
        100,
        100,
    ]
    page.goto(gallery_url)
    assert page.locator("#photos img").count() == 2


def test_sharing_copies_the_link_and_the_stats_chart_counts_the_visit(page, browser, live):
    signed_up(page, "share")
    new_gallery(page, "Shared trip")
    assert page.get_by_text("This gallery is private").is_visible()

    page.get_by_label(re.compile("^Unlisted")).check()
    page.get_by_role("button", name="Save who can see it").click()
    page.get_by_text("Who can see the gallery was changed.").wait_for()
    link = page.locator("#share-link").inner_text()
    assert link.startswith(f"{live.url}/g/")
    page.get_by_role("button", name="Copy share link").click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link

    visitor = browser.new_context()
    try:
        shared = visitor.new_page()
        shared.goto(link)
        assert shared.get_by_role("heading", level=1).inner_text() == "Shared trip"
    finally:
        visitor.close()

    page.get_by_role("link", name="Your galleries").click()
    page.get_by_role("link", name="Statistics").click()
    chart = page.get_by_role("img", name=re.compile("^Views and downloads per day"))
    chart.wait_for()
    today = datetime.now(UTC).date().isoformat()
    assert page.locator("#total-gallery-views").inner_text() == "1"
    page.get_by_text("The numbers, day by day").click()
    row = page.get_by_role("row", name=re.compile(f"^{today}"))
    assert row.locator("td").all_inner_texts() == ["1", "0", "0"]
    assert page.locator("g.day rect").count() == 1
