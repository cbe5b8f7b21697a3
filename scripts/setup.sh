#!/usr/bin/env bash
# One-shot setup for a fresh machine: virtualenv, CPU torch, llama-cpp-python built with
# flags that work on our CPUs, the package itself, and the default models.
#
#   scripts/setup.sh           # runtime setup
#   scripts/setup.sh --test    # also the test extras, Debian chromium (browser tests) and a
#                              # portable (AVX2) llama-cpp-python in .llama-portable/
#
# Idempotent: every step checks first and skips, so a second run takes seconds.
# Models go to $RAG_HOME (default ~/.cache/rag), outside the repository.
#
# Notes
# - torch: a CPU build of torch 2.13.0 sits in the machines' local wheel folder (pip's
#   configured find-links), so `pip install torch==2.13.0` takes it in seconds. It must be
#   installed before sentence-transformers, or pip pulls a multi-GB CUDA build.
# - llama-cpp-python ships only a source package for Linux. Its default build uses
#   -march=native, which enables ggml's AMX kernels; on our CPUs (which advertise AMX) every
#   model then segfaults on its first decode. So: GGML_NATIVE=OFF, the portable AVX2 set, the
#   AVX-512 family only where /proc/cpuinfo lists it, never AMX, and no BLAS (slower here).
# - pip caches the built llama-cpp-python wheel keyed by version, not by CMAKE_ARGS: a later
#   venv on the same machine reuses it in seconds, even if it was built with other flags. On the
#   same machine that is fine (same CPU). To force a rebuild with the current flags:
#     .venv/bin/pip install --force-reinstall --no-cache-dir --no-binary llama-cpp-python \
#         "llama-cpp-python==0.3.36"   (with CMAKE_ARGS exported as below)
set -euo pipefail

TORCH_VERSION=2.13.0
LLAMA_CPP_VERSION=0.3.36

WITH_TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) WITH_TEST=1 ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "[setup] unknown argument: $arg (usage: scripts/setup.sh [--test])" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
START=$SECONDS

log() { echo "[setup] $*"; }
die() { echo "[setup] ERROR: $*" >&2; exit 1; }

# pip, minus the harmless warnings about local index locations that do not hold a package.
pipq() {
    "$PY" -m pip --disable-pip-version-check "$@" 2>&1 \
        | { grep -v -e "is ignored: it is neither a file nor a directory" || true; }
}

# Installed version of a distribution, or empty (cheap: no import of the package).
dist_version() {
    "$PY" - "$1" <<'EOF' 2>/dev/null || true
import sys
from importlib.metadata import PackageNotFoundError, version
try:
    print(version(sys.argv[1]))
except PackageNotFoundError:
    pass
EOF
}

# --- 1. virtualenv ---------------------------------------------------------------------------
if [[ ! -x "$PY" ]]; then
    log "creating virtualenv in $VENV"
    python3 -m venv "$VENV" \
        || die "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
fi
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "Python >= 3.10 is required; $PY is $("$PY" -V 2>&1)"
pip_version="$(dist_version pip)"
if [[ -z "$pip_version" || "${pip_version%%.*}" -lt 23 ]]; then
    log "upgrading pip (found ${pip_version:-none})"
    pipq install -q --upgrade "pip>=23"
fi

# --- 2. CPU torch ----------------------------------------------------------------------------
torch_version="$(dist_version torch)"
if [[ "${torch_version%%+*}" == "$TORCH_VERSION" ]]; then
    log "torch $torch_version already installed"
else
    log "installing torch==$TORCH_VERSION (CPU build from the local wheel folder)"
    if ! pipq install -q "torch==$TORCH_VERSION"; then
        die "could not install torch==$TORCH_VERSION. This setup expects pip's configured
  find-links to hold the CPU wheel (torch-$TORCH_VERSION+cpu); check 'pip config list' and
  that the wheel folder is present, then re-run scripts/setup.sh."
    fi
fi

# --- 3. llama-cpp-python, built from source with safe CPU flags -------------------------------
llama_version="$(dist_version llama-cpp-python)"
if [[ "$llama_version" == "$LLAMA_CPP_VERSION" ]] \
        && "$PY" -c 'import llama_cpp' >/dev/null 2>&1; then
    log "llama-cpp-python $llama_version already installed"
else
    cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
    has() { [[ "$cpu_flags" == *" $1 "* ]]; }
    cmake_args="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
    has avx512f && cmake_args+=" -DGGML_AVX512=ON"
    # (Linux spells this one "avx512vbmi"; accept the underscored form too.)
    { has avx512vbmi || has avx512_vbmi; } && cmake_args+=" -DGGML_AVX512_VBMI=ON"
    has avx512_vnni && cmake_args+=" -DGGML_AVX512_VNNI=ON"
    has avx512_bf16 && cmake_args+=" -DGGML_AVX512_BF16=ON"
    has avx_vnni && cmake_args+=" -DGGML_AVX_VNNI=ON"
    cmake_args+=" -DGGML_BLAS=OFF"   # never AMX; OpenBLAS is slower here
    export CMAKE_ARGS="$cmake_args"
    export CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}"
    log "installing llama-cpp-python==$LLAMA_CPP_VERSION from source"
    log "  CMAKE_ARGS=$CMAKE_ARGS"
    log "  compiling takes about 5 minutes on 2 cores (seconds if pip has the wheel cached)"
    pipq install -q --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_VERSION" \
        || die "building llama-cpp-python failed (it needs a C/C++ compiler and cmake:
  apt-get install build-essential cmake); see the pip output above"
    "$PY" -c 'import llama_cpp' || die "llama-cpp-python installed but does not import"
