#!/usr/bin/env bash
# ft-python.sh — print the absolute path of a free-threaded CPython 3.13 (python3.13t).
#
# fastpar must be tested on free-threaded CPython, which Debian does not ship and which
# cannot be downloaded prebuilt here. So, in order of preference:
#
#   1. FASTPAR_FT_PYTHON=/path/to/python3.13t   use that interpreter (checked, never built)
#   2. a complete build in the cache            print it (instant)
#   3. otherwise                                build one from Debian's python3.13 source
#                                               package (pristine upstream tarball) and cache it
#
# The path is the last (and only) line on stdout; everything else goes to stderr.
#
# Environment:
#   FASTPAR_FT_PYTHON  an existing free-threaded interpreter to use instead of building
#   FASTPAR_FT_CACHE   cache directory (default: ~/.cache/fastpar/cpython-3.13t);
#                      one subdirectory per exact CPython version, e.g. 3.13.5/
#   FASTPAR_FT_SUITE   Debian suite to take the source from (default: trixie)
#   FASTPAR_FT_MIRROR  Debian mirror URI (default: the one this machine's apt already uses)
#
# To force a rebuild, delete the cache directory.
set -euo pipefail

# Keep stdout for the result only: all output, ours and that of the tools we call, goes
# to stderr, so callers can do PY=$(scripts/ft-python.sh) safely.
exec 3>&1 1>&2

readonly CACHE_ROOT="${FASTPAR_FT_CACHE:-$HOME/.cache/fastpar/cpython-3.13t}"
readonly SUITE="${FASTPAR_FT_SUITE:-trixie}"
readonly SRC_PACKAGE=python3.13   # Debian source package; its orig tarball is upstream's release
readonly WANT_SERIES=3.13         # the free-threaded version fastpar is tested on
readonly MARKER=.fastpar-complete # written only once a build is installed AND checked

# Debian packages needed to build CPython with the stdlib modules fastpar's tests use
# (ssl for pip, zlib/bz2/lzma for wheels and archives, ctypes via libffi, sqlite3,
# readline/curses for an interactive shell, uuid). The single place to change them.
readonly BUILD_DEPS=(
  build-essential pkg-config xz-utils
  zlib1g-dev libssl-dev libffi-dev libbz2-dev liblzma-dev
  libsqlite3-dev libreadline-dev libncurses-dev uuid-dev
)

readonly HOW_TO_OVERRIDE="Alternatively, point FASTPAR_FT_PYTHON at an existing free-threaded python3.13t (built with --disable-gil)."

