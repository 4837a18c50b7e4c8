#!/usr/bin/env bash
# Runs every test: unit tests of the libraries and integration tests that run `dotnet build` on real projects
# against real Debian kernels and prove modules in QEMU. Installs what it needs first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1

"$root/eng/install-prerequisites.sh"
log=$(mktemp)
set +e
dotnet test "$root/Klp.Build.slnx" -nodeReuse:false --disable-build-servers "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line: "tests: N passed, N failed, N skipped".
awk '/(Passed|Failed)!/ { for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { gsub(",", "", f); printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
