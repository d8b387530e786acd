#!/usr/bin/env bash
# Fetch the pinned libbpf source from Debian's source archive and build it as a
# position-independent static library. Debian's own libbpf.a is not PIC (so it
# cannot go into a Node addon) and its 1.1 headers lack macros real gadgets use.
# /etc is never touched: apt runs with a private sources list and state dir.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vendor="$here/vendor"
version=1.5.0
tarball=libbpf_${version}.orig.tar.gz
sha256=53492aff6dd47e4da04ef5e672d753b9743848bdb38e9d90eafbe190b7983c44

if [ -f "$vendor/lib/libbpf.a" ] && [ "$(cat "$vendor/VERSION" 2>/dev/null)" = "$version" ]; then
  exit 0
fi
mkdir -p "$vendor/apt/lists/partial" "$vendor/dl"
if [ ! -f "$vendor/dl/$tarball" ] || ! echo "$sha256  $vendor/dl/$tarball" | sha256sum -c --status; then
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$vendor/apt/sources.list"
  aptopts=(-o Dir::Etc::SourceList="$vendor/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
           -o Dir::State::Lists="$vendor/apt/lists" -o APT::Sandbox::User=root)
  apt-get "${aptopts[@]}" update -qq
  (cd "$vendor/dl" && apt-get "${aptopts[@]}" source --download-only -qq "libbpf=1:${version}-3" 2>/dev/null \
     || apt-get "${aptopts[@]}" source --download-only -qq libbpf)
fi
if ! echo "$sha256  $vendor/dl/$tarball" | sha256sum -c --status; then
  echo "libbpf source $tarball does not match the pinned sha256 $sha256; refusing to build" >&2
  exit 1
fi
rm -rf "$vendor/src" && mkdir -p "$vendor/src"
tar -xzf "$vendor/dl/$tarball" -C "$vendor/src" --strip-components=1
make -s -C "$vendor/src/src" BUILD_STATIC_ONLY=1 EXTRA_CFLAGS="-fPIC -O2" \
  OBJDIR="$vendor/obj" DESTDIR="$vendor/out" PREFIX= LIBDIR=/lib INCLUDEDIR=/include install >/dev/null
rm -rf "$vendor/lib" "$vendor/include"
mv "$vendor/out/lib" "$vendor/lib" && mv "$vendor/out/include" "$vendor/include" && rm -rf "$vendor/out" "$vendor/obj"
echo "$version" > "$vendor/VERSION"
echo "built libbpf $version (static, PIC) in $vendor"
