# Sourced by the benchmark scripts: the peer's virtual environment and our release build.
VENV=bench/.venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check galpy==1.12.1 numpy scipy
cargo build --release --quiet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# PyTorch for bench/train.sh, pinned; called by the scripts that need it. Only PyPI is reached
# from our machines and its Linux wheel is the CUDA build (about 5 GB with its nvidia-*
# dependencies), which runs on the CPU as well. TORCH_INDEX_URL, where set, names a CPU-only
# wheel index to use instead.
install_torch() {
  "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.15.0')" \
    2>/dev/null && return
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} torch==2.15.0
}
