#!/usr/bin/env bash
# Fetch libbpf's source from Debian's signed source archive and build it as a position-independent
# static library. Debian 12's own libbpf.a is not PIC (so it cannot go into a Node addon) and its
# 1.1 headers lack macros real gadgets use.
#
# Which libbpf: the newest version >= 1.5 that the archive serves (stable, then testing and
# unstable), as apt picks it. Verified by apt itself: the suites' InRelease files are checked
# against /usr/share/keyrings/debian-archive-keyring.gpg, and every downloaded file against the
# hashes of the signed Sources index — no pinned checksum that stops matching when a version
# leaves the archive. /etc is never touched: apt runs with a private sources list and state dir.
#   native/fetch-libbpf.sh           build once (kept while native/vendor/lib/libbpf.a exists)
#   native/fetch-libbpf.sh --update  take the newest the archive serves now
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vendor="${LIBBPF_VENDOR_DIR:-$here/vendor}"
minimum=1.5
suites=(trixie forky sid)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

if [ "${1:-}" != "--update" ] && [ -f "$vendor/lib/libbpf.a" ] && [ -s "$vendor/VERSION" ]; then
  exit 0
fi
[ -r "$keyring" ] || { echo "fetch-libbpf: $keyring is missing (apt-get install debian-archive-keyring)" >&2; exit 1; }
mkdir -p "$vendor/apt/lists/partial" "$vendor/apt/archives/partial"
rm -rf "$vendor/dl" && mkdir -p "$vendor/dl"
: > "$vendor/apt/sources.list"
for s in "${suites[@]}"; do
  echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $s main" >> "$vendor/apt/sources.list"
done
aptopts=(-o Dir::Etc::SourceList="$vendor/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
         -o Dir::State::Lists="$vendor/apt/lists" -o Dir::Cache::Archives="$vendor/apt/archives"
         -o APT::Sandbox::User=root -o APT::Get::Only-Source=true)
apt-get "${aptopts[@]}" update -qq
# apt chooses the newest version any of the suites serves, and checks every file it fetches
(cd "$vendor/dl" && apt-get "${aptopts[@]}" source --download-only -qq libbpf)
dsc=$(ls "$vendor"/dl/libbpf_*.dsc | head -n 1)
version=$(sed -n 's/^Version: //p' "$dsc")            # e.g. 1:1.6.2-1
upstream=${version#*:}; upstream=${upstream%-*}        # e.g. 1.6.2
if ! dpkg --compare-versions "$upstream" ge "$minimum"; then
  echo "fetch-libbpf: the archive's newest libbpf is $upstream, older than $minimum; refusing to build" >&2
  exit 1
fi
tarball=$(ls "$vendor"/dl/libbpf_"$upstream".orig.tar.* | head -n 1)
rm -rf "$vendor/src" && mkdir -p "$vendor/src"
tar -xf "$tarball" -C "$vendor/src" --strip-components=1
make -s -C "$vendor/src/src" BUILD_STATIC_ONLY=1 EXTRA_CFLAGS="-fPIC -O2" \
  OBJDIR="$vendor/obj" DESTDIR="$vendor/out" PREFIX= LIBDIR=/lib INCLUDEDIR=/include install >/dev/null
rm -rf "$vendor/lib" "$vendor/include"
mv "$vendor/out/lib" "$vendor/lib" && mv "$vendor/out/include" "$vendor/include" && rm -rf "$vendor/out" "$vendor/obj"
echo "$upstream" > "$vendor/VERSION"
echo "built libbpf $upstream (Debian $version, static, PIC) in $vendor"
