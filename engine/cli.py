"""Command line of the engine (docs/cli.md).

Commands::

    python -m engine run CONFIG [--json] [--out DIR] [--force] [--quiet]
                                [--workers N | --dask local[:N] | --scheduler ADDRESS]
                                [--cache DIR | --no-cache]
    python -m engine cache info|clear [--cache DIR]
    python -m engine presets [--json]
    python -m engine --version

``CONFIG`` is a configuration or session JSON file, or the name of a bundled preset
(display name such as ``"Dandi et al. spectrum"`` or file stem such as
``dandi_spectrum``) or example (``quick_errors``). An existing file wins over a name.

Exit status:

==== ==============================================================================
0    success
1    any other failure (e.g. an output file exists and ``--force`` was not given)
2    invalid configuration: bad value (the message names the key and the allowed
     range), missing file or unknown preset, or invalid JSON
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
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from engine.errors import ConfigError, EngineError, MemoryGuardError

if TYPE_CHECKING:
    from engine.cache import ResultCache
    from engine.config import Config
    from engine.execution import Execution

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
    from engine import __version__

    p = argparse.ArgumentParser(prog="python -m engine",
                                description="Feature Spectrum Lab engine, headless.")
    p.add_argument("--version", action="version",
                   version=f"Feature Spectrum Lab {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a configuration: a JSON file or a preset's name")
    r.add_argument("config", help="configuration or session JSON file, or the name of a "
                                  "preset or example (see `python -m engine presets`)")
    r.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    r.add_argument("--out", metavar="DIR", help="write CSV/JSON/NPZ files into DIR")
    r.add_argument("--force", action="store_true", help="overwrite existing output files")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_workers, metavar="N",
                       help="simulate on N local worker processes (default: the machine's "
                            "cores; 1: in this process)")
    where.add_argument("--dask", type=_dask, metavar="local[:N]",
                       help="simulate on a Dask LocalCluster of N workers started for the run")
    where.add_argument("--scheduler", type=_scheduler, metavar="ADDRESS",
                       help="simulate on the Dask scheduler at ADDRESS (tcp://HOST:PORT)")
    cached = r.add_mutually_exclusive_group()
    cached.add_argument("--cache", metavar="DIR", help="reuse and store simulation results "
                                                       "in DIR (default: the user's cache "
                                                       "folder)")
    cached.add_argument("--no-cache", action="store_true",
                        help="neither read nor store simulation results")
    c = sub.add_parser("cache", help="show or clear the cache of simulation results")
    c.add_argument("action", choices=("info", "clear"),
                   help="info: where it is and how large; clear: delete every entry")
    c.add_argument("--cache", metavar="DIR",
                   help="the cache folder (default: the user's cache folder)")
    ls = sub.add_parser("presets", help="list the bundled presets and examples")
    ls.add_argument("--json", action="store_true",
                    help="print them as JSON (name, file, description, default)")
    return p


def _workers(text: str) -> Execution:
    from engine.execution import Execution

    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"N must be a whole number >= 1, got {text!r}")
    return Execution.local(int(text))


def _dask(text: str) -> Execution:
    from engine.execution import Execution

    try:
        return Execution.parse_dask(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _scheduler(text: str) -> Execution:
    from engine.execution import Execution

    try:
        return Execution.scheduler(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _execution(args: argparse.Namespace) -> Execution:
    """Where the run's simulations execute (default: the machine's cores)."""
    from engine.execution import Execution

    return args.workers or args.dask or args.scheduler or Execution.local()


def _cache(args: argparse.Namespace) -> ResultCache | None:
    from engine.cache import ResultCache

    return None if args.no_cache else ResultCache(args.cache)


def _cache_command(args: argparse.Namespace) -> int:
    from engine.cache import ResultCache

    cache = ResultCache(args.cache)
    if args.action == "clear":
        n = cache.clear()
        print(f"removed {n} cached result{'s' if n != 1 else ''} from {cache.folder}")
    else:
        print(cache.info().text())
    return EXIT_OK


def _execution_report(execution: Execution, cache: ResultCache | None,
                      n_tasks: int) -> dict[str, object]:
    """Where the simulations ran and what the cache gave (the ``execution`` key of
    ``--json``, and a line on stderr)."""
    cached = cache.stats.hits if cache is not None else 0
    return {"where": execution.describe(), "tasks": n_tasks, "cached": cached,
            "computed": n_tasks - cached,
            "corrupt": cache.stats.corrupt if cache is not None else 0,
            "cache": str(cache.folder) if cache is not None else None}


def _load_config(spec: str) -> Config:
    """``spec``: an existing file first, else a preset's or an example's name."""
    from engine import presets

    if Path(spec).is_file():
        from engine.config import load_config_file

        return load_config_file(spec)  # strict JSON; a saved session yields its config
    if presets.find_preset(spec) is not None:
        return presets.load_preset(spec)
    if presets.find_example(spec) is not None:
        return presets.load_example(spec)
    raise ConfigError("config", f"configuration file not found: {spec} (nor is it the name "
                                f"of a preset or example; `python -m engine presets` "
                                f"lists them)")


def _list_presets(as_json: bool) -> int:
    from engine import presets

    default = presets.default_preset()
    infos = presets.preset_infos()
    examples = presets.list_examples()
    if as_json:
        doc = {"presets": [{"name": i.name, "file": i.file, "description": i.description,
                            "default": i.name == default} for i in infos],
               "examples": examples}
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    width = max(len(i.name) for i in infos)
    print("Presets (run one with: python -m engine run NAME):")
    for info in infos:
        mark = "  (the app's default)" if info.name == default else ""
        print(f"  {info.name:<{width}}  [{info.stem}]{mark}")
        print(textwrap.fill(info.description, width=88, initial_indent=" " * 6,
                            subsequent_indent=" " * 6))
    print("Examples (small, quick): " + ", ".join(examples))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (see the module docstring)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "presets":
            return _list_presets(args.json)
        if args.command == "cache":
            return _cache_command(args)
        return _run(args)
    except BrokenPipeError:
        # The reader of stdout went away (``... | head``): stop quietly, as shell tools
        # do; stdout goes to devnull so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR


def _run(args: argparse.Namespace) -> int:
    err = sys.stderr
    bar: ProgressBar | None = None
    try:
        config = _load_config(args.config)
        from engine.json_result import result_to_json
        from engine.runner import run

        execution, cache = _execution(args), _cache(args)
        bar = None if args.quiet else ProgressBar(err)
        result = run(config, progress=bar, execution=execution, cache=cache)
        if bar is not None:
            bar.close()
            bar = None
        n_tasks = len(config.points()) * len(config.run.simulate) * len(config.run.seeds)
        report = _execution_report(execution, cache, n_tasks)
        if n_tasks and not args.quiet:
            print(f"simulations: {report['computed']} computed {execution.describe()}, "
                  f"{report['cached']} from the cache"
                  + (f" ({report['corrupt']} corrupt, recomputed)" if report["corrupt"]
                     else ""), file=err)
        if args.out:
            from engine.export import write_result

            paths = write_result(result, args.out, force=args.force)
            for path in paths:
                print(f"wrote {path}", file=err)
        if args.json:
            doc = result_to_json(result)
            doc["execution"] = report
            json.dump(doc, sys.stdout, allow_nan=False)
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
    except BrokenPipeError:
        _close(bar)
        raise
    except (EngineError, OSError, ImportError) as exc:
        _close(bar)
        print(f"error: {exc}", file=err)
        return EXIT_ERROR


def _close(bar: ProgressBar | None) -> None:
    if bar is not None:
        bar.close()
