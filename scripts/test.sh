#!/usr/bin/env bash
# README command 2: every test. Builds first, checks formatting and lints,
# then runs the Rust tests (core and C ABI) and the Pester tests, which start
# a fresh pwsh with a throwaway HOME for each case.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/setup.sh
bash scripts/build.sh

echo "== cargo fmt / clippy"
cargo fmt --check
cargo clippy --quiet --all-targets -- -D warnings

# Both test runs need a real Secret Service: the wrapper starts a private
# D-Bus session with an unlocked gnome-keyring and runs the command inside.
session=tests/support/secret-service-session.sh

echo "== cargo test"
"$session" cargo test --quiet 2>&1

echo "== Pester"
"$session" dotnet pwsh -NoProfile -NonInteractive -File pwsh/tests/Invoke-Tests.ps1 \
    -ModulePath out/PoshIBWAPI.Config "$@"
