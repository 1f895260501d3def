# fastpar's entry points. `make demo` and `make test` do all the set-up
# (a virtual environment in .venv, the build, the dependencies) themselves.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# Warnings are errors in our own builds (not in users' `pip install .`).
STRICT := --config-settings=cmake.define.FASTPAR_WERROR=ON

.PHONY: demo test test-ft test-313 test-tsan test-c test-py check check-asan mutate wheels bench clean

# The CPython 3.13 lanes each have their own environment on an interpreter
# from scripts/cpython.sh (built once from source and cached, or named by
# FASTPAR_FT_PYTHON, FASTPAR_313_PYTHON, FASTPAR_TSAN_PYTHON).
# $(call cpython_venv,VARIANT,VENV) (re)creates VENV unless it already runs
# on that interpreter.
define cpython_venv
@py="$$(bash scripts/cpython.sh $(1))" || { \
  echo "make $@: no CPython 3.13 '$(1)' build (see the message above)" >&2; exit 1; }; \
if [ ! -x $(2)/bin/python ] || [ "$$($(2)/bin/python -c 'import sys; print(sys._base_executable)' 2>/dev/null)" != "$$py" ]; then \
  rm -rf $(2) && "$$py" -m venv $(2); fi
endef

# The free-threaded lane: a CPython 3.13t and .venv-ft.
FT_VENV ?= .venv-ft
FT_PY := $(FT_VENV)/bin/python
# Wheels only for NumPy, pandas and the compiled parts of matplotlib, and
# wheels preferred for the rest: the newest release of a package may have no
# cp313t wheel yet (contourpy, rpds-py for nbformat), and building it from
# source takes minutes or a Rust toolchain. Hypothesis too: its newest
# releases build a Rust extension where they have no wheel, while older ones
# are pure Python. TA-Lib has no cp313t wheel at all: the tests that need it
# skip there. Tornado (for ipykernel) ships only abi3 wheels, which a
# free-threaded build cannot use: pip builds it from source in seconds.
FT_DEPS := --prefer-binary \
	--only-binary numpy,pandas,pyarrow,matplotlib,contourpy,kiwisolver,pillow,pyzmq,psutil,hypothesis \
	"numpy>=2.1,<2.5" "pandas>=2.0" "pyarrow>=15" \
	"scikit-build-core>=0.10" cmake ninja "pytest>=8" "pytest-run-parallel>=0.4" "hypothesis>=6.100" \
	"nbclient>=0.10" "nbformat>=5.9" "ipykernel>=6.25" "matplotlib>=3.8" "psutil>=5.9" \
	"dask[distributed]>=2024.1"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=24.1"

demo: $(PY)
	$(PIP) install -q .
	$(PY) -m fastpar.demo

test: $(PY)
	$(PIP) install -q $(STRICT) ".[test]"
	$(MAKE) test-c
	$(MAKE) test-py

# The whole suite once, as the free-threading community runs it: every test
# in 4 threads at once (pytest-run-parallel), but those marked thread_unsafe
# (with the reason) or using fixtures the plugin knows to be unsafe
# (monkeypatch, capsys, ...), which run once, alone.
test-ft:
	$(call cpython_venv,ft,$(FT_VENV))
	$(FT_PY) -m pip --disable-pip-version-check install -q "pip>=24.1" $(FT_DEPS)
	$(FT_PY) -m pip --disable-pip-version-check install -q --no-build-isolation $(STRICT) .
	FASTPAR_EXPECT_FREE_THREADED=1 bash scripts/pytest.sh $(FT_PY) -q --parallel-threads=4

# The GIL build of the same CPython 3.13 source, so that the GIL lane runs on
# more than the machine's python3: .venv-313, the test dependencies as in
# `make test`, the same two runs.
PY313_VENV ?= .venv-313
PY313 := $(PY313_VENV)/bin/python

test-313:
	$(call cpython_venv,gil,$(PY313_VENV))
	$(PY313) -m pip --disable-pip-version-check install -q "pip>=24.1"
	$(PY313) -m pip --disable-pip-version-check install -q $(STRICT) ".[test]"
	$(MAKE) test-py PY=$(PY313)

# ThreadSanitizer on the Python side (docs/free-threading.md): a CPython 3.13t
# built with --with-thread-sanitizer, fastpar built with -fsanitize=thread
# into .venv-tsan, and the tests that run many threads at once, each in 4
# threads at once as in test-ft. Any report fails the run;
# tests/tsan-suppressions.txt lists the only ones allowed, CPython's and
# NumPy's own, each with its upstream issue. Not in CI: about 15 minutes on
# a fresh machine (the instrumented interpreter's build, then pip on it).
TSAN_VENV ?= .venv-tsan
TSAN_PY := $(TSAN_VENV)/bin/python
TSAN_DEPS := --only-binary :all: "numpy>=2.1,<2.5" "pandas>=2.0" tqdm "pytest>=8" \
	"pytest-run-parallel>=0.4" "scikit-build-core>=0.10" cmake ninja
TSAN_TESTS := tests/test_threads.py tests/test_stress.py tests/test_free_threading.py \
	tests/test_pool.py
