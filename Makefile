# reelforge: the two commands a newcomer needs are `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup demo test schema bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@mkdir -p out
	@$(PY) -m reelforge validate --estimate templates/demo.json
	@$(PY) -m reelforge render templates/demo.json -o out/demo.mp4

test: setup
	@$(PY) -m pytest -q

schema: setup
	@$(PY) -m reelforge schema --write

bench: setup
	@$(PY) -m bench

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
