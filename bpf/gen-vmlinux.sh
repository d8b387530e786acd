#!/usr/bin/env bash
# Generate bpf/vmlinux/<arch>/vmlinux.h from the running kernel's BTF (0.1 s).
# Gadget sources include <vmlinux.h>; the build adds -I bpf/vmlinux/<arch>.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case "$(uname -m)" in x86_64) arch=x86 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
out="$here/vmlinux/$arch/vmlinux.h"
[ -s "$out" ] && exit 0
mkdir -p "$(dirname "$out")"
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$out.tmp"
mv "$out.tmp" "$out"
