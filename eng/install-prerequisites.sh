#!/usr/bin/env bash
# Installs what Klp.Build and its tests need on a Debian 12 host: kbuild's tools, QEMU and busybox for the
# VM proof, binutils and unzip as independent readers of modules and packages, clangd for the editor-support
# test, and ppc64el package lists for the cross-target tests.
set -euo pipefail
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

packages=(make gcc-12 libc6-dev binutils dwarves kmod xz-utils zstd cpio unzip busybox-static qemu-system-x86 ca-certificates
          openssl clangd gcc-multilib binutils-multiarch binutils-powerpc64-linux-gnu binutils-s390x-linux-gnu binutils-aarch64-linux-gnu)
need_update=false
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! dpkg --print-foreign-architectures | grep -qx ppc64el; then
  $sudo dpkg --add-architecture ppc64el
  need_update=true
fi
if [ ! -d /var/lib/apt/lists ] || ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then need_update=true; fi
if ! ls /var/lib/apt/lists/*binary-ppc64el_Packages* >/dev/null 2>&1; then need_update=true; fi
if $need_update || [ ${#missing[@]} -gt 0 ]; then
  # A mirror caught mid-sync for one index must not stop the build: apt keeps the lists it has.
  $sudo apt-get update -qq || echo "warning: apt-get update reported errors; continuing with the package lists it has" >&2
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
