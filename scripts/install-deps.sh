#!/usr/bin/env bash
# Installs adgraph's build and test dependencies from the Debian 12 archive. Safe to run repeatedly:
# apt-get install is a no-op for packages already at the candidate version.
#
# Append new dependencies to ADGRAPH_DEB_PACKAGES (one place, one per line).
set -euo pipefail

ADGRAPH_DEB_PACKAGES=(
  build-essential
  cmake
  ninja-build
  ccache
  git
  libxtensor-dev
  libxsimd-dev        # only a Recommends of libxtensor-dev, but CMakeLists.txt sets XTENSOR_USE_XSIMD=ON
  libxtensor-blas-dev
  libopenblas-dev
  doctest-dev
  zlib1g-dev              # .gz IDX files
  libpng-dev              # the lecture demos' pictures (nn/png)
  nlohmann-json3-dev      # checkpoint headers (safetensors)
  libcli11-dev            # the adgraph command line
  dataset-fashion-mnist   # the default training data (/usr/share/datasets/fashion-mnist)
  gnuplot-nox             # training curves as PNG
  imagemagick             # convert: the style transfer example's pictures (its built-in rose:, wizard:, plasma:, ...)
  pkgconf                 # the installed adgraph.pc is checked with it (tests/consumer); finds cpp-httplib
  libcpp-httplib-dev      # adgraph playground's web server
  chromium                # the playground's browser test (headless)
  chromium-driver         # ... driven through WebDriver
  python3-selenium        # ... by tests/playground/browser_test.py
  python3-pil             # ... which checks its screenshots
  libopenmpi-dev          # adgraph_mpi: data-parallel training over MPI (optional at build time, found by CMake)
  openmpi-bin             # ... mpirun, which runs the MPI tests (tests/mpi/) and `mpirun -np N adgraph train`
)

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: not root and sudo is not available; cannot run apt-get" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${ADGRAPH_DEB_PACKAGES[@]}"
