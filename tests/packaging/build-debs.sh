#!/bin/bash
# build-debs.sh SRC CACHE: builds evos's Debian packages from the source tree SRC with
# `dpkg-buildpackage -us -uc -b` in a private copy, once per content: the packages land in
# CACHE/<sha256 of every source file>/ and a second call with the same sources only prints that
# directory. Prints the directory on stdout (the last line); the build log stays beside it.
# The copy holds the files git tracks plus untracked ones it does not ignore, so a build dir
# inside SRC never leaks into the package.
set -euo pipefail
src=$(cd "${1:?usage: build-debs.sh SRC CACHE}" && pwd)
cache=${2:?usage: build-debs.sh SRC CACHE}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
command -v dpkg-buildpackage >/dev/null || { echo "build-debs: dpkg-buildpackage missing (scripts/install-deps.sh)" >&2; exit 1; }
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || { echo "build-debs: $src is not a git checkout" >&2; exit 1; }

list=$(mktemp)
trap 'rm -f "$list"' EXIT
# Only files that exist: a tracked file deleted in the work tree is not part of these sources.
git -C "$src" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -f $src/$f ]] && printf '%s\0' "$f"; done | sort -z >"$list"
key=$( (cd "$src" && xargs -0 sha256sum <"$list") | sha256sum | cut -c1-16)
out=$cache/$key
if [[ -f $out/done ]]; then
    echo "build-debs: cached packages for sources $key" >&2
    echo "$out"
    exit 0
fi

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
rm -rf "$out.tmp"
mkdir -p "$out.tmp/evos-$version"
(cd "$src" && xargs -0 cp --parents -t "$out.tmp/evos-$version" <"$list")
echo "build-debs: building evos $version from sources $key (log: $out.tmp/build.log)" >&2
if ! (cd "$out.tmp/evos-$version" && dpkg-buildpackage -us -uc -b >"$out.tmp/build.log" 2>&1); then
    tail -n 40 "$out.tmp/build.log" >&2
    echo "build-debs: dpkg-buildpackage failed (whole log: $out.tmp/build.log)" >&2
    exit 1
fi
rm -rf "$out.tmp/evos-$version"
touch "$out.tmp/done"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
