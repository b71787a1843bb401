"""Help: the bundled documentation renders offline with working links; the About box."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication

from gui.help import (
    CITATIONS,
    LICENSE_TEXT,
    AboutDialog,
    HelpWindow,
    Link,
    doc_pages,
    parse_link,
    show_about,
    show_user_guide,
    slugify,
)

ROOT = Path(__file__).resolve().parents[2]
#: The pages written for the app's Help (others may be added to docs/ by their tools).
OWN_PAGES = ("user-guide.md", "model.md", "cli.md")
#: Anchors the code and the other pages link to.
REQUIRED_ANCHORS = {
    "model.md": ("conventions", "network-to-srf-mapping", "conditional-gaussian-equivalence",
                 "spectrum-of-the-feature-covariance", "ridge-errors", "numerics",
                 "validation", "known-limits"),
    "user-guide.md": ("presets",),
}


@pytest.fixture
def guide(qtbot) -> HelpWindow:  # noqa: ANN001
    window = HelpWindow()
    qtbot.addWidget(window)
    window.resize(900, 700)
    window.show()
    return window


def test_slugs_are_githubs():
    assert slugify("Network to sRF mapping") == "network-to-srf-mapping"
    assert slugify("Weights & alignment") == "weights--alignment"
    assert slugify("Learned function along θ") == "learned-function-along-θ"
    assert slugify("python -m engine") == "python--m-engine"
    assert slugify("Exit status") == "exit-status"


def test_parse_link():
    assert parse_link("#presets", "user-guide.md") == Link("user-guide.md", "presets")
    assert parse_link("model.md#ridge-errors", "cli.md") == Link("model.md", "ridge-errors")
    assert parse_link("docs/model.md#numerics", "cli.md") == Link("model.md", "numerics")
    assert parse_link("./cli.md", "model.md") == Link("cli.md", "")
    assert parse_link("https://arxiv.org/abs/2410.18938", "x.md").external


def test_the_pages_are_bundled_in_reading_order():
    pages = doc_pages()
    assert pages[:3] == list(OWN_PAGES)
    for name in OWN_PAGES:  # the installed copy is the repository's file
        from gui.help import read_page

        assert read_page(name) == (ROOT / "docs" / name).read_text(encoding="utf-8")


def test_every_page_opens_and_no_link_is_broken(guide):
    anchors: dict[str, set[str]] = {}
    links: dict[str, list[str]] = {}
    for page in doc_pages():
        assert guide.show_page(page)
        assert guide.page == page
        assert guide.browser.toPlainText().strip(), page
        anchors[page] = guide.anchors()
        links[page] = guide.links()
    for page in OWN_PAGES:
        assert links[page], f"{page} has no links"
    broken = []
    for page, hrefs in links.items():
        for href in hrefs:
            link = parse_link(href, page)
            if link.external:
                if not href.startswith("https://"):
                    broken.append(f"{page}: {href} (not https)")
                continue
            if link.page not in anchors:
                broken.append(f"{page}: {href} (no page {link.page})")
            elif link.anchor and link.anchor not in anchors[link.page]:
                broken.append(f"{page}: {href} (no section #{link.anchor})")
    assert not broken, "\n".join(broken)
    for page, required in REQUIRED_ANCHORS.items():
        assert set(required) <= anchors[page], (page, set(required) - anchors[page])


def test_code_references_to_the_docs_resolve(guide):
    """``docs/model.md#numerics`` in a docstring or message names a real section."""
    pattern = re.compile(r"docs/([\w-]+\.md)(?:#([\w-]+))?")
    sources = [*ROOT.glob("engine/**/*.py"), *ROOT.glob("gui/**/*.py"), ROOT / "README.md",
               ROOT / "main.py"]
    missing = []
    for src in sources:
        for page, anchor in pattern.findall(src.read_text(encoding="utf-8")):
            if not guide.show_page(page, anchor):
                missing.append(f"{src.relative_to(ROOT)}: docs/{page}#{anchor}")
    assert not missing, "\n".join(sorted(set(missing)))


