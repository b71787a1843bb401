"""The desktop launcher: the app's icon and a freedesktop ``.desktop`` entry.

``feature-spectrum-lab --install-desktop-entry`` writes, under the XDG data home
(``$XDG_DATA_HOME``, by default ``~/.local/share``)::

    applications/feature-spectrum-lab.desktop
    icons/hicolor/scalable/apps/feature-spectrum-lab.svg
    icons/hicolor/<N>x<N>/apps/feature-spectrum-lab.png      (N in ICON_SIZES)

so desktop menus list the app with its icon; ``--uninstall-desktop-entry`` removes
exactly these files. Nothing here needs a display: the PNG sizes ship with the package
(rendered from the SVG by :func:`render_icon`; regenerate them with
``python -m gui.desktop --render-icons resources/icons`` after editing the SVG).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from engine.presets import resource_root

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon, QImage

#: File name (without extension) of the icon and of the desktop entry.
APP_ID = "feature-spectrum-lab"
#: The PNG sizes shipped in ``resources/icons`` and installed into the icon theme.
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)

_COMMENT = ("Spectrum of learned features after one large gradient step, and what random "
            "matrix theory predicts")


def icon_svg() -> Traversable:
    """The scalable icon inside the data package."""
    return resource_root() / "icons" / f"{APP_ID}.svg"


def icon_png(size: int) -> Traversable:
    """The ``size`` x ``size`` PNG icon inside the data package (``size`` in ICON_SIZES)."""
    if size not in ICON_SIZES:
        raise ValueError(f"icon size must be one of {ICON_SIZES}, got {size}")
    return resource_root() / "icons" / f"{APP_ID}-{size}.png"


def app_icon() -> QIcon:
    """The window icon: every shipped PNG size plus the SVG (needs a QGuiApplication)."""
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QIcon, QPixmap

    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap()
        if pixmap.loadFromData(QByteArray(icon_png(size).read_bytes()), "PNG"):
            icon.addPixmap(pixmap)
    return icon


def render_icon(svg: bytes, size: int) -> QImage:
    """Render the SVG icon to a ``size`` x ``size`` ARGB image (transparent outside)."""
    from PySide6.QtCore import QByteArray, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("the icon SVG cannot be read")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def write_icon_pngs(folder: Path, sizes: Sequence[int] = ICON_SIZES) -> list[Path]:
    """Render the shipped SVG at every size into ``folder``; return the files written."""
    svg = icon_svg().read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        path = folder / f"{APP_ID}-{size}.png"
        if not render_icon(svg, size).save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        written.append(path)
    return written


def xdg_data_home() -> Path:
    """``$XDG_DATA_HOME`` if set to an absolute path, else ``~/.local/share`` (XDG spec)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


def launch_command() -> list[str]:
    """How the desktop entry starts the app: this environment's ``feature-spectrum-lab``.

    The console script next to the running interpreter (the one installed with this
    package), else the interpreter with ``-m gui.app``: never a script found elsewhere on
    ``PATH``, which could belong to another installation.
    """
    bindir = Path(sys.executable).parent
    for name in (APP_ID, f"{APP_ID}.exe"):
        script = bindir / name
        if script.is_file():
            return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "gui.app"]


def _exec_arg(arg: str) -> str:
    """Quote one argument of the ``Exec`` key (Desktop Entry Specification, "Exec")."""
    if not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`=%'):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") \
                 .replace("$", "\\$")
    # The key's value is itself a string: its backslashes are escaped once more, and a
    # literal percent sign is written %%.
    return '"' + escaped.replace("\\", "\\\\").replace("%", "%%") + '"'


def desktop_entry(command: Sequence[str] | None = None) -> str:
    """The text of ``feature-spectrum-lab.desktop`` for ``command`` (default: ours)."""
    command = list(command or launch_command())
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",
        "Name=Feature Spectrum Lab",
        "GenericName=Feature learning explorer",
        f"Comment={_COMMENT}",
        "Exec=" + " ".join(_exec_arg(a) for a in command),
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Science;Math;ArtificialIntelligence;DataVisualization;",
        "Keywords=random matrix;neural network;feature learning;spectrum;random features;"
        "gradient step;",
        "StartupNotify=true",
    ]
    return "\n".join(lines) + "\n"


def entry_files(data_home: Path | None = None) -> dict[str, Path]:
    """Where each installed file goes: ``desktop``, ``svg`` and ``png<N>`` for each size."""
    home = data_home or xdg_data_home()
    icons = home / "icons" / "hicolor"
    files = {"desktop": home / "applications" / f"{APP_ID}.desktop",
             "svg": icons / "scalable" / "apps" / f"{APP_ID}.svg"}
    for size in ICON_SIZES:
        files[f"png{size}"] = icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    return files


def _write_bytes(path: Path, data: bytes) -> None:
    """Write atomically (temp file + rename): a menu never reads half an entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def install_desktop_entry(data_home: Path | None = None,
                          command: Sequence[str] | None = None) -> list[Path]:
    """Install the desktop entry and the icon (every size) for the current user.

    Parameters
    ----------
    data_home : Path, optional
        The XDG data home (default :func:`xdg_data_home`).
    command : sequence of str, optional
        The command the entry runs (default :func:`launch_command`).

    Returns
    -------
    list of Path
        The files written (the icons first, the entry last).
    """
    files = entry_files(data_home)
    _write_bytes(files["svg"], icon_svg().read_bytes())
    for size in ICON_SIZES:
        _write_bytes(files[f"png{size}"], icon_png(size).read_bytes())
    desktop = files["desktop"]
    _write_bytes(desktop, desktop_entry(command).encode("utf-8"))
    desktop.chmod(0o755)  # some desktops only trust executable entries
    return [files[k] for k in files if k != "desktop"] + [desktop]


def uninstall_desktop_entry(data_home: Path | None = None) -> list[Path]:
    """Remove the files :func:`install_desktop_entry` writes; return those removed."""
    removed = []
    for path in entry_files(data_home).values():
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gui.desktop --render-icons DIR``: regenerate the PNG icons."""
    parser = argparse.ArgumentParser(prog="python -m gui.desktop",
                                     description="Render the app icon's PNG sizes.")
    parser.add_argument("--render-icons", metavar="DIR", required=True,
                        help="folder for feature-spectrum-lab-<N>.png")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841
    for path in write_icon_pngs(Path(args.render_icons)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
