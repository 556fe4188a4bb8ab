#!/usr/bin/env bash
# Installs what building and testing need, and nothing when it is already
# there: cargo pointed at the vendored crates (when ../shared exists), the
# Debian packages the vault tests use, the pinned PowerShell 7.6.10 as a local
# .NET tool, and Pester 5.7.1 into the NuGet cache.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

vendored="$repo/../shared/use-vendored-crates.sh"
if [ -x "$vendored" ] || [ -f "$vendored" ]; then
    bash "$vendored" >/dev/null
fi

# Packages for the Secret Service and kernel keyring tests; apt only runs
# when one is missing.
packages=(dbus gnome-keyring libsecret-tools keyutils libdbus-1-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing ${missing[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: please install: ${missing[*]} (vault tests need them)" >&2
    fi
fi

dotnet tool restore >/dev/null
dotnet restore pwsh/tools/Pester.proj >/dev/null
