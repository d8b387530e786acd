#!/usr/bin/env bash
# Make bpf/vmlinux/arm64/vmlinux.h from an arm64 kernel's BTF, and bpf/vmlinux/arm64/include/ from
# Debian's arm64 UAPI headers (<asm/*.h> of aarch64-linux-gnu, for gadgets built on <linux/*.h>), for
# `ig image build --platform linux/arm64` on a machine of another architecture. Debian's arm64 kernel package is fetched with apt-get download
# under a private sources list, state and cache (the host's apt state and dpkg's architectures are not
# touched: no `dpkg --add-architecture`), its compressed kernel image unpacked, and the raw BTF blob cut
# out of the image by its header (magic 0xeb9f, version 1, then the type and string section offsets and
# lengths). bpftool turns the blob into C. Cached: a second run does nothing.
#   IG_ARM64_KERNEL_SUITE=bookworm (default)               which Debian suite's kernel
#   IG_DEBIAN_MIRROR=http://deb.debian.org/debian (default)  where from
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/vmlinux/arm64/vmlinux.h"
inc="$here/vmlinux/arm64/include"
[ -s "$out" ] && [ -d "$inc/asm" ] && exit 0
suite=${IG_ARM64_KERNEL_SUITE:-bookworm}
work="$here/vmlinux/arm64/.fetch"
rm -rf "$work" && mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/deb"
trap 'rm -rf "$work"' EXIT   # nothing half-fetched stays behind, on success or failure
echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${IG_DEBIAN_MIRROR:-http://deb.debian.org/debian} $suite main" > "$work/sources.list"
: > "$work/status"
apt=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$work/lists" -o Dir::State::status="$work/status" -o Dir::Cache="$work/cache"
     -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o APT::Sandbox::User=root -o Debug::NoLocking=1)
apt-get "${apt[@]}" update -qq
# the metapackage names the current versioned kernel package
pkg=$(apt-cache "${apt[@]}" depends linux-image-arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-arm64\)$/\1/p' | head -1)
[ -n "$pkg" ] || { echo "no arm64 kernel package found in Debian $suite" >&2; exit 1; }
(cd "$work/deb" && apt-get "${apt[@]}" download -qq "$pkg:arm64" linux-libc-dev:arm64)
deb=$(ls "$work"/deb/linux-image-*.deb | head -1)
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards './boot/vmlinuz-*'
dpkg-deb --fsys-tarfile "$(ls "$work"/deb/linux-libc-dev_*.deb | head -1)" | tar -x -C "$work" ./usr/include/aarch64-linux-gnu
rm -rf "$inc" && mv "$work/usr/include/aarch64-linux-gnu" "$inc"
image=$(ls "$work"/boot/vmlinuz-* | head -1)
node "$here/tools/cut-btf.mjs" "$image" "$work/vmlinux.btf"
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$work/vmlinux.btf" format c > "$out.tmp"
grep -q 'struct user_pt_regs {' "$out.tmp" || { echo "the BTF cut from $pkg has no struct user_pt_regs: not an arm64 kernel?" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "$pkg" > "$here/vmlinux/arm64/KERNEL"
echo "wrote $out from $pkg ($suite)" >&2
