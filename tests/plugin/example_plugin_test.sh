#!/usr/bin/env bash
# Builds plugins/example_threshold out of tree against an installed copy of
# fepflow (find_package(fepflow)), runs its example pipeline with the
# installed CLI, and checks the plugin's output in the HDF5 file.
# Usage: example_plugin_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$bin" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/plugins/example_threshold" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/build" >/dev/null
cp "$src/plugins/example_threshold/example.yaml" "$tmp/"   # its plugin path is relative to the file

cd "$tmp"
"$tmp/prefix/bin/fepflow" run example.yaml -o out.h5
"$tmp/prefix/bin/fepflow" inspect out.h5 | tee inspect.txt
grep -q 'binary            float32\[4, 16\]' inspect.txt
grep -q 'metric fraction_positive' inspect.txt

# Every output value is the sign of the input (>= 0 -> +1).
values() {  # the numbers of one dataset, one per line
  h5dump -y -w0 -d "$1" out.h5 | sed -n '/DATA {/,/}/p' | sed '1d;$d' | tr ',' '\n' | tr -d ' ' | grep -v '^$'
}
values /patterns/patterns > in.txt
values /binary/binary > out.txt
paste in.txt out.txt | awk '
  { n++; want = ($1 + 0 >= 0) ? 1 : -1; if ($2 + 0 != want) { bad++; print "mismatch:", $0 } }
  END { if (n != 64 || bad > 0) { print "checked", n, "values,", bad + 0, "wrong"; exit 1 } print "all", n, "values are signs" }'
