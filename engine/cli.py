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
130  interrupted (Ctrl-C); finished simulations stay in the cache
143  terminated (SIGTERM), like Ctrl-C
==== ==============================================================================

With ``--json``, stdout holds exactly one JSON document whatever happens: the result
(or ``{"success": false}``) with ``exit_status``, ``error`` (the message) and
``warnings`` (Python warnings and anything numerical libraries printed while computing,
collected instead of printed).

A text progress bar goes to stderr: updated in place (``\\r``) on a terminal, and as
throttled lines (every 10 % or 5 s) otherwise, so logs stay readable.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import textwrap
import time
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from engine.errors import ConfigError, EngineError, MemoryGuardError

if TYPE_CHECKING:
    from engine.cache import ResultCache
    from engine.config import Config
    from engine.execution import Execution
    from engine.results import RunResult

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CONFIG = 2
EXIT_THEORY = 3
EXIT_MEMORY = 4
EXIT_INTERRUPT = 130
EXIT_TERMINATED = 143

#: Set to 1 to see the traceback of an internal error.
DEBUG_ENV = "FSL_DEBUG"


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
    r.add_argument("--out", metavar="DIR", help="write the data files (CSV/JSON/NPZ), one "
                                                "file per view of the app and a session "
                                                "into DIR")
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


class Terminated(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """SIGTERM arrived: stop like Ctrl-C (the executor stops its workers on the way out)."""


def _on_sigterm(_signum: int, _frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While running, SIGTERM unwinds the run like Ctrl-C instead of killing the process
    outright (so workers are stopped and the message is printed)."""
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Captured:
    """Output that would have reached stdout while computing (LAPACK's messages are
    printed by C code on file descriptor 1), and Python warnings."""

    def __init__(self) -> None:
        self.text = ""
        self.warnings: list[warnings.WarningMessage] = []

    def notes(self) -> list[str]:
        """One line per distinct warning or printed line."""
        lines = [f"{w.category.__name__}: {w.message}" for w in self.warnings]
        lines += [line.strip() for line in self.text.splitlines() if line.strip()]
        return list(dict.fromkeys(lines))


@contextlib.contextmanager
def _captured_output(active: bool) -> Iterator[_Captured]:
    """With ``--json``, keep stdout for the JSON document alone: file descriptor 1 points
    to a temporary file while computing (worker processes started meanwhile inherit it),
    and warnings are recorded rather than printed."""
    captured = _Captured()
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("default")
        if not active:
            yield captured
            captured.warnings = list(recorded)
            return
        sys.stdout.flush()
        saved = os.dup(1)
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 1)
            try:
                yield captured
            finally:
                sys.stdout.flush()
                os.dup2(saved, 1)
                os.close(saved)
                sink.seek(0)
                captured.text = sink.read().decode("utf-8", errors="replace")
                captured.warnings = list(recorded)


def _check_out(args: argparse.Namespace) -> None:
    """Every check of ``--out`` before computing: a folder (not a file), writable, and
    without ``--force`` none of the files a run writes there already exists."""
    if not args.out:
        return
    from engine.files import check_targets
    from engine.session import SESSION_FILE
    from engine.views import Views

    names = [f"view_{name}.json" for name in Views.NAMES] + [SESSION_FILE]
    try:
        check_targets(Path(args.out), names, force=args.force,
                      patterns=("*.csv", "result.json", "arrays.npz"))
    except (NotADirectoryError, IsADirectoryError, PermissionError) as exc:
        raise ConfigError("--out", f"--out {args.out}: {exc}") from None


def _out_files(config: Config, result: RunResult) -> dict[str, bytes]:
    """What ``--out`` writes: the result's data files, one file per view of the app (the
    same numbers as its figures) and a session that reopens in the app."""
    from engine.views import export_files, exported_views

    _, views = exported_views(config, result, theory_run=result if config.run.theory else None)
    return export_files(config, result, views, ui={})


def _compute(args: argparse.Namespace, err: TextIO, state: dict[str, object]
             ) -> tuple[RunResult, dict[str, object]]:
    """Load, check, run and write; returns the result and the execution report."""
    from engine.runner import run

    config = _load_config(args.config)
    state["config"] = config
    _check_out(args)
    execution, cache = _execution(args), _cache(args)
    state["cache"] = cache
    bar = None if args.quiet else ProgressBar(err)
    state["bar"] = bar
    result = run(config, progress=bar, execution=execution, cache=cache)
    _close(bar)
    state["bar"] = None
    n_tasks = len(config.points()) * len(config.run.simulate) * len(config.run.seeds)
    report = _execution_report(execution, cache, n_tasks)
    if n_tasks and not args.quiet:
        print(f"simulations: {report['computed']} computed {execution.describe()}, "
              f"{report['cached']} from the cache"
              + (f" ({report['corrupt']} corrupt, recomputed)" if report["corrupt"]
                 else ""), file=err)
    if args.out:
        from engine.files import write_set

        for path in write_set(Path(args.out), _out_files(config, result), force=args.force):
            print(f"wrote {path}", file=err)
    return result, report


def _failure(exc: BaseException, state: dict[str, object]) -> tuple[int, str]:
    """The exit status and the one-line message of a run that did not complete."""
    if isinstance(exc, ConfigError):
        return EXIT_CONFIG, f"invalid configuration: {exc}"
    if isinstance(exc, MemoryGuardError):
        return EXIT_MEMORY, f"not enough memory: {exc}"
    if isinstance(exc, KeyboardInterrupt | Terminated):
        kept = (" (finished simulations are kept in the cache: run again to resume)"
                if state.get("cache") is not None else "")
        name = "terminated" if isinstance(exc, Terminated) else "interrupted"
        return (EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPT,
                f"{name}{kept}")
    if isinstance(exc, EngineError | OSError):
        return EXIT_ERROR, str(exc)
    # A bug: one line for the user, the traceback on request.
    detail = "".join(traceback.format_exception(exc)) if os.environ.get(DEBUG_ENV) else ""
    return EXIT_ERROR, (f"internal error ({type(exc).__name__}: {exc}); please report it"
                        + (f"\n{detail}" if detail else f" (set {DEBUG_ENV}=1 for details)"))


def _run(args: argparse.Namespace) -> int:
    """``run``: see the module docstring for what is printed where."""
    from engine.json_result import result_to_json

    err = sys.stderr
    state: dict[str, object] = {}
    result = report = None
    code, message = EXIT_OK, ""
    with _captured_output(args.json) as captured, _sigterm_as_interrupt():
        try:
            result, report = _compute(args, err, state)
        except (Exception, KeyboardInterrupt, Terminated) as exc:  # noqa: BLE001 - mapped to exit codes
            code, message = _failure(exc, state)
        finally:
            _close(state.get("bar"))  # type: ignore[arg-type]
    if result is not None and not result.success:
        code, message = EXIT_THEORY, result.message
    notes = captured.notes()
    if args.json:
        doc = result_to_json(result) if result is not None else {"success": False}
        doc.update(exit_status=code, warnings=notes)
        if report is not None:
            doc["execution"] = report
        if message:
            doc["error"] = message
        json.dump(doc, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
        sys.stdout.flush()
    elif notes:
        print("warnings:\n  " + "\n  ".join(notes), file=err)
    if message:
        print(f"error: {message}" if code not in (EXIT_INTERRUPT, EXIT_TERMINATED)
              else message, file=err)
    return code


def _close(bar: ProgressBar | None) -> None:
    if bar is not None:
        bar.close()