log() { printf 'ft-python: %s\n' "$*"; }
# die LINE...: the first line is the error, further lines say what to do about it.
die() {
  printf 'ft-python: error: %s\n' "$1"
  shift
  (($#)) && printf '           %s\n' "$@"
  exit 1
}

# Clean up temporary directories on any exit, including failures and Ctrl-C.
CLEANUP=()
cleanup() { local d; for d in "${CLEANUP[@]+"${CLEANUP[@]}"}"; do rm -rf -- "$d"; done; }
trap cleanup EXIT

# check_free_threaded PYTHON MODE
# Fails (with the reason on stderr) unless PYTHON runs, is 3.13+ and is a free-threaded
# build. MODE "given" (FASTPAR_FT_PYTHON) stops there. MODE "cached" also requires the GIL
# to be off at run time and pip to be present (fast: ~30 ms, run on every cache hit). MODE
# "built" (once, before a build is marked complete) further runs pip and imports the
# compiled stdlib modules pip and the tests need, so a build that silently lacked e.g. ssl
# is never cached. -I keeps the user's PYTHON* variables (e.g. PYTHON_GIL=1) out of it.
check_free_threaded() {
  local py=$1 mode=$2
  "$py" -I - "$mode" <<'EOF' || return 1
import sys, sysconfig
mode = sys.argv[1]
v = sys.version.split()[0]
if sys.version_info < (3, 13):
    sys.exit(f"it is Python {v}; free-threading needs 3.13 or newer")
if sysconfig.get_config_var("Py_GIL_DISABLED") != 1:
    sys.exit(f"it is Python {v} built with the GIL (Py_GIL_DISABLED is not 1); "
             "a free-threaded build (configure --disable-gil, usually named python3.13t) is needed")
if mode != "given":
    import importlib.util
    if sys._is_gil_enabled():
        sys.exit("the GIL is enabled at run time")
    if importlib.util.find_spec("pip") is None:
        sys.exit("pip is not installed in it")
if mode == "built":
    import ssl, zlib, bz2, lzma, ctypes, sqlite3, uuid  # fails loudly if one was not built
EOF
  if [[ $mode == built ]] && ! "$py" -I -m pip --version >/dev/null 2>&1; then
    echo "pip does not run with it"
    return 1
  fi
}

# Absolute path without resolving symlinks (a venv's python must stay the venv's).
abspath() {
  local p=$1
  [[ $p == */* ]] || p=$(command -v -- "$p") || return 1
  printf '%s/%s\n' "$(cd -- "$(dirname -- "$p")" && pwd)" "$(basename -- "$p")"
}

# ---------------------------------------------------------------------------------------
# 1. An interpreter given by the caller: check it, never build.
if [[ -n ${FASTPAR_FT_PYTHON:-} ]]; then
  py=$(abspath "$FASTPAR_FT_PYTHON") && [[ -x $py ]] \
    || die "FASTPAR_FT_PYTHON=$FASTPAR_FT_PYTHON: no such executable." \
           "Unset it to have this script build a free-threaded CPython, or point it at one."
  reason=$(check_free_threaded "$py" given 2>&1) \
    || die "FASTPAR_FT_PYTHON=$FASTPAR_FT_PYTHON is not usable: ${reason:-it does not run}." \
           "Unset it to have this script build a free-threaded CPython, or point it at one."
  echo "$py" >&3
  exit 0
fi

# ---------------------------------------------------------------------------------------
# 2. The cache: the newest version directory holding the completion marker. The marker is
# only written after install and checks succeeded, so a directory without it is debris
# from an interrupted build and is never used.
find_cached() {
  local d best=
  for d in "$CACHE_ROOT"/"$WANT_SERIES".*/; do
    [[ -f $d$MARKER && -x ${d}bin/python${WANT_SERIES}t ]] || continue
    best=$(printf '%s\n%s\n' "$best" "${d%/}" | sed '/^$/d' | sort -V | tail -n1)
  done
  [[ -n $best ]] && printf '%s\n' "$best/bin/python${WANT_SERIES}t"
}

if py=$(find_cached); then
  # A quick re-check (tens of ms) catches a cache broken after the fact.
  if reason=$(check_free_threaded "$py" cached 2>&1); then
    echo "$py" >&3
    exit 0
  fi
  log "cached interpreter $py fails its check ($reason); rebuilding"
  rm -f -- "${py%/bin/*}/$MARKER"
fi

# ---------------------------------------------------------------------------------------
# 3. Build. One build at a time per cache: a second concurrent caller waits, then uses the
# first one's result.
mkdir -p -- "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"
if ! flock -n 9; then
  log "another build is running in $CACHE_ROOT; waiting for it"
  flock 9
  if py=$(find_cached) && check_free_threaded "$py" cached >/dev/null 2>&1; then
    echo "$py" >&3
    exit 0
  fi
fi

command -v apt-get >/dev/null \
  || die "no free-threaded CPython cached in $CACHE_ROOT, and apt-get is missing, so one cannot be" \
         "fetched and built here (this script builds from Debian's source package)." "$HOW_TO_OVERRIDE"

LOG="$CACHE_ROOT/build.log"   # kept after the run, so a failure can be read in full
: >"$LOG"
# run_logged WHAT CMD...: run quietly; on failure show the log's tail and stop.
run_logged() {
  local what=$1; shift
  if ! "$@" >>"$LOG" 2>&1; then
    tail -n 40 -- "$LOG"
    die "$what failed (full log: $LOG)."
  fi
}

# --- build dependencies ---
missing_deps() {
  local p
  for p in "${BUILD_DEPS[@]}"; do
    dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed || echo "$p"
  done
}
mapfile -t missing < <(missing_deps)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    die "missing build dependencies: ${missing[*]}" \
        "Install them as root (apt-get install ${missing[*]}) and run again." "$HOW_TO_OVERRIDE"
  fi
  log "installing build dependencies: ${missing[*]}"
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -q --no-install-recommends "${missing[@]}"; } >>"$LOG" 2>&1; then
    tail -n 20 -- "$LOG"
    die "could not install build dependencies: ${missing[*]} (full log: $LOG)." \
        "Install them (apt-get install ${missing[*]}) and run again." "$HOW_TO_OVERRIDE"
  fi
fi

# --- the Debian mirror, as this machine's apt already knows it ---
# We look for the entry serving the host's own release (suite == VERSION_CODENAME, so not
# -security/-updates or third-party repos): that archive also serves $SUITE. Its Signed-By
# keyring, if it names a file, is reused for $SUITE.
# shellcheck disable=SC1091  # a system file, read for VERSION_CODENAME only
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || codename=
find_mirror() {
  local f
  # One-line format: "deb [options] URI suite components..."
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk -v want="$codename" '
      $1 == "deb" || $1 == "deb-src" {
        opts = ""; i = 2
        if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) { opts = opts " " $i; i++ }; opts = opts " " $i; i++ }
        if ($(i + 1) != want) next
        key = ""
        if (match(opts, /signed-by=[^] ]+/)) key = substr(opts, RSTART + 10, RLENGTH - 10)
        print $i, key; exit
      }' "$f"
  done
  # deb822 format (*.sources): blank-line separated stanzas of "Field: value" lines.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk -v want="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = uris = suites = key = enabled = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^[#[:space:]]/ || index($i, ":") == 0) continue   # comments, continuations
          k = tolower(substr($i, 1, index($i, ":") - 1)); v = substr($i, index($i, ":") + 1)
          gsub(/^[[:space:]]+|[[:space:]]+$/, "", v)
          if (k == "types") types = v; else if (k == "uris") uris = v
          else if (k == "suites") suites = v; else if (k == "signed-by") key = v
          else if (k == "enabled") enabled = tolower(v)
        }
        if (enabled == "no" || (" " types " ") !~ / deb(-src)? /) next
        n = split(suites, s, /[[:space:]]+/); ok = 0
        for (j = 1; j <= n; j++) if (s[j] == want) ok = 1
        if (!ok) next
        split(uris, u, /[[:space:]]+/)
        if (key !~ /^\//) key = ""   # an inline key block cannot be reused as a file
        print u[1], key; exit
      }' "$f"
  done
}
if [[ -n ${FASTPAR_FT_MIRROR:-} ]]; then
  mirror=$FASTPAR_FT_MIRROR keyring=
