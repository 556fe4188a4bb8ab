#!/usr/bin/env bash
# Builds the native core (release) and the .NET module, and lays the module
# out in out/PoshIBWAPI.Config, ready to import or to copy onto PSModulePath.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

cargo build --release --quiet
dotnet build pwsh/src/PoshIBWAPI.Config.csproj -c Release -warnaserror --nologo -v quiet \
    -o out/dotnet >/dev/null

module="out/PoshIBWAPI.Config"
rid="linux-x64"
case "$(uname -s)-$(uname -m)" in
    Linux-aarch64) rid="linux-arm64" ;;
    Darwin-x86_64) rid="osx-x64" ;;
    Darwin-arm64) rid="osx-arm64" ;;
esac
lib="libibwapi_config.so"
[ "$(uname -s)" = Darwin ] && lib="libibwapi_config.dylib"

rm -rf "$module"
mkdir -p "$module/runtimes/$rid/native"
cp pwsh/module/PoshIBWAPI.Config.psd1 \
   pwsh/module/PoshIBWAPI.Config.format.ps1xml out/dotnet/PoshIBWAPI.Config.dll LICENSE \
   "$module/"
cp "target/release/$lib" "$module/runtimes/$rid/native/"
dotnet pwsh -NoProfile -NonInteractive -File scripts/build-help.ps1 pwsh/help "$module"
echo "built $module ($rid)"
