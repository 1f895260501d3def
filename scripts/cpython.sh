#!/usr/bin/env bash
# cpython.sh [VARIANT...] — print the absolute path of a CPython 3.13 of each VARIANT, one
# line each, in the order asked (default: ft).
#
#   ft    free-threaded (configure --disable-gil), python3.13t: `make test-ft`
#   gil   the default build, with the GIL, python3.13: `make test-313`
#   tsan  free-threaded and built with ThreadSanitizer (--disable-gil
#         --with-thread-sanitizer), python3.13t: `make test-tsan`
#
# fastpar is tested on builds that Debian does not ship and that cannot be downloaded
# prebuilt here. So, for each variant, in order of preference:
#
#   1. FASTPAR_FT_PYTHON, FASTPAR_313_PYTHON,   use that interpreter (checked, never built)
#      FASTPAR_TSAN_PYTHON=/path/to/python
#   2. a complete build in the cache            print it (instant)
#   3. otherwise                                build it from Debian's python3.13 source
#                                               package (pristine upstream tarball) and cache it
#
# The variants built in one run share one download and one extracted source tree (each is
# configured out of tree), so asking for several at once (`cpython.sh ft gil`) costs one
# download and one extraction, not one per variant.
#
# The paths are the only lines on stdout; everything else goes to stderr.
#
# Environment:
#   FASTPAR_FT_PYTHON, FASTPAR_313_PYTHON, FASTPAR_TSAN_PYTHON
#                          an existing interpreter of that variant, used instead of a build
#   FASTPAR_CPYTHON_CACHE  cache directory (default: ~/.cache/fastpar): one subdirectory per
#                          variant (cpython-3.13t, cpython-3.13, cpython-3.13t-tsan), in it
#                          one per exact CPython version, e.g. cpython-3.13t/3.13.5/
#   FASTPAR_CPYTHON_SUITE  Debian suite to take the source from (default: trixie)
#   FASTPAR_CPYTHON_MIRROR Debian mirror URI (default: the one this machine's apt uses)
#
# To force a rebuild, delete a variant's cache directory.
set -euo pipefail

# Keep stdout for the result only: all output, ours and that of the tools we call, goes
# to stderr, so callers can do PY=$(scripts/cpython.sh) safely.
exec 3>&1 1>&2

readonly ROOT="${FASTPAR_CPYTHON_CACHE:-$HOME/.cache/fastpar}"
readonly SUITE="${FASTPAR_CPYTHON_SUITE:-trixie}"
readonly SRC_PACKAGE=python3.13   # Debian source package; its orig tarball is upstream's release
readonly WANT_SERIES=3.13         # the version fastpar is tested on besides the machine's own
readonly MARKER=.fastpar-complete # written only once a build is installed AND checked

# The variants: configure options, interpreter name, cache subdirectory, and the variable
# naming an existing interpreter to use instead. The options common to all of them are in
# build_variant.
readonly ALL_VARIANTS=(ft gil tsan)
declare -rA CONFIGURE=([ft]="--disable-gil" [gil]="" [tsan]="--disable-gil --with-thread-sanitizer")
declare -rA EXE=([ft]=python3.13t [gil]=python3.13 [tsan]=python3.13t)
declare -rA CACHE_DIR=([ft]=cpython-3.13t [gil]=cpython-3.13 [tsan]=cpython-3.13t-tsan)
declare -rA OVERRIDE=([ft]=FASTPAR_FT_PYTHON [gil]=FASTPAR_313_PYTHON [tsan]=FASTPAR_TSAN_PYTHON)
declare -rA DESCRIPTION=(
  [ft]="a free-threaded CPython 3.13 (configure --disable-gil, usually named python3.13t)"
  [gil]="a CPython 3.13 with the GIL (the default build)"
  [tsan]="a free-threaded CPython 3.13 built with ThreadSanitizer (--disable-gil --with-thread-sanitizer)"
)

# Debian packages needed to build CPython with the stdlib modules fastpar's tests use
# (ssl for pip, zlib/bz2/lzma for wheels and archives, ctypes via libffi, sqlite3,
# readline/curses for an interactive shell, uuid); build-essential brings gcc's
# ThreadSanitizer runtime too. The single place to change them.
readonly BUILD_DEPS=(
  build-essential pkg-config xz-utils
  zlib1g-dev libssl-dev libffi-dev libbz2-dev liblzma-dev
  libsqlite3-dev libreadline-dev libncurses-dev uuid-dev
)

