# Two entry points (see README): `make demo` and `make test`.
# Both create .venv and install the project into it on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench docs clean

# editable_mode=compat: a plain path in a .pth file, not setuptools' import
# finder, which every process (every `tract` command) paid ~20 ms to load
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]' \
		--config-settings editable_mode=compat
	touch $(STAMP)

# byte-compile first: with PYTHONDONTWRITEBYTECODE set (as on some
# machines) every `tract` process would otherwise recompile the package
demo: $(STAMP)
	@$(BIN)/python -m compileall -q tract_git
	$(BIN)/python -m tract_git.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python bench/run.py

# regenerate man/tract-<cmd>.1, the generated parts of man/tract.1, docs/cli.md,
# and the real output shown in README.md and tract-format(5)
docs: $(STAMP)
	$(BIN)/python -m tract_git.docgen man/ --transcripts README.md man/tract-format.5

clean:
	rm -rf $(VENV) build *.egg-info
