#!/usr/bin/env bash
# Sets adgraph up on a Debian 12 machine: dependencies, a release build, and `adgraph` installed to /usr/local
# (sudo when not root). After it, `adgraph train` runs the main job.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake --preset release "${launcher[@]}"
cmake --build --preset release --target adgraph_exe

SUDO=()
if [[ "$(id -u)" -ne 0 ]] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
"${SUDO[@]}" cmake --install build/release --prefix /usr/local >/dev/null
echo "setup: installed $(command -v adgraph || echo /usr/local/bin/adgraph); run: adgraph train"
