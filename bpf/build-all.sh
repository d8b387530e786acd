#!/usr/bin/env bash
# Compile every gadgets/*/program.bpf.c and test/gadgets/*/program.bpf.c into
# <dir>/build/program.o with the project's recipe (see bpf/README.md).
# Usage: bpf/build-all.sh [dir...]   (default: all gadget dirs). Sequential on purpose.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bpf/gen-vmlinux.sh
case "$(uname -m)" in x86_64) arch=x86 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
multiarch=$(uname -m)
CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
if [ $# -gt 0 ]; then dirs=("$@"); else dirs=(gadgets/*/ test/gadgets/*/); fi
fail=0
for d in "${dirs[@]}"; do
	d=${d%/}
	src="$d/program.bpf.c"
	[ -f "$src" ] || continue
	mkdir -p "$d/build"
	if "$CLANG" -target bpf -Wall -g -O2 "-I/usr/include/$multiarch-linux-gnu" -D "__TARGET_ARCH_$arch" \
		-I bpf/include -I "bpf/vmlinux/$arch" \
		-I native/vendor/include -c "$src" -o "$d/build/program.o" &&
		"$STRIP" -g "$d/build/program.o"; then
		echo "ok   $d"
	else
		echo "FAIL $d"; fail=1
	fi
done
exit $fail
