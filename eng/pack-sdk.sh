#!/usr/bin/env bash
# Packs Klp.Build.Sdk, the dotnet new templates (Klp.Build.Templates) and the klp command-line tool (Klp.Build.Cli)
# into the local feed (artifacts/feed), and forgets any earlier copy of the same version in the isolated package
# folder that samples and tests restore into.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export NUGET_PACKAGES="${NUGET_PACKAGES:-$root/artifacts/nuget-packages}"
dotnet pack "$root/Klp.Build.Sdk/Klp.Build.Sdk.csproj" -c Release -nologo -v:q -nodeReuse:false
dotnet pack "$root/templates/Klp.Build.Templates/Klp.Build.Templates.csproj" -c Release -nologo -v:q -nodeReuse:false
dotnet pack "$root/Klp.Build.Cli/Klp.Build.Cli.csproj" -c Release -nologo -v:q -nodeReuse:false
rm -rf "$NUGET_PACKAGES/klp.build.sdk" "$NUGET_PACKAGES/klp.build.cli"