else
  [[ -n $codename ]] && read -r mirror keyring < <(find_mirror | head -n1) || mirror=
  [[ -n ${mirror:-} ]] \
    || die "could not find this machine's Debian mirror in /etc/apt/sources.list or" \
           "/etc/apt/sources.list.d/*.sources (looked for an entry for suite '${codename:-?}')." \
           "Set FASTPAR_FT_MIRROR to a Debian mirror URI." "$HOW_TO_OVERRIDE"
fi

# --- fetch the source package with a private apt setup ---
# Only a deb-src line for $SUITE, and private lists/cache dirs: the machine's own apt
# configuration and state are left untouched. apt verifies the files against the signed
# Sources index, so the tarball is exactly Debian's (= upstream's, for the orig tarball).
work=$(mktemp -d "${TMPDIR:-/tmp}/fastpar-ft.XXXXXX")
CLEANUP+=("$work")
apt_dir=$work/apt
mkdir -p "$apt_dir"/{parts,lists/partial,cache/archives/partial} "$work/src"
printf 'deb-src %s %s %s main\n' "${keyring:+[signed-by=$keyring]}" "$mirror" "$SUITE" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/parts"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
)
# As root apt downloads as the unprivileged _apt user, which cannot write into our
# private (mode 700) temp dir; run the download as the caller instead.
[[ $(id -u) -ne 0 ]] || apt_opts+=(-o APT::Sandbox::User=root)

