#!/usr/bin/env bash
# The main job: build the cmdline sample against a real Debian 6.1 amd64 kernel and prove it live in that
# kernel under QEMU. Installs what it needs, packs the SDK into the local feed, then runs `dotnet build -t:Test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export NUGET_PACKAGES="$root/artifacts/nuget-packages"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
sample="${1:-cmdline}"

"$root/eng/install-prerequisites.sh"
"$root/eng/pack-sdk.sh"
cd "$root/samples/$sample"
dotnet build -t:Test -nodeReuse:false --disable-build-servers
