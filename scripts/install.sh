#!/usr/bin/env bash
# Create .venv and install social-dilemmas with the extras given as $1 (e.g. "dev,sb3,viz").
# Torch is installed first so pip never pulls the multi-GB CUDA build onto a CPU machine:
#   - a torch already importable in the venv is kept;
#   - on a machine without an NVIDIA driver we take torch 2.13.0 from local wheels
#     (pip's find-links) when present, else the official CPU wheel index;
#   - on a machine with an NVIDIA driver, the regular (CUDA) build from PyPI.
set -euo pipefail
extras="${1:-dev}"
venv="${VENV:-.venv}"
python="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check)
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    "${pip[@]}" "torch>=2.1"
  elif "${pip[@]}" --no-index --no-deps "torch==2.13.0" 2>/dev/null; then
    # torch's own dependencies come from the index; torch itself is already satisfied.
    "${pip[@]}" "torch==2.13.0"
    echo "installed torch 2.13.0 (CPU) from local wheels"
  else
    "${pip[@]}" "torch>=2.1" --index-url https://download.pytorch.org/whl/cpu
  fi
fi
"${pip[@]}" -e ".[${extras}]"
