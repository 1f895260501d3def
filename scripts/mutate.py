"""Mutation testing: does the test suite catch plausible one-line bugs?

``make mutate`` runs this script. Each mutant of the catalogue
(tests/mutants.toml) is one small, plausible mistake in one line of one
source file: ``<`` for ``<=``, a dropped fee, an off-by-one in a lookback,
a missing ``Py_DECREF``. For each, a scratch copy of the sources gets the
change, the extension is rebuilt there (only the changed C file is
recompiled), and only the tests that cover that file run against it: the
pytest files and C drivers the catalogue lists for the file. A mutant is
*killed* when a test fails (or its C driver fails, or a test hangs past the
time limit), and *survives* when every test passes: then either the tests
miss a real bug, or the change makes no difference anyone could observe,
which the catalogue must say (``harmless = "..."``).

The script prints one line per mutant and a summary, and exits with 0 when
at least ``--threshold`` (95%) of the mutants are killed and every survivor
has its reason recorded; 1 otherwise; 2 when the catalogue itself is wrong
(a ``find`` text that is not exactly once in its file, a mutant that does
not compile, a baseline test that fails without any mutant).

    python scripts/mutate.py                    # the whole catalogue
    python scripts/mutate.py --only sweep-      # mutants whose id starts so
    python scripts/mutate.py --list             # the catalogue, nothing run
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = "src/_fastpar"
CATALOGUE = ROOT / "tests" / "mutants.toml"

# The extension's flags, as CMakeLists.txt builds it (Release, without
# -Werror: a mutant may leave a variable unused), and the C drivers', as
# tests/c/Makefile builds them.
EXT_FLAGS = ["-O3", "-DNDEBUG", "-std=c11", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra",
             "-ffp-contract=off"]
DRIVER_FLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-ffp-contract=off", "-pthread"]


class CatalogueError(Exception):
    pass


@dataclass
class Mutant:
    id: str
    file: str
    find: str
    replace: str
    bug: str
    harmless: str | None = None
    tests: list[str] = field(default_factory=list)
    drivers: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # "killed", "survived", "error"
    by: str  # what killed it, or why it is an error
    seconds: float


def load_catalogue(path: Path) -> list[Mutant]:
    """The mutants of `path`, each with the tests of its file; every find
    text checked to occur exactly once in its file."""
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    files = doc.get("files", {})
    mutants, seen = [], set()
    for entry in doc.get("mutant", []):
        where = f"{path.name}: mutant {entry.get('id', '?')!r}"
        missing = [k for k in ("id", "file", "find", "replace", "bug") if k not in entry]
        if missing:
            raise CatalogueError(f"{where}: missing {', '.join(missing)}")
        unknown = set(entry) - {"id", "file", "find", "replace", "bug", "harmless", "tests",
                                "drivers"}
        if unknown:
            raise CatalogueError(f"{where}: unknown field(s) {sorted(unknown)}")
        if entry["id"] in seen:
            raise CatalogueError(f"{where}: id given twice")
        seen.add(entry["id"])
        if entry["file"] not in files:
            raise CatalogueError(f"{where}: no [files.{entry['file']!r}] entry with its tests")
        cover = files[entry["file"]]
        m = Mutant(id=entry["id"], file=entry["file"], find=entry["find"],
                   replace=entry["replace"], bug=entry["bug"], harmless=entry.get("harmless"),
                   tests=list(entry.get("tests", cover.get("tests", []))),
                   drivers=list(entry.get("drivers", cover.get("drivers", []))))
        text = (ROOT / m.file).read_text()
        count = text.count(m.find)
        if count != 1:
            raise CatalogueError(f"{where}: its find text occurs {count} times in {m.file} "
                                 "(it must occur exactly once)")
        if "\n" in m.find or m.find == m.replace:
            raise CatalogueError(f"{where}: a mutant changes one line (find: part of a line, "
                                 "replace: something else)")
        if not m.tests and not m.drivers:
            raise CatalogueError(f"{where}: no tests and no C drivers cover {m.file}")
        for t in m.tests:
            if not (ROOT / t.split("::")[0]).is_file():
                raise CatalogueError(f"{where}: no test file {t}")
        for d in m.drivers:
            if not (ROOT / d).is_file():
                raise CatalogueError(f"{where}: no C driver {d}")
        mutants.append(m)
    return mutants


class Builder:
    """Compiles fastpar's C sources into objects, once per source text and
    set of flags (a mutant recompiles only what its change touches), and
    links the extension and the C drivers from them."""

    def __init__(self, work: Path):
        import numpy

        self.cc = os.environ.get("CC", "cc")
        self.work = work
        self.cache = work / "objects"
        self.cache.mkdir(parents=True, exist_ok=True)
        self.ext_includes = ["-I" + numpy.get_include(),
                             "-isystem", sysconfig.get_paths()["include"]]
        self.suffix = sysconfig.get_config_var("EXT_SUFFIX")

    def _compile(self, src_dir: Path, name: str, flags: list[str], key: str) -> Path:
        """Object of src_dir/name; its headers are those of src_dir."""
        import hashlib

        digest = hashlib.sha256(key.encode())
        digest.update((src_dir / name).read_bytes())
        for h in sorted(src_dir.glob("*.h")):
            digest.update(h.read_bytes())
        obj = self.cache / f"{Path(name).stem}-{digest.hexdigest()[:16]}.o"
        if not obj.exists():
            tmp = obj.with_suffix(f".{os.getpid()}.tmp")
            run = subprocess.run([self.cc, *flags, "-I", str(src_dir), "-c",
                                  str(src_dir / name), "-o", str(tmp)],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                raise RuntimeError(f"cc {name}: {run.stderr.strip()[-2000:]}")
            tmp.replace(obj)
        return obj

    def extension(self, src_dir: Path, package: Path) -> None:
        sources = sorted(p.name for p in src_dir.glob("*.c"))
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            objs = list(pool.map(lambda s: self._compile(src_dir, s, EXT_FLAGS + self.ext_includes,
                                                         "ext"), sources))
        run = subprocess.run([self.cc, "-shared", "-o", str(package / f"_fastpar{self.suffix}"),
                              *map(str, objs), "-lm", "-lpthread"], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"link: {run.stderr.strip()[-2000:]}")

    def driver(self, src_dir: Path, driver: Path, out: Path) -> Path:
        sources = sorted(p.name for p in src_dir.glob("*.c") if p.name != "module.c")
        objs = [self._compile(src_dir, s, DRIVER_FLAGS, "driver") for s in sources]
        run = subprocess.run([self.cc, *DRIVER_FLAGS, "-I", str(src_dir), "-o", str(out),
                              str(driver), *map(str, objs), "-lm", "-pthread"],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"cc {driver.name}: {run.stderr.strip()[-2000:]}")
        return out


def make_tree(dest: Path) -> None:
    """A scratch copy of the sources and the Python package."""
    shutil.copytree(ROOT / SRC, dest / SRC)
    shutil.copytree(ROOT / "python", dest / "python",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))


def run_tests(tree: Path, builder: Builder, tests: list[str], drivers: list[str],
              timeout: float) -> tuple[bool, str]:
    """(passed, what failed first) of the C drivers, then the pytest files,
    against the sources and package in `tree`."""
    for d in drivers:
        try:
            exe = builder.driver(tree / SRC, ROOT / d, tree / Path(d).stem)
        except RuntimeError as e:
            return False, f"build of {d}: {e}"
        try:
            run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"{d}: timeout after {timeout:.0f} s"
        if run.returncode != 0:
            fails = [ln for ln in run.stdout.splitlines() if "FAIL" in ln or "failed" in ln]
            return False, f"{d}: {(fails or ['exit status %d' % run.returncode])[0].strip()}"
    if tests:
        env = dict(os.environ, PYTHONPATH=str(tree / "python"), PYTHONDONTWRITEBYTECODE="1")
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "--no-header", "-o", "addopts=", *tests]
        try:
            run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, f"pytest: timeout after {timeout:.0f} s"
        if run.returncode != 0:
            failed = [ln.split(" - ")[0] for ln in run.stdout.splitlines()
                      if ln.startswith(("FAILED", "ERROR"))]
            return False, (failed or [f"pytest exit status {run.returncode}"])[0]
    return True, ""


def mutate_one(m: Mutant, work: Path, builder: Builder, timeout: float) -> Outcome:
    t0 = time.perf_counter()
    tree = work / m.id
    make_tree(tree)
    target = tree / m.file
    target.write_text(target.read_text().replace(m.find, m.replace, 1))
    try:
        builder.extension(tree / SRC, tree / "python" / "fastpar")
    except RuntimeError as e:
        return Outcome(m, "error", f"does not compile: {e}", time.perf_counter() - t0)
    passed, by = run_tests(tree, builder, m.tests, m.drivers, timeout)
    if by.startswith("build of"):
        return Outcome(m, "error", by, time.perf_counter() - t0)
    shutil.rmtree(tree, ignore_errors=True)
    return Outcome(m, "survived" if passed else "killed", by, time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--catalogue", type=Path, default=CATALOGUE)
    p.add_argument("--only", nargs="+", metavar="PREFIX", help="mutants whose id starts so")
    p.add_argument("--list", action="store_true", help="list the catalogue and stop")
    p.add_argument("--threshold", type=float, default=0.95, help="least share killed (0.95)")
    p.add_argument("--timeout", type=float, default=600.0,
                   help="seconds for one mutant's tests before it counts as killed (hung)")
    p.add_argument("--jobs", type=int, default=1,
                   help="mutants at once (1: the timing tests see an idle machine)")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip running the tests once without any mutant")
    args = p.parse_args(argv)

    try:
        mutants = load_catalogue(args.catalogue)
    except (CatalogueError, OSError, tomllib.TOMLDecodeError) as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 2
    if args.only:
        mutants = [m for m in mutants if m.id.startswith(tuple(args.only))]
    by_file: dict[str, int] = {}
    for m in mutants:
        by_file[m.file] = by_file.get(m.file, 0) + 1
    if args.list:
        for m in mutants:
            print(f"{m.id:40s} {m.file}: {m.bug}")
        print(f"\n{len(mutants)} mutants: " + ", ".join(f"{f} {n}" for f, n in by_file.items()))
        return 0

    work = Path(tempfile.mkdtemp(prefix="fastpar-mutate-"))
    started = time.perf_counter()
    try:
        builder = Builder(work)
        if not args.no_baseline:
            base = work / "baseline"
            make_tree(base)
            try:
                builder.extension(base / SRC, base / "python" / "fastpar")
            except RuntimeError as e:
                print(f"mutate: the unchanged sources do not build: {e}", file=sys.stderr)
                return 2
            tests = sorted({t for m in mutants for t in m.tests})
            drivers = sorted({d for m in mutants for d in m.drivers})
            print(f"baseline: {len(tests)} test files, {len(drivers)} C drivers, no mutant ...",
                  flush=True)
            ok, by = run_tests(base, builder, tests, drivers, args.timeout * 4)
            if not ok:
                print(f"mutate: the tests fail without any mutant: {by}", file=sys.stderr)
                return 2
            print(f"baseline: passed in {time.perf_counter() - started:.0f} s\n", flush=True)

        print(f"{'mutant':40s} {'result':9s} {'s':>5s}  killed by / harmless because")
        outcomes = []
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            futures = [pool.submit(mutate_one, m, work, builder, args.timeout) for m in mutants]
            for fut in futures:
                o = fut.result()
                outcomes.append(o)
                note = o.by if o.status != "survived" else (
                    o.mutant.harmless or "NO REASON RECORDED: a test is missing")
                print(f"{o.mutant.id:40s} {o.status:9s} {o.seconds:5.0f}  {note}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    errors = [o for o in outcomes if o.status == "error"]
    scored = [o for o in outcomes if o.status != "error"]
    killed = sum(o.status == "killed" for o in scored)
    survivors = [o for o in scored if o.status == "survived"]
    share = killed / len(scored) if scored else 1.0
    print(f"\n{killed} of {len(scored)} mutants killed ({100 * share:.1f}%), "
          f"{len(survivors)} survived, in {(time.perf_counter() - started) / 60:.1f} min "
          f"({', '.join(f'{f} {n}' for f, n in by_file.items())})")
    for o in survivors:
        print(f"  survivor {o.mutant.id} ({o.mutant.file}): {o.mutant.bug}; "
              f"{o.mutant.harmless or 'no reason recorded'}")
    for o in outcomes:
        if o.status == "killed" and o.mutant.harmless:
            print(f"  note: {o.mutant.id} is marked harmless but was killed ({o.by})")
    if errors:
        for o in errors:
            print(f"mutate: mutant {o.mutant.id}: {o.by}", file=sys.stderr)
        return 2
    unexplained = [o for o in survivors if not o.mutant.harmless]
    if share < args.threshold or unexplained:
        print(f"mutate: FAILED: {100 * share:.1f}% killed (at least {100 * args.threshold:.0f}% "
              f"needed), {len(unexplained)} survivor(s) without a reason", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
