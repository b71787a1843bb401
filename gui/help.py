"""Help inside the app: the bundled documentation and the About box.

- :func:`show_user_guide` opens (or raises) a non-modal window that renders the Markdown
  pages of ``docs/`` (installed with the package, read through :mod:`importlib.resources`,
  so it works offline and from any installation), with a page list, Back/Forward, and
  links between pages and to section anchors (``model.md#ridge-errors``, ``#presets``).
  Section anchors are the headings' GitHub-style slugs, so the same links work in the
  repository's Markdown and in the app.
- :func:`show_about` shows the version, the licence (MIT) and the citations of the two
  papers the app reproduces, with a "Copy BibTeX" button.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib.resources import files

from PySide6.QtCore import Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

#: The installed name of the repository's ``docs/`` folder (pyproject.toml).
DOCS_PACKAGE = "feature_spectrum_lab_resources.docs"
#: Pages shown first, in this order; any other page of the folder follows by name.
PAGE_ORDER = ("user-guide.md", "model.md", "cli.md", "configuration.md", "architecture.md")


# ----------------------------------------------------------------------------- pages


def doc_pages() -> list[str]:
    """File names of the bundled documentation pages, in reading order."""
    names = {f.name for f in files(DOCS_PACKAGE).iterdir() if f.name.endswith(".md")}
    first = [n for n in PAGE_ORDER if n in names]
    return first + sorted(names - set(first))


def read_page(name: str) -> str:
    """The Markdown text of page ``name`` (a name of :func:`doc_pages`)."""
    if name not in doc_pages():
        raise KeyError(f"no documentation page {name!r}; pages: {', '.join(doc_pages())}")
    return (files(DOCS_PACKAGE) / name).read_text(encoding="utf-8")


def page_title(name: str) -> str:
    """The page's first level-1 heading, or its file name."""
    for line in read_page(name).splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return name


