#!/bin/bash
# fuzz/drbd-parsers: builds the libFuzzer target for the drbd parsers with clang
# (-fsanitize=fuzzer,address,undefined) and runs it for a bounded time on a seed corpus of the
# literal DRBD 9.0-9.2 samples in tests/data/drbd. The project itself builds with gcc, so this
# target is compiled here, from the parser sources, into the build directory.
# Usage: drbd_parsers_fuzz.sh SOURCE_DIR BUILD_DIR [RUNS] [SECONDS]
# Findings (crash, sanitizer report, leak, timeout) fail the test; the reproducer is left in
# BUILD_DIR/fuzz/drbd-parsers/.
set -euo pipefail
src=$1
build=$2
runs=${3:-200000}
seconds=${4:-60}
cxx=${EVOS_FUZZ_CXX:-clang++}
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz/drbd-parsers: $cxx not found (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
work=$build/fuzz/drbd-parsers
mkdir -p "$work/corpus" "$work/obj"
cp "$src"/tests/data/drbd/* "$work/corpus/"

sources=(
  libevos/src/core/error.cpp
  libevos/src/core/text_checks.cpp
  libevos/src/drbd/types.cpp
  libevos/src/drbd/events2_parser.cpp
  libevos/src/drbd/status_json_parser.cpp
  libevos/src/drbd/state.cpp
  tests/fuzz/drbd_parsers_fuzz.cpp
)
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I"$src/libevos/include")
objects=()
for s in "${sources[@]}"; do
  o=$work/obj/$(basename "$s" .cpp).o
  if [ ! -e "$o" ] || [ "$src/$s" -nt "$o" ] || [ -n "$(find "$src/libevos/include/evos" -newer "$o" -name '*.hpp' -print -quit)" ]; then
    "$cxx" "${flags[@]}" -c "$src/$s" -o "$o"
  fi
  objects+=("$o")
done
"$cxx" "${flags[@]}" "${objects[@]}" -lfmt -o "$work/drbd_parsers_fuzz"

cd "$work"
# -max_len 8192: the samples are 1-4 KiB; longer inputs only slow the run down.
./drbd_parsers_fuzz -runs="$runs" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 corpus 2>&1 | tail -n 25