log() { printf 'cpython: %s\n' "$*"; }
# die LINE...: the first line is the error, further lines say what to do about it.
die() {
  printf 'cpython: error: %s\n' "$1"
  shift
  (($#)) && printf '         %s\n' "$@"
  exit 1
}
how_to_override() { echo "Alternatively, point ${OVERRIDE[$1]} at ${DESCRIPTION[$1]}."; }

(($#)) || set -- ft
for v in "$@"; do
  [[ -n ${CONFIGURE[$v]+set} ]] || die "unknown variant '$v' (known: ${ALL_VARIANTS[*]})."
done

# Clean up temporary directories on any exit, including failures and Ctrl-C.
CLEANUP=()
cleanup() { local d; for d in "${CLEANUP[@]+"${CLEANUP[@]}"}"; do rm -rf -- "$d"; done; }
trap cleanup EXIT

# The ThreadSanitizer build reports races of CPython's own that are known upstream; its
# checks here run with the suppressions `make test-tsan` uses.
TSAN_SUPPRESSIONS="$(cd -- "$(dirname -- "$0")/.." && pwd)/tests/tsan-suppressions.txt"

# check_python VARIANT PYTHON MODE
# Fails (with the reason on stderr) unless PYTHON runs, is 3.13+ and is a build of VARIANT.
# MODE "given" (an interpreter named by the caller) stops there. MODE "cached" also
# requires the GIL to be on or off at run time as the variant says, and pip to be present
# (fast: ~30 ms, run on every cache hit). MODE "built" (once, before a build is marked
# complete) further runs pip and imports the compiled stdlib modules pip and the tests need,
# so a build that silently lacked e.g. ssl is never cached. -I keeps the user's PYTHON*
# variables (e.g. PYTHON_GIL=1) out of it.
check_python() {
  local variant=$1 py=$2 mode=$3
  local -x TSAN_OPTIONS="suppressions=$TSAN_SUPPRESSIONS ${TSAN_OPTIONS:-}"
  "$py" -I - "$variant" "$mode" <<'EOF' || return 1
import sys, sysconfig
variant, mode = sys.argv[1:]
v = sys.version.split()[0]
if sys.version_info < (3, 13):
    sys.exit(f"it is Python {v}; 3.13 or newer is needed")
free_threaded = sysconfig.get_config_var("Py_GIL_DISABLED") == 1
if variant == "gil" and free_threaded:
    sys.exit(f"it is Python {v} built without the GIL (Py_GIL_DISABLED is 1); "
             "the default build, with the GIL, is needed")
if variant != "gil" and not free_threaded:
    sys.exit(f"it is Python {v} built with the GIL (Py_GIL_DISABLED is not 1); a free-threaded "
             "build (configure --disable-gil, usually named python3.13t) is needed")
flags = " ".join(str(sysconfig.get_config_var(k) or "") for k in ("CONFIG_ARGS", "PY_CFLAGS"))
tsan = "--with-thread-sanitizer" in flags or "-fsanitize=thread" in flags
if variant == "tsan" and not tsan:
    sys.exit(f"it is Python {v} built without ThreadSanitizer (configure --with-thread-sanitizer)")
if variant != "tsan" and tsan:
    sys.exit(f"it is Python {v} built with ThreadSanitizer, which only the tsan variant wants")
if mode != "given":
    import importlib.util
    if sys._is_gil_enabled() != (variant == "gil"):
        sys.exit("the GIL is " + ("off" if variant == "gil" else "enabled") + " at run time")
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

# find_cached VARIANT: the interpreter of the newest version directory in the variant's
# cache that holds the completion marker. The marker is only written after install and
# checks succeeded, so a directory without it is debris from an interrupted build.
find_cached() {
  local d best= exe=${EXE[$1]}
  for d in "$ROOT/${CACHE_DIR[$1]}"/"$WANT_SERIES".*/; do
    [[ -f $d$MARKER && -x ${d}bin/$exe ]] || continue
    best=$(printf '%s\n%s\n' "$best" "${d%/}" | sed '/^$/d' | sort -V | tail -n1)
  done
  [[ -n $best ]] && printf '%s\n' "$best/bin/$exe"
}

# resolve VARIANT: RESULT[VARIANT] from the caller's interpreter or from the cache;
# returns 1 if the variant must be built.
declare -A RESULT=()
resolve() {
  local variant=$1 var=${OVERRIDE[$1]} py reason
  if [[ -n ${!var:-} ]]; then
    # An interpreter given by the caller: check it, never build.
    py=$(abspath "${!var}") && [[ -x $py ]] \
      || die "$var=${!var}: no such executable." \
             "Unset it to have this script build ${DESCRIPTION[$variant]}, or point it at one."
    reason=$(check_python "$variant" "$py" given 2>&1) \
      || die "$var=${!var} is not usable: ${reason:-it does not run}." \
             "Unset it to have this script build ${DESCRIPTION[$variant]}, or point it at one."
    RESULT[$variant]=$py
    return 0
  fi
  if py=$(find_cached "$variant"); then
    # A quick re-check (tens of ms) catches a cache broken after the fact.
    if reason=$(check_python "$variant" "$py" cached 2>&1); then
      RESULT[$variant]=$py
      return 0
    fi
    log "cached interpreter $py fails its check ($reason); rebuilding"
    rm -f -- "${py%/bin/*}/$MARKER"
  fi
  return 1
}

# need_build: the asked-for variants that neither a given interpreter nor the cache
# provides, in the fixed order of ALL_VARIANTS.
need_build() {
  local v
  to_build=()
  for v in "${ALL_VARIANTS[@]}"; do
    [[ " $* " == *" $v "* ]] || continue
    resolve "$v" || to_build+=("$v")
  done
}

finish() {
  local v
  for v in "$@"; do echo "${RESULT[$v]}" >&3; done
  exit 0
}

# ---------------------------------------------------------------------------------------
# 1 and 2. Given interpreters and the cache.
need_build "$@"
((${#to_build[@]})) || finish "$@"

# ---------------------------------------------------------------------------------------
# 3. Build. One build at a time per variant's cache: a second concurrent caller waits,
# then uses the first one's result. Locks are taken in the order of ALL_VARIANTS.
for v in "${to_build[@]}"; do
  mkdir -p -- "$ROOT/${CACHE_DIR[$v]}"
  exec {fd}>"$ROOT/${CACHE_DIR[$v]}/.lock"
  if ! flock -n "$fd"; then
    log "another build is running in $ROOT/${CACHE_DIR[$v]}; waiting for it"
    flock "$fd"
  fi
done
need_build "${to_build[@]}"   # another run may have built some meanwhile
((${#to_build[@]})) || finish "$@"

command -v apt-get >/dev/null \
  || die "no ${to_build[*]} CPython cached in $ROOT, and apt-get is missing, so it cannot be" \
         "fetched and built here (this script builds from Debian's source package)." \
         "$(how_to_override "${to_build[0]}")"

# Kept after the run, so a failure can be read in full; one per set of variants, so that
# runs building other variants at the same time write logs of their own.
LOG="$ROOT/build-$(IFS=-; echo "${to_build[*]}").log"
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
        "Install them as root (apt-get install ${missing[*]}) and run again." \
        "$(how_to_override "${to_build[0]}")"
  fi
  log "installing build dependencies: ${missing[*]}"
  if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
           apt-get install -y -q --no-install-recommends "${missing[@]}"; } >>"$LOG" 2>&1; then
    tail -n 20 -- "$LOG"
    die "could not install build dependencies: ${missing[*]} (full log: $LOG)." \
        "Install them (apt-get install ${missing[*]}) and run again." \
        "$(how_to_override "${to_build[0]}")"
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
if [[ -n ${FASTPAR_CPYTHON_MIRROR:-} ]]; then
  mirror=$FASTPAR_CPYTHON_MIRROR keyring=
else
  [[ -n $codename ]] && read -r mirror keyring < <(find_mirror | head -n1) || mirror=
  [[ -n ${mirror:-} ]] \
    || die "could not find this machine's Debian mirror in /etc/apt/sources.list or" \
           "/etc/apt/sources.list.d/*.sources (looked for an entry for suite '${codename:-?}')." \
           "Set FASTPAR_CPYTHON_MIRROR to a Debian mirror URI." "$(how_to_override "${to_build[0]}")"
fi

# --- fetch the source package with a private apt setup ---
# Only a deb-src line for $SUITE, and private lists/cache dirs: the machine's own apt
# configuration and state are left untouched. apt verifies the files against the signed
# Sources index, so the tarball is exactly Debian's (= upstream's, for the orig tarball).
work=$(mktemp -d "${TMPDIR:-/tmp}/fastpar-cpython.XXXXXX")
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
      "(no network access to it, or it has no '$SUITE' suite). Full log: $LOG." \
      "$(how_to_override "${to_build[0]}")"
fi
if ! (cd "$work/src" && apt-get "${apt_opts[@]}" -q source --download-only "$SRC_PACKAGE") >>"$LOG" 2>&1; then
  tail -n 10 -- "$LOG"
  die "the source package $SRC_PACKAGE could not be downloaded from $mirror ($SUITE):" \
      "it is missing from that suite or the download failed. Full log: $LOG." \
      "$(how_to_override "${to_build[0]}")"
fi

orig=$(compgen -G "$work/src/${SRC_PACKAGE}_*.orig.tar.*" | grep -v '\.asc$' | head -n1) \
  || die "no upstream (orig) tarball among the downloaded files of $SRC_PACKAGE."
version=${orig##*/"${SRC_PACKAGE}"_}
version=${version%%.orig.tar.*}
[[ $version =~ ^${WANT_SERIES//./\\.}\.[0-9]+$ ]] \
  || die "unexpected $SRC_PACKAGE upstream version '$version' in $SUITE (wanted $WANT_SERIES.x)."
debian_version=$(sed -n 's/^Version: //p' "$work"/src/*.dsc | head -n1)

# --- build ---
# One extracted tree, left unconfigured: every variant is configured and built in a
# directory of its own (CPython supports such out-of-tree builds).
tar -xf "$orig" -C "$work/src"
srcdir=$work/src/Python-$version
[[ -x $srcdir/configure ]] || die "the tarball $orig has no Python-$version/configure."

# build_variant VARIANT: configure, make, install, check and cache one variant.
build_variant() {
  local variant=$1 start=$SECONDS
  local cache=$ROOT/${CACHE_DIR[$variant]}
  local final=$cache/$version
  local py=$final/bin/${EXE[$variant]} builddir=$work/build-$variant stage reason
  # --prefix is the final cache location (baked into pip's script shebangs and sysconfig);
  # the install goes to a staging root via DESTDIR and is renamed into place afterwards.
  # ensurepip=install puts the bundled pip wheel in during "make install" (offline).
  # --disable-test-modules: CPython's own test suite and test extensions are not needed
  # here, and compiling and installing them is a good part of a build's time.
  # shellcheck disable=SC2206  # the variant's options are words on purpose
  local options=(${CONFIGURE[$variant]} --prefix="$final" --with-ensurepip=install
                 --disable-test-modules)
  log "$variant: building CPython $version (Debian $debian_version): configure ${options[*]}"
  mkdir -p -- "$builddir"
  cd -- "$builddir"
  run_logged "$variant: configure" "$srcdir/configure" "${options[@]}"
  log "$variant: make -j$(nproc) (a few minutes)"
  run_logged "$variant: make" make -j"$(nproc)"

  # Stage inside the cache directory so the final rename stays on one filesystem
  # (atomic). Stages left by a killed build are removed first; we hold the lock, so none
  # is in use.
  rm -rf -- "$cache"/.stage-*
  stage=$(mktemp -d "$cache/.stage-$version.XXXXXX")
  CLEANUP+=("$stage")
  log "$variant: make install (staged)"
  run_logged "$variant: make install" make install DESTDIR="$stage"
  reason=$(check_python "$variant" "$stage$py" built 2>&1) \
    || die "$variant: the freshly built interpreter fails its check: $reason (log: $LOG)."

  # Replace any leftover of an interrupted earlier build (no marker, so never used).
  rm -rf -- "$final"
  mv -T -- "$stage$final" "$final"
  reason=$(check_python "$variant" "$py" built 2>&1) \
    || die "$variant: the installed interpreter $py fails its check: $reason (log: $LOG)."
  {
    echo "version=$version"
    echo "debian_source=$SRC_PACKAGE $debian_version ($SUITE)"
    echo "configure=${options[*]}"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$final/$MARKER"
  log "$variant: built and cached in $((SECONDS - start))s: $py"
  RESULT[$variant]=$py
}

for v in "${to_build[@]}"; do build_variant "$v"; done
finish "$@"
