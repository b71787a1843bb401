"""Command line: ``python -m engine run CONFIG.json [--json] [--out DIR] [--force]``.

Exit status (docs/configuration.md):

==== ==============================================================================
0    success
1    any other failure (e.g. an output file exists and ``--force`` was not given)
2    invalid configuration: bad value (the message names the key and the allowed
     range), missing file, or invalid JSON
3    the theory did not converge somewhere (the message says where: curve, sweep
     value, quantity, and what the solver tried); simulations and outputs are still
     produced
4    the memory guard refused the run (how much it needs, how much is allowed, and
     what to lower)
130  interrupted (Ctrl-C)
==== ==============================================================================

A text progress bar goes to stderr: updated in place (``\\r``) on a terminal, and as
throttled lines (every 10 % or 5 s) otherwise, so logs stay readable.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TextIO

from engine.errors import ConfigError, EngineError, MemoryGuardError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_THEORY = 3
EXIT_MEMORY = 4
EXIT_INTERRUPT = 130


class ProgressBar:
    """``[#####.....]  52%  curve 1/1, alpha = 2: network seed 1/3: features``."""

    def __init__(self, stream: TextIO, width: int = 24) -> None:
        self.stream = stream
        self.width = width
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last_frac = -1.0
        self._last_time = 0.0
        self._last_draw = 0.0
        self._drawn = False

    def __call__(self, fraction: float, message: str) -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        now = time.monotonic()
        if self.tty:
            if now - self._last_draw < 0.1 and f < 1.0:
                return
            self._last_draw = now
            self.stream.write("\r" + self._line(f, message)[:200].ljust(100))
            self.stream.flush()
            self._drawn = True
            return
        if f - self._last_frac >= 0.1 or now - self._last_time >= 5.0 or (
                f >= 1.0 and self._last_frac < 1.0):
            self._last_frac = f
            self._last_time = now
            self.stream.write(self._line(f, message) + "\n")
            self.stream.flush()

    def _line(self, f: float, message: str) -> str:
        k = int(round(f * self.width))
        return f"[{'#' * k}{'.' * (self.width - k)}] {100 * f:3.0f}%  {message}"

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m engine",
                                description="Feature Spectrum Lab engine, headless.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a saved configuration (JSON)")
    r.add_argument("config", help="configuration or session JSON file")
    r.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    r.add_argument("--out", metavar="DIR", help="write CSV/JSON/NPZ files into DIR")
    r.add_argument("--force", action="store_true", help="overwrite existing output files")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _load_config(path: str):
    from pathlib import Path

    from engine.config import Config

    file = Path(path)
    if not file.is_file():
        raise ConfigError("config", f"configuration file not found: {path}")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError("config", f"{path}: not valid JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError("config", f"{path}: not a UTF-8 text file ({exc})") from None
    # A saved session holds the configuration under "config".
    if isinstance(data, dict) and "config" in data and "model" not in data:
        data = data["config"]
    return Config.from_dict(data)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (see the module docstring)."""
    args = _parser().parse_args(argv)
    err = sys.stderr
    bar: ProgressBar | None = None
    try:
        config = _load_config(args.config)
        from engine.runner import result_to_json, run

        bar = None if args.quiet else ProgressBar(err)
        result = run(config, progress=bar)
        if bar is not None:
            bar.close()
            bar = None
        if args.out:
            from engine.export import write_result

            paths = write_result(result, args.out, force=args.force)
            for path in paths:
                print(f"wrote {path}", file=err)
        if args.json:
            json.dump(result_to_json(result), sys.stdout, allow_nan=False)
            sys.stdout.write("\n")
            sys.stdout.flush()
        if not result.success:
            print(f"error: {result.message}", file=err)
            return EXIT_THEORY
        return EXIT_OK
    except ConfigError as exc:
        _close(bar)
        print(f"error: invalid configuration: {exc}", file=err)
        return EXIT_CONFIG
    except MemoryGuardError as exc:
        _close(bar)
        print(f"error: not enough memory: {exc}", file=err)
        return EXIT_MEMORY
    except KeyboardInterrupt:
        _close(bar)
        print("interrupted", file=err)
        return EXIT_INTERRUPT
    except (EngineError, OSError, ImportError) as exc:
        _close(bar)
        print(f"error: {exc}", file=err)
        return EXIT_ERROR


def _close(bar: ProgressBar | None) -> None:
    if bar is not None:
        bar.close()
