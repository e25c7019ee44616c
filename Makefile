# Two entry points for a fresh machine: `make run` and `make test`. Both set up .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
Q ?= What sanctions did the UK impose on Xinjiang officials?

.PHONY: setup run ask test eval bench bench-incremental bench-scale loadtest clean

setup: $(VENV)/.installed

# torch is pinned to the local CPU build first: a bare `torch` requirement would pull CUDA wheels.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[offline,test]"
	touch $@

# The chat page on the bundled seeds; Gradio prints the local URL (http://127.0.0.1:7860).
run: setup
	$(PY) app.py

ask: setup
	$(VENV)/bin/rag ask "$(Q)"

test: setup
	$(PY) -m pytest

# SQuAD-open evaluation (about 20 minutes on 2 cores, index build included): make eval SQUAD=dev-v1.1.json
SQUAD ?=
eval: setup
	@test -n "$(SQUAD)" || { echo "make eval: name the SQuAD v1.1 dev file: make eval SQUAD=PATH/dev-v1.1.json" >&2; exit 2; }
	$(VENV)/bin/rag eval $(SQUAD) --plot docs/squad-recall.png

bench: setup
	$(PY) benchmarks/bench_core.py

bench-incremental: setup
	$(PY) benchmarks/bench_incremental.py $(if $(SQUAD),--squad $(SQUAD))

bench-scale: setup
	$(PY) benchmarks/bench_scale.py $(if $(SQUAD),--squad $(SQUAD))

loadtest: setup
	$(PY) benchmarks/load_test.py

clean:
	rm -rf $(VENV) .pytest_cache
