#!/usr/bin/env bash
# The benchmark: builds the module (unless --no-build), then runs
# pwsh/bench/Invoke-Benchmark.ps1 inside a private D-Bus session with an
# unlocked gnome-keyring, so the Secret Service store runs without touching
# the user's own keyrings. Results go to docs/benchmark/ (see its README.md).
#
#   scripts/bench.sh [--no-build] [Invoke-Benchmark.ps1 options]
#   scripts/bench.sh -Counts 1,100,1000,10000 -Repeat 5
#   scripts/bench.sh --no-build -Counts 1000 -Stores file \
#       -CompareManifest ~/Posh-IBWAPI/Posh-IBWAPI.psd1
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

build=1
if [ "${1:-}" = "--no-build" ]; then
    build=0
    shift
fi
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,10p' "${BASH_SOURCE[0]}"
    exec dotnet pwsh -NoProfile -NonInteractive -Command \
        "Get-Help '$repo/pwsh/bench/Invoke-Benchmark.ps1' -Detailed"
fi

# pwsh would otherwise send telemetry at each start; the benchmark starts many.
export POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off

[ "$build" = 1 ] && bash scripts/build.sh

bench=(dotnet pwsh -NoProfile -NonInteractive -File pwsh/bench/Invoke-Benchmark.ps1 "$@")
session=tests/support/secret-service-session.sh
if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
    # dbus-daemon's complaint about its fd limit is harmless; keep the rest of stderr.
    "$session" "${bench[@]}" 2> >(grep -v 'Failed to set fd limit' >&2)
else
    echo "bench: no dbus-run-session or gnome-keyring-daemon:" \
        "the Secret Service store is skipped" >&2
    "${bench[@]}"
fi
