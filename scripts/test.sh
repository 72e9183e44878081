#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test (unit, BPF packet
# tests, kernel cross-checks, network-namespace end-to-end). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure --no-tests=error -j2 "$@"
