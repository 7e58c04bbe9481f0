# One command for the main job, one for the tests (see README).
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev,sb3,viz,docs,axelrod

.PHONY: install demo test test-slow lint docs figures bench references clean

$(VENV)/.installed: pyproject.toml scripts/install.sh
	VENV=$(VENV) bash scripts/install.sh $(EXTRAS)
	touch $@

install: $(VENV)/.installed

## The main job on a fresh machine: an IPD match and a throughput figure, then a short
## COALA-PPO run against naive learners that shows extortion on a CPU (a few minutes).
DEMO_RUN ?= runs/demo-coala-ipd
demo: install
	$(PY) -m social_dilemmas.cli demo
	$(PY) -m social_dilemmas.cli train coala --preset ipd-shaping-quick --iterations 60 --torch-threads 1 \
		--run-dir $(DEMO_RUN) --overwrite
	$(PY) -m social_dilemmas.cli eval $(DEMO_RUN) --against naive

## The default test suite (slow learning checks excluded; run them with `make test-slow`).
test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 -q

test-slow: install
	$(PY) -m pytest -m slow -q

lint: install
	$(VENV)/bin/ruff check .

## The documentation site (site/); the generated pages are made by the build itself (docs/gen_pages.py hook).
docs: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

## Maintainers: rewrite the figures the docs show (full settings; see `social-dilemmas reproduce --help`).
figures: install
	for f in fig3a fig3b fig3c fig4; do $(PY) -m social_dilemmas.cli reproduce $$f --docs || exit 1; done

bench: install
	$(PY) -m social_dilemmas.cli bench IPD-v0 --batch 1,64,1024,8192,65536 --device cpu

## Train the benchmark's reference agents from the ipd-shaping-quick preset and record their scores
## (social_dilemmas/benchmark/reference_agents/, package data; about 10 minutes on a 2-core CPU).
references: install
	nice -n 10 $(PY) -m social_dilemmas.benchmark.train_references --iterations 100 --seeds 16 --overwrite

clean:
	rm -rf $(VENV) site .pytest_cache .ruff_cache
