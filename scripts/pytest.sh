#!/usr/bin/env bash
# pytest.sh PYTHON [PYTEST ARGS...] — run PYTHON -m pytest with those arguments.
#
# A crash (SIGSEGV, SIGBUS, an abort) kills pytest before it can report which
# test was running, and the interpreter's dump of every thread's stack is long
# enough that a cut log loses the test's frame. So each test's id is written to
# a file as it starts (tests/conftest.py), and if pytest dies of a signal that
# id is printed last.
set -uo pipefail
py=$1
shift
started=$(mktemp)
trap 'rm -f "$started"' EXIT
FASTPAR_TEST_STARTED=$started "$py" -m pytest "$@"
rc=$?
if ((rc > 128)); then
  echo "pytest died of signal $((rc - 128)) ($(kill -l $((rc - 128)))) during: $(cat "$started")" >&2
fi
exit "$rc"