fi

# --- 4. the package itself (editable) ---------------------------------------------------------
extras=""
[[ $WITH_TEST == 1 ]] && extras="[test]"
stamp="$VENV/.rag-installed"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1) $ROOT"
have="$(cat "$stamp" 2>/dev/null || true)"
# The stamp is "<pyproject+constraints sha> <repo root> <extras>"; an install with [test] covers
# one without. Versions are pinned by constraints.txt (refreshed by scripts/lock.sh).
if [[ -x "$VENV/bin/rag" && ( "$have" == "$want [test]" || "$have" == "$want $extras" ) ]]; then
    log "rag${extras} already installed (pyproject.toml unchanged)"
else
    log "installing rag${extras} in editable mode with its dependencies"
    pipq install -q -e ".$extras" -c constraints.txt || die "pip install -e .$extras failed; see above"
    echo "$want $extras" > "$stamp"
fi

# --- 5. default models ------------------------------------------------------------------------
log "checking the default models in ${RAG_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/rag} (the first time: a 2.3 GB download)"
"$VENV/bin/rag" models fetch || die "preparing the models failed; see above"
# Where RAG_EMBED_BACKEND=auto picks an int8 ONNX copy of the embedder for this CPU (VNNI, or
# no bf16: rag.backends.choose_backend), make it: faster than torch there, and a new process
# need not import torch. A CPU with bf16 but no VNNI keeps torch in bf16.
if "$VENV/bin/python" -c "import sys; from rag.backends import choose_backend; \
sys.exit(choose_backend('auto') == 'torch')"; then
    log "the embedder's int8 ONNX copy for this CPU (made once: a few minutes)"
    "$VENV/bin/python" -m rag.onnx_build \
        || log "NOTE: the int8 copy could not be made; the embedder will run on torch (slower)"
fi

# --- 6. test extras: chromium for the browser tests --------------------------------------------
if [[ $WITH_TEST == 1 ]]; then
    # Playwright must use Debian's /usr/bin/chromium; never run `playwright install`.
    if command -v chromium >/dev/null 2>&1; then
        log "chromium already installed ($(command -v chromium))"
    elif [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "installing Debian chromium for the browser tests"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        log "NOTE: chromium is missing; the browser tests will be skipped."
        log "      Install it as root with: apt-get install chromium"
    fi
fi

# --- 7. test extras: a portable (AVX2-only) llama-cpp-python in .llama-portable/ ----------------
# The end-to-end tests run again on it (PYTHONPATH=.llama-portable, tests/test_portable_build.py):
# no answer may depend on the CPU's instruction set. Where the main build already is the portable
# one (a CPU without AVX-512), it is copied rather than compiled again.
if [[ $WITH_TEST == 1 ]]; then
    PORTABLE="$ROOT/.llama-portable"
    if [[ -d "$PORTABLE/llama_cpp_python-$LLAMA_CPP_VERSION.dist-info" ]] \
            && PYTHONPATH="$PORTABLE" "$PY" -c 'import llama_cpp' >/dev/null 2>&1; then
        log "portable llama-cpp-python $LLAMA_CPP_VERSION already in .llama-portable/"
    else
        rm -rf "$PORTABLE.tmp"
        main_build="$("$PY" -c 'import llama_cpp as l; i = l.llama_print_system_info().decode()
print("native" if any(f.strip().startswith(("AVX512", "AVX_VNNI", "AMX")) and f.strip().endswith("= 1")
                      for f in i.split("|")) else "portable")')"
        if [[ "$main_build" == "portable" ]]; then
            log "copying the main llama-cpp-python build (already portable) to .llama-portable/"
            site="$("$PY" -c 'import llama_cpp, os; print(os.path.dirname(os.path.dirname(llama_cpp.__file__)))')"
            mkdir -p "$PORTABLE.tmp"
            cp -r "$site/llama_cpp" "$site/llama_cpp_python-$LLAMA_CPP_VERSION.dist-info" "$PORTABLE.tmp/"
        else
            log "building a portable (AVX2) llama-cpp-python==$LLAMA_CPP_VERSION into .llama-portable/ (about 5 minutes)"
            CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_BLAS=OFF" \
            CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
                pipq install -q --no-cache-dir --no-deps --no-binary llama-cpp-python \
                    --target "$PORTABLE.tmp" "llama-cpp-python==$LLAMA_CPP_VERSION" \
                || die "building the portable llama-cpp-python failed; see the pip output above"
        fi
        rm -rf "$PORTABLE" && mv "$PORTABLE.tmp" "$PORTABLE"
        PYTHONPATH="$PORTABLE" "$PY" -c 'import llama_cpp' \
            || die "the portable llama-cpp-python in .llama-portable/ does not import"
    fi
fi

log "done in $((SECONDS - START))s. Try: .venv/bin/rag --help"
