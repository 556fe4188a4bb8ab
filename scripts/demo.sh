#!/usr/bin/env bash
# README command 1: build everything, then show the cmdlets on the default
# store (the config file) in a throwaway HOME that is deleted afterwards.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

bash scripts/setup.sh
bash scripts/build.sh

# `dotnet pwsh` finds the pinned tool through the real HOME, so locate
# pwsh.dll first and run it directly under the throwaway HOME.
pwsh_dll="$(dotnet pwsh -NoProfile -Command '[Reflection.Assembly]::GetEntryAssembly().Location')"
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
env -u IBWAPI_HOST -u IBWAPI_VAULT_NAME HOME="$home" \
    dotnet "$pwsh_dll" -NoProfile -NonInteractive -File scripts/demo.ps1 -ModulePath out/PoshIBWAPI.Config