log "fetching $SRC_PACKAGE source from $mirror ($SUITE)"
# --error-on=any: without it a failed download is only a warning and the exit code is 0.
if ! apt-get "${apt_opts[@]}" -q update --error-on=any >>"$LOG" 2>&1; then
  tail -n 10 -- "$LOG"
  die "could not read the $SUITE source index from the Debian mirror $mirror" \
      "(no network access to it, or it has no '$SUITE' suite). Full log: $LOG." "$HOW_TO_OVERRIDE"
fi
if ! (cd "$work/src" && apt-get "${apt_opts[@]}" -q source --download-only "$SRC_PACKAGE") >>"$LOG" 2>&1; then
  tail -n 10 -- "$LOG"
  die "the source package $SRC_PACKAGE could not be downloaded from $mirror ($SUITE):" \
      "it is missing from that suite or the download failed. Full log: $LOG." "$HOW_TO_OVERRIDE"
fi

orig=$(compgen -G "$work/src/${SRC_PACKAGE}_*.orig.tar.*" | grep -v '\.asc$' | head -n1) \
  || die "no upstream (orig) tarball among the downloaded files of $SRC_PACKAGE."
version=${orig##*/"${SRC_PACKAGE}"_}
version=${version%%.orig.tar.*}
[[ $version =~ ^${WANT_SERIES//./\\.}\.[0-9]+$ ]] \
  || die "unexpected $SRC_PACKAGE upstream version '$version' in $SUITE (wanted $WANT_SERIES.x)."
debian_version=$(sed -n 's/^Version: //p' "$work"/src/*.dsc | head -n1)

final=$CACHE_ROOT/$version
py=$final/bin/python${WANT_SERIES}t

# --- build ---
log "building free-threaded CPython $version (Debian $debian_version); log: $LOG"
start=$SECONDS
tar -xf "$orig" -C "$work/src"
srcdir=$work/src/Python-$version
[[ -x $srcdir/configure ]] || die "the tarball $orig has no Python-$version/configure."
# --prefix is the final cache location (baked into pip's script shebangs and sysconfig);
# the install goes to a staging root via DESTDIR and is renamed into place afterwards.
# ensurepip=install puts the bundled pip wheel in during "make install" (offline).
cd "$srcdir"
log "configure"
run_logged "configure" ./configure --disable-gil --prefix="$final" --with-ensurepip=install
log "make -j$(nproc) (a few minutes)"
run_logged "make" make -j"$(nproc)"

# Stage inside the cache directory so the final rename stays on one filesystem (atomic).
# Stages left by a killed build are removed first; we hold the lock, so none is in use.
rm -rf -- "$CACHE_ROOT"/.stage-*
stage=$(mktemp -d "$CACHE_ROOT/.stage-$version.XXXXXX")
CLEANUP+=("$stage")
log "make install (staged)"
run_logged "make install" make install DESTDIR="$stage"

staged_py=$stage$py
reason=$(check_free_threaded "$staged_py" built 2>&1) \
  || die "the freshly built interpreter fails its check: $reason (log: $LOG)."

# Replace any leftover of an interrupted earlier build (no marker, so never used).
rm -rf -- "$final"
mv -T -- "$stage$final" "$final"
reason=$(check_free_threaded "$py" built 2>&1) \
  || die "the installed interpreter $py fails its check: $reason (log: $LOG)."
{
  echo "version=$version"
  echo "debian_source=$SRC_PACKAGE $debian_version ($SUITE)"
  echo "configure=--disable-gil --prefix=$final --with-ensurepip=install"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$final/$MARKER"

log "built and cached in $((SECONDS - start))s: $py"
echo "$py" >&3
