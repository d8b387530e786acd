#!/usr/bin/env bash
# Install whatever is missing for ig, and nothing that is already there:
# apt packages, npm packages, the libbpf addon, the TypeScript build, vmlinux.h,
# and the built-in gadgets in the local store. A second run takes seconds.
#   scripts/setup.sh          what `ig run` needs
#   scripts/setup.sh --test   plus what the test suite starts (registry, skopeo, containerd, podman, bpftrace)
#   scripts/setup.sh --bench  plus the test packages and the peers the benchmark measures against (libbpf-tools)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
  echo "ig loads eBPF programs and installs packages: run this as root (sudo $0 $*)" >&2
  exit 1
fi

# bubblewrap: `ig image build` runs the compilers in a sandbox; linux-libc-dev: <linux/*.h> and <asm/*.h> for
# networking gadgets; libpcap0.8: tcpdump's --pf compiles with libpcap (loaded when used); wasi-libc, libclang-rt-19-dev-wasm32, lld-19: wasm modules written in C (build.yaml `wasm: x.c`)
runtime_pkgs=(clang-19 llvm-19 libelf-dev zlib1g-dev bpftool pkg-config make g++ dpkg-dev debian-archive-keyring bubblewrap linux-libc-dev wasi-libc libclang-rt-19-dev-wasm32 lld-19 libpcap0.8)
test_pkgs=(docker-registry skopeo apache2-utils containerd runc podman busybox-static bpftrace iproute2 util-linux tcpdump python3)
pkgs=("${runtime_pkgs[@]}")
bench_pkgs=(libbpf-tools)
[ "${1:-}" = "--test" ] && pkgs+=("${test_pkgs[@]}")
[ "${1:-}" = "--bench" ] && pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# `npm ci` installs exactly package-lock.json and never rewrites it (`npm install` would, and a
# fresh clone would be dirty at once); it runs again only when the lock file changed.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm: installing packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

make -s -C native            # fetches (newest >= 1.5 from Debian, checked by apt) and builds libbpf first when missing
bpf/gen-vmlinux.sh
# the tests build arm64 images too (ig image build --platform linux/arm64): arm64's vmlinux.h, cached
case "${1:-}" in --test|--bench) bpf/gen-vmlinux-arm64.sh ;; esac

if [ ! -f dist/.stamp ] || [ -n "$(find src tsconfig.json package.json scripts/bundle.mjs scripts/build-snapshot.mjs scripts/snapshot-code-cache.mjs -newer dist/.stamp -print -quit)" ]; then
  say "tsc + esbuild: building dist/ and the CLI bundle"
  npx tsc -p tsconfig.json
  node scripts/bundle.mjs
  touch dist/.stamp
elif [ "$(cat dist/cli.snapshot/node-version 2>/dev/null)" != "$(node --version)" ]; then
  # bin/ig's start-up snapshot runs only on the node that built it (node refuses any other)
  say "node --build-snapshot: the start-up snapshot of ig run"
  node scripts/build-snapshot.mjs >/dev/null || true
fi

# Built-in gadgets go into the default store under their official names, rebuilt when
# their sources or the headers change.
mkdir -p .cache/gadgets
for dir in gadgets/*/; do
  name=$(basename "$dir")
  [ -f "$dir/program.bpf.c" ] || continue
  sum=$(cat "$dir"/*.c "$dir"/*.yaml bpf/include/gadget/*.h 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ "$(cat ".cache/gadgets/$name" 2>/dev/null)" != "$sum" ] || ! bin/ig image inspect "$name" >/dev/null 2>&1; then
    say "building gadget $name"
    bin/ig image build "$dir" -t "$name" >/dev/null
    echo "$sum" > ".cache/gadgets/$name"
  fi
done