# die_after_fork=0: by default TSan kills a child that starts threads after
# a fork of a multi-threaded process, since it cannot vouch for locks held by
# threads that vanished; test_pool_survives_fork forks with the pool's
# workers alive, and the child's new pool is what it tests (as the C pool
# driver does under TSan). Reports still fail the run.
TSAN_ENV := TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 die_after_fork=0 \
	suppressions=$(CURDIR)/tests/tsan-suppressions.txt"
# --no-compile: byte-compiling every installed module on the instrumented
# interpreter takes minutes; the tests compile the few they import.
TSAN_PIP := $(TSAN_ENV) $(TSAN_PY) -m pip --disable-pip-version-check install -q --no-compile

test-tsan:
	$(call cpython_venv,tsan,$(TSAN_VENV))
	$(TSAN_PIP) "pip>=24.1" $(TSAN_DEPS)
	$(TSAN_PIP) --no-build-isolation $(STRICT) --config-settings=cmake.define.FASTPAR_TSAN=ON \
	  -C build-dir=build/tsan .
	$(TSAN_ENV) FASTPAR_EXPECT_FREE_THREADED=1 bash scripts/pytest.sh $(TSAN_PY) -q --capture=sys \
	  --parallel-threads=4 $(TSAN_TESTS)

# The pure C pool and kernels from plain C drivers, normally and under
# ThreadSanitizer.
test-c:
	$(MAKE) -C tests/c all

# The whole suite, then the thread-stress subset again with every test run
# in 4 threads at once.
test-py:
	bash scripts/pytest.sh $(PY) -q
	bash scripts/pytest.sh $(PY) -q --parallel-threads=4 tests/test_threads.py tests/test_indicators.py

# Hardening (docs/reliability.md): every C driver under ASan+UBSan and under
# valgrind, the leak, property, fault and stress tests on the normal build,
# then the whole suite on an ASan+UBSan build of the extension in its own
# environment.
HARDENING_TESTS := tests/test_leaks.py tests/test_properties.py tests/test_faults.py \
	tests/test_stress.py

check: $(PY)
	$(PIP) install -q $(STRICT) ".[test]"
	$(MAKE) -C tests/c asan memcheck
	bash scripts/pytest.sh $(PY) -q $(HARDENING_TESTS)
	$(MAKE) check-asan

# The interpreter is not instrumented, so the sanitizer runtimes are
# preloaded. detect_leaks=0: CPython keeps objects alive at exit by design
# (the leak tests measure leaks instead); allocator_may_return_null=1: an
# impossible allocation gives NULL (MemoryError) as glibc's malloc does,
# instead of aborting the process.
ASAN_VENV ?= .venv-asan
ASAN_PY := $(ASAN_VENV)/bin/python
SAN_CC ?= gcc
SANITIZE := --config-settings=cmake.define.FASTPAR_SANITIZE=ON -C build-dir=build/asan
SAN_ENV = LD_PRELOAD="$$($(SAN_CC) -print-file-name=libasan.so) $$($(SAN_CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# --capture=sys: a sanitizer report is written to file descriptor 2 by a
# process about to exit, so it must not go to pytest's capture file.
# Left out under ASan, for reasons outside fastpar's code:
# - test_keep_freed_memory_on_glibc: ASan replaces malloc, and its mallopt()
#   is a stub that changes nothing and returns 0, so the call reports False.
ASAN_DESELECT := --deselect tests/test_allocator.py::test_keep_freed_memory_on_glibc

$(ASAN_PY):
	$(PYTHON) -m venv $(ASAN_VENV)
	$(ASAN_PY) -m pip --disable-pip-version-check install -q --upgrade "pip>=24.1"

check-asan: $(ASAN_PY)
	$(ASAN_PY) -m pip --disable-pip-version-check install -q $(STRICT) $(SANITIZE) ".[test]"
	$(SAN_ENV) $(ASAN_PY) -m pytest -q --capture=sys $(ASAN_DESELECT)

# Mutation testing (docs/reliability.md): every mutant of tests/mutants.toml,
# a plausible one-line bug, applied to a scratch copy of the sources, the
# extension rebuilt there and the tests that cover the file run against it;
# fails when fewer than 95% are caught or a survivor has no recorded reason.
mutate: $(PY)
	$(PIP) install -q $(STRICT) ".[test]"
	$(PY) scripts/mutate.py

# dist/: the sdist and a manylinux wheel for each interpreter the suite runs
# on (python3, CPython 3.13, CPython 3.13t), repaired by auditwheel, each
# installed into a fresh environment and smoke-tested (scripts/wheels.sh).
wheels:
	@pys="$$(bash scripts/cpython.sh gil ft)" || { \
	  echo "make wheels: no CPython 3.13 builds (see the message above)" >&2; exit 1; }; \
	bash scripts/wheels.sh $(PYTHON) $$pys

bench: $(PY)
	$(PIP) install -q ".[bench]"
	$(PY) benchmarks/run.py

clean:
	rm -rf build dist $(VENV) $(FT_VENV) $(PY313_VENV) $(TSAN_VENV) $(ASAN_VENV) .pytest_cache
