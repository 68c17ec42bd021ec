# Every target bootstraps .venv on first use: a fresh machine needs only Python 3.11+ and make.
# The venv gets exactly the versions in requirements/dev.txt (hash-checked), then the project
# itself with --no-deps. `make lock` refreshes the lock files from pyproject.toml's ranges.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The lock tool, pinned so two runs over the same index write the same files.
UV_VERSION := 0.13.9
# A lock for every platform and Python the project supports, not just this machine's.
COMPILE := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock'

.PHONY: demo run shell test lint bench lock clean

$(STAMP): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cycles demo

run: $(STAMP)
	$(BIN)/cycles run

shell: $(STAMP)
	$(BIN)/cycles shell

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n 4 --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench

# run.txt: what the image installs; build.txt: the build backend; dev.txt: run.txt plus the
# tests' and linters' tools, at the same versions. Run it after changing any dependency range.
lock:
	test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\n')" > requirements/build.in
	$(COMPILE) requirements/build.in -o requirements/build.txt
	$(COMPILE) pyproject.toml -o requirements/run.txt
	$(COMPILE) pyproject.toml --extra dev -c requirements/run.txt -c requirements/build.txt \
		-o requirements/dev.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .grimp_cache .import_linter_cache
