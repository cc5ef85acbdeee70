#!/usr/bin/env bash
# Build the llama.cpp reference (llama-cpp-python, from its sdist) once, into a cache folder that
# benchmarks/local_inference.py finds. Opt-in (`make bench-reference`), never part of `make test`:
# about 10 minutes on 2 cores. No usable prebuilt wheel exists here (see the offline-stack guide).
#
#   benchmarks/reference.sh [PYTHON]      # PYTHON defaults to .venv/bin/python
#
# Target: $LLMCOURSE_LLAMA_CPP, else <cache>/llama-cpp (cache: $LLMCOURSE_CACHE, else ~/.cache/llmcourse).
# Installed with --target and --no-deps beside the course's venv (its numpy and jinja2 serve), plus
# diskcache (pure Python), so the venv itself is not changed.
set -euo pipefail
VERSION=0.3.36
PY="${1:-.venv/bin/python}"
CACHE="${LLMCOURSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llmcourse}"
TARGET="${LLMCOURSE_LLAMA_CPP:-$CACHE/llama-cpp}"
if [ -f "$TARGET/.built-$VERSION" ]; then
    echo "llama-cpp-python $VERSION is already built in $TARGET"; exit 0
fi
command -v cmake >/dev/null || { echo "cmake is missing: install it (apt-get install cmake) and rerun."; exit 1; }
TMP="$TARGET.tmp-$$"
rm -rf "$TMP"
trap 'rm -rf "$TMP"' EXIT
echo "Building llama-cpp-python $VERSION from its sdist into $TARGET (about 10 min on 2 cores)..."
# CPU only, native SIMD of this machine; no server/examples/tests to build
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF}" \
CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$PY" -m pip install --no-binary llama-cpp-python --no-deps --target "$TMP" \
        "llama-cpp-python==$VERSION" "diskcache==5.6.3"
touch "$TMP/.built-$VERSION"
rm -rf "$TARGET"
mv "$TMP" "$TARGET"
trap - EXIT
echo "Done: $TARGET"