def slugify(heading: str) -> str:
    """The anchor of a heading, as GitHub makes it: ``"Ridge errors"`` -> ``ridge-errors``.

    Lower case; punctuation other than ``-`` and ``_`` dropped; each space a hyphen
    (so ``"Weights & alignment"`` gives ``weights--alignment``).
    """
    text = unicodedata.normalize("NFC", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@dataclass(frozen=True)
class Link:
    """Where a link of a page points: a page (``""``: the same page) and an anchor."""

    page: str
    anchor: str

    @property
    def external(self) -> bool:
        """A web address (opened in the system browser), not a documentation page."""
        return "://" in self.page or self.page.startswith("mailto:")


def parse_link(href: str, current: str) -> Link:
    """Split ``href`` into page and anchor; relative pages are taken in the docs folder.

    ``"#presets"`` is an anchor of ``current``; ``"model.md#numerics"``,
    ``"./model.md"`` and ``"docs/model.md#numerics"`` (as the code's docstrings write
    them) are pages of the docs folder.
    """
    if "://" in href or href.startswith("mailto:"):
        return Link(href, "")
    page, _, anchor = href.partition("#")
    page = page.removeprefix("./").removeprefix("docs/")
    return Link(page or current, anchor)


# ---------------------------------------------------------------------------- window


class HelpWindow(QWidget):
    """The documentation browser: a page list, Back/Forward, and the page itself."""

    sig_page_shown = Signal(str, str)  # page, anchor

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Feature Spectrum Lab — Help")
        self.setObjectName("help_window")
        self.resize(1000, 760)
        self.page = ""
        self.anchor = ""
        self._anchors: dict[str, int] = {}  # slug -> document position of its heading
        self._history: list[tuple[str, str]] = []
        self._at = -1

        self.pages = QListWidget()
        for name in doc_pages():
            item = QListWidgetItem(page_title(name))
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(name)
            self.pages.addItem(item)
        self.pages.itemActivated.connect(self._on_pages_activated)
        self.pages.itemClicked.connect(self._on_pages_activated)

        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)  # every link goes through open_link
        self.browser.anchorClicked.connect(self._on_browser_anchor_clicked)
        self.browser.document().setDocumentMargin(14)

        self.back = QToolButton(text="◀ Back", toolTip="Back (Alt+Left)")
        self.back.setShortcut(QKeySequence(QKeySequence.StandardKey.Back))
        self.back.clicked.connect(self.go_back)
        self.forward = QToolButton(text="Forward ▶", toolTip="Forward (Alt+Right)")
        self.forward.setShortcut(QKeySequence(QKeySequence.StandardKey.Forward))
        self.forward.clicked.connect(self.go_forward)
        self.location = QLabel()
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        bar.addWidget(self.back)
        bar.addWidget(self.forward)
        bar.addSpacing(12)
        bar.addWidget(self.location, 1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(bar)
        rl.addWidget(self.browser, 1)
        split = QSplitter()
        split.addWidget(self.pages)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([220, 780])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(split)
        self._update_buttons()

    # ------------------------------------------------------------------ navigation
    def show_page(self, page: str, anchor: str = "", *, remember: bool = True) -> bool:
        """Show ``page`` scrolled to ``anchor`` (a heading's slug); False if either is unknown.

        An unknown anchor still shows the page (from its top) and returns False.
        """
        if page not in doc_pages():
            return False
        if page != self.page:
            self._load(page)
        found = self._scroll_to(anchor)
        if remember and (page, anchor) != self._current():
            del self._history[self._at + 1:]
            self._history.append((page, anchor))
            self._at = len(self._history) - 1
        self.anchor = anchor
        self.location.setText(page + (f"#{anchor}" if anchor else ""))
        self._select_in_list(page)
        self._update_buttons()
        self.sig_page_shown.emit(page, anchor)
        return found

    def open_link(self, href: str) -> bool:
        """Follow a link of the current page; web addresses go to the system browser."""
        link = parse_link(href, self.page)
        if link.external:
            return QDesktopServices.openUrl(QUrl(link.page))
        return self.show_page(link.page, link.anchor)

    @Slot()
    def go_back(self) -> None:
        if self._at > 0:
            self._at -= 1
            self.show_page(*self._history[self._at], remember=False)

    @Slot()
    def go_forward(self) -> None:
        if self._at < len(self._history) - 1:
            self._at += 1
            self.show_page(*self._history[self._at], remember=False)

    # ------------------------------------------------------------------ inspection
    def anchors(self) -> set[str]:
        """The section anchors of the page shown."""
        return set(self._anchors)

    def links(self) -> list[str]:
        """Every link target (``href``) of the page shown, in order."""
        hrefs: list[str] = []
        block = self.browser.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fmt = it.fragment().charFormat()
                if fmt.isAnchor() and fmt.anchorHref():
                    hrefs.append(fmt.anchorHref())
                it += 1
            block = block.next()
        return hrefs

    # ------------------------------------------------------------------ internals
    def _current(self) -> tuple[str, str] | None:
        return self._history[self._at] if self._at >= 0 else None

    def _load(self, page: str) -> None:
        self.browser.setMarkdown(read_page(page))
        self.page = page
        self.setWindowTitle(f"{page_title(page)} — Feature Spectrum Lab Help")
        self._anchors = _heading_anchors(self.browser.document())

    def _scroll_to(self, anchor: str) -> bool:
        bar = self.browser.verticalScrollBar()
        if not anchor:
            bar.setValue(0)
            return True
        pos = self._anchors.get(anchor)
        if pos is None:
            bar.setValue(0)
            return False
        doc = self.browser.document()
        block = doc.findBlock(pos)
        top = doc.documentLayout().blockBoundingRect(block).top()
        bar.setValue(int(top))
        return True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        # Heading positions depend on the text width, known only once the window is laid
        # out: scroll to the section again when the event loop has done that.
        QTimer.singleShot(0, self, self._rescroll)  # dropped if the window is deleted first

    @Slot()
    def _rescroll(self) -> None:
        self._scroll_to(self.anchor)

    def _select_in_list(self, page: str) -> None:
        for row in range(self.pages.count()):
            if self.pages.item(row).data(Qt.ItemDataRole.UserRole) == page:
                self.pages.blockSignals(True)
                self.pages.setCurrentRow(row)
                self.pages.blockSignals(False)
                return

    def _update_buttons(self) -> None:
        self.back.setEnabled(self._at > 0)
        self.forward.setEnabled(self._at < len(self._history) - 1)

    @Slot(QListWidgetItem)
    def _on_pages_activated(self, item: QListWidgetItem) -> None:
        self.show_page(str(item.data(Qt.ItemDataRole.UserRole)))

    @Slot(QUrl)
    def _on_browser_anchor_clicked(self, url: QUrl) -> None:
        self.open_link(url.toString())


def _heading_anchors(doc: QTextDocument) -> dict[str, int]:
    """Slug -> position of every heading; repeated slugs get ``-1``, ``-2`` (as GitHub)."""
    anchors: dict[str, int] = {}
    seen: dict[str, int] = {}
    block = doc.begin()
    while block.isValid():
        if block.blockFormat().headingLevel() > 0:
            slug = slugify(block.text())
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors[slug if n == 0 else f"{slug}-{n}"] = block.position()
        block = block.next()
    return anchors


#: One documentation window per parent (``None``: one top-level window).
_orphan_window: HelpWindow | None = None


def show_user_guide(parent: QWidget | None = None, page: str = "user-guide.md",
                    anchor: str | None = None) -> HelpWindow:
    """Open the documentation at ``page`` (and section ``anchor``), non-modal.

    Parameters
    ----------
    parent : QWidget, optional
        The main window; the help window stays above it and is reused while open.
    page : str
        A page of the docs folder (``"user-guide.md"``, ``"model.md"``, ``"cli.md"``, ...).
        ``"model.md#known-limits"`` and ``"docs/model.md#known-limits"`` also work.
    anchor : str, optional
        A section anchor of that page (a heading's slug, e.g. ``"ridge-errors"``).

    Returns
    -------
    HelpWindow
        The window, shown and raised.
    """
    global _orphan_window
    window = parent.findChild(HelpWindow) if parent is not None else _orphan_window
    if window is None:
        window = HelpWindow(parent)
        if parent is None:
            _orphan_window = window
    link = parse_link(page, "user-guide.md")
    window.show_page(link.page if link.page in doc_pages() else "user-guide.md",
                     anchor if anchor is not None else link.anchor)
    window.show()
    window.raise_()
    window.activateWindow()
    return window


# ----------------------------------------------------------------------------- about

#: The licence of the app (the repository's LICENSE file, word for word).
LICENSE_TEXT = """\
MIT License

Copyright (c) 2026 Feature Spectrum Lab contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


@dataclass(frozen=True)
class Citation:
    """One paper the app reproduces: how to cite it, as text and as BibTeX."""

    text: str
    url: str
    bibtex: str


CITATIONS = (
    Citation(
        text="Y. Dandi, L. Pesce, H. Cui, F. Krzakala, Y. M. Lu, B. Loureiro. "
             "A Random Matrix Theory Perspective on the Spectrum of Learned Features and "
             "Asymptotic Generalization Capabilities. arXiv:2410.18938 (AISTATS 2025).",
        url="https://arxiv.org/abs/2410.18938",
        bibtex="""\
@misc{dandi2024random,
  title         = {A Random Matrix Theory Perspective on the Spectrum of Learned Features
                   and Asymptotic Generalization Capabilities},
  author        = {Dandi, Yatin and Pesce, Luca and Cui, Hugo and Krzakala, Florent
                   and Lu, Yue M. and Loureiro, Bruno},
  year          = {2024},
  eprint        = {2410.18938},
  archivePrefix = {arXiv},
  note          = {AISTATS 2025},
  url           = {https://arxiv.org/abs/2410.18938}
}
"""),
    Citation(
        text="H. Cui, L. Pesce, Y. Dandi, F. Krzakala, Y. M. Lu, L. Zdeborová, B. Loureiro. "
             "Asymptotics of feature learning in two-layer networks after one "
             "gradient-step. arXiv:2402.04980 (ICML 2024).",
        url="https://arxiv.org/abs/2402.04980",
        bibtex="""\
@misc{cui2024asymptotics,
  title         = {Asymptotics of feature learning in two-layer networks after one
                   gradient-step},
  author        = {Cui, Hugo and Pesce, Luca and Dandi, Yatin and Krzakala, Florent
                   and Lu, Yue M. and Zdeborov{\\'a}, Lenka and Loureiro, Bruno},
  year          = {2024},
  eprint        = {2402.04980},
  archivePrefix = {arXiv},
  note          = {ICML 2024},
  url           = {https://arxiv.org/abs/2402.04980}
}
"""),
)


def bibtex() -> str:
    """Both BibTeX entries, separated by a blank line."""
    return "\n".join(c.bibtex for c in CITATIONS)


class AboutDialog(QDialog):
    """Version, licence, and the papers to cite (with "Copy BibTeX")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from engine import __version__

        self.setWindowTitle("About Feature Spectrum Lab")
        self.setObjectName("about_dialog")
        refs = "".join(f'<li>{_html(c.text)} <a href="{c.url}">{c.url}</a></li>'
                       for c in CITATIONS)
        self.text = QLabel(
            f"<h2>Feature Spectrum Lab {__version__}</h2>"
            "<p>How a two-layer network learns features after one large gradient step, "
            "and what random matrix theory predicts: the spectrum of the learned features "
            "and the exact asymptotic errors of a ridge readout.</p>"
            f"<p>If you use it in your work, please cite:</p><ul>{refs}</ul>"
            "<p>Licence: MIT. Copyright © 2026 Feature Spectrum Lab contributors.</p>")
        self.text.setWordWrap(True)
        self.text.setOpenExternalLinks(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.licence = QTextBrowser()
        self.licence.setPlainText(LICENSE_TEXT)
        self.licence.setMinimumHeight(160)
        self.copy_bibtex = QPushButton("Copy BibTeX")
        self.copy_bibtex.setToolTip("Copy the BibTeX entries of both papers")
        self.copy_bibtex.clicked.connect(self._on_copy_bibtex_clicked)
        self.status = QLabel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.copy_bibtex)
        row.addWidget(self.status, 1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(QLabel("Licence text:"))
        layout.addWidget(self.licence, 1)
        layout.addLayout(row)
        self.resize(640, 560)

    @Slot()
    def _on_copy_bibtex_clicked(self) -> None:
        QGuiApplication.clipboard().setText(bibtex())
        self.status.setText("BibTeX of both papers copied.")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_orphan_about: AboutDialog | None = None


def show_about(parent: QWidget | None = None) -> AboutDialog:
    """Show the About box (non-modal; closing it deletes it) and return it."""
    global _orphan_about
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is None:  # nothing else holds it while it is open
        _orphan_about = dialog
    dialog.show()
    dialog.raise_()
    return dialog