def test_files_the_docs_name_exist():
    """Paths in the docs (``bench/validate_theory.py``, ...) are files of the repository."""
    pattern = re.compile(r"`((?:bench|tests|engine|gui|resources|docs)/[\w/.-]+)`")
    for page in OWN_PAGES:
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        for path in pattern.findall(text):
            assert (ROOT / path).exists(), f"{page} names {path}"
        # no absolute path of a particular machine
        assert not re.search(r"(?<![\w.])/(home|root|tmp|work|Users)/", text), page


def test_links_and_anchors_navigate_with_back_and_forward(guide, qtbot):
    guide.show_page("user-guide.md")
    assert guide.browser.verticalScrollBar().value() == 0
    guide.browser.anchorClicked.emit(QUrl("model.md#known-limits"))
    assert (guide.page, guide.anchor) == ("model.md", "known-limits")
    qtbot.waitUntil(lambda: guide.browser.verticalScrollBar().value() > 0)
    assert "known-limits" in guide.location.text()
    guide.browser.anchorClicked.emit(QUrl("#conventions"))
    assert (guide.page, guide.anchor) == ("model.md", "conventions")
    guide.go_back()
    assert (guide.page, guide.anchor) == ("model.md", "known-limits")
    guide.go_back()
    assert (guide.page, guide.anchor) == ("user-guide.md", "")
    assert not guide.back.isEnabled() and guide.forward.isEnabled()
    guide.go_forward()
    assert (guide.page, guide.anchor) == ("model.md", "known-limits")
    # the page list follows, and choosing a page in it opens it
    assert guide.pages.currentItem().text() == "The model and the theory"
    item = guide.pages.item(doc_pages().index("cli.md"))
    guide.pages.itemClicked.emit(item)
    assert guide.page == "cli.md"
    assert not guide.show_page("no-such-page.md")
    assert guide.show_page("model.md", "no-such-section") is False
    assert guide.page == "model.md"


def test_show_user_guide_is_non_modal_and_reused(qtbot):
    from PySide6.QtWidgets import QMainWindow

    main = QMainWindow()
    qtbot.addWidget(main)
    main.show()
    window = show_user_guide(main)
    assert window.isVisible() and not window.isModal()
    assert main.isEnabled() and QApplication.activeModalWidget() is None
    assert window.page == "user-guide.md"
    again = show_user_guide(main, "docs/model.md#ridge-errors")
    assert again is window
    assert (window.page, window.anchor) == ("model.md", "ridge-errors")
    show_user_guide(main, "cli.md", "exit-status")
    assert (window.page, window.anchor) == ("cli.md", "exit-status")
    window.close()


def test_about_shows_version_licence_and_copies_both_bibtex_entries(qtbot):
    import engine

    parent = AboutDialog()  # any widget will do as a parent
    qtbot.addWidget(parent)
    about = show_about(parent)
    qtbot.addWidget(about)
    assert about.isVisible() and not about.isModal()
    text = about.text.text()
    assert f"Feature Spectrum Lab {engine.__version__}" in text
    assert "MIT" in text and "2410.18938" in text and "2402.04980" in text
    assert about.licence.toPlainText().startswith("MIT License")
    clipboard = QApplication.clipboard()
    clipboard.setText("")
    qtbot.mouseClick(about.copy_bibtex, qtbot_left_button())
    copied = clipboard.text()
    assert copied.count("@misc{") == 2
    assert "@misc{dandi2024random," in copied and "@misc{cui2024asymptotics," in copied
    for key in ("eprint        = {2410.18938}", "eprint        = {2402.04980}"):
        assert key in copied
    assert "Zdeborov" in copied and "Loureiro" in copied
    assert copied.count("{") == copied.count("}")  # balanced: a BibTeX parser takes it
    assert "copied" in about.status.text()
    assert len(CITATIONS) == 2


def test_licence_text_is_the_repositorys():
    assert LICENSE_TEXT == (ROOT / "LICENSE").read_text(encoding="utf-8")


def qtbot_left_button():  # noqa: ANN201
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
