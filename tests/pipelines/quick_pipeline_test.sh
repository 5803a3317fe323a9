#!/usr/bin/env bash
# End-to-end check of pipelines/quick.yaml (GitHub issue 6).
# Usage: quick_pipeline_test.sh FEPFLOW_BINARY PROJECT_ROOT
# Runs the pipeline into a temporary folder (HDF5 file and figures), then checks
# the exit status, that the expected datasets exist, that every metric is
# finite, and that every figure is a valid PNG. Exits 0 on success.
set -euo pipefail
fepflow=$(realpath "${1:?usage: $0 FEPFLOW_BINARY PROJECT_ROOT}")
root=$(realpath "${2:?usage: $0 FEPFLOW_BINARY PROJECT_ROOT}")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fepflow_quick.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cd "$root"
figures=(fig_faces fig_vfe fig_attractors fig_unique fig_gallery_noise_0_5 fig_gallery_noise_2 fig_precision_grid
         fig_precision_input)
sets=()
for f in "${figures[@]}"; do sets+=(--set "$f.file=$tmp/figures/$f.png"); done

if ! "$fepflow" run pipelines/quick.yaml -o "$tmp/quick.h5" "${sets[@]}" >"$tmp/run.log" 2>&1; then
  cat "$tmp/run.log" >&2
  fail "fepflow run pipelines/quick.yaml exited non-zero"
fi

"$fepflow" inspect "$tmp/quick.h5" >"$tmp/inspect.txt" || fail "fepflow inspect failed"
grep -q '^  status *complete' "$tmp/inspect.txt" || fail "run status is not complete"

# Expected datasets: "stage port" pairs, looked up under each stage's block.
expected=(
  "network W" "network vfe" "patterns patterns"
  "retention scores" "retention states"
  "attractors pairs" "attractors scores"
  "restarts attractors" "restarts counts" "restarts converged"
  "reconstruction noisy_scores" "reconstruction scores" "reconstruction reconstructions"
  "gallery_noise_0_5 rows" "gallery_noise_2 rows" "precision_grid reconstructions"
  "shown_faces indices"
)
for pair in "${expected[@]}"; do
  read -r stage port <<<"$pair"
  awk -v s="/$stage" -v p="$port" '
    /^\// { in_stage = ($1 == s) }
    in_stage && $1 == p { found = 1 }
    END { exit !found }' "$tmp/inspect.txt" || fail "dataset /$stage/$port missing"
done
for f in "${figures[@]}"; do
  grep -q "^/$f " "$tmp/inspect.txt" || fail "stage $f missing"
done

# Metrics: present and finite.
expected_metrics=(retention.mean_r restarts.unique_attractors reconstruction.noisy_r
                  reconstruction.reconstructed_r reconstruction.gain)
awk '/^\// { stage = substr($1, 2) } $1 == "metric" { print stage "." $2, $4 }' \
  "$tmp/inspect.txt" >"$tmp/metrics.txt"
for m in "${expected_metrics[@]}"; do
  grep -q "^$m " "$tmp/metrics.txt" || fail "metric $m missing"
done
if grep -Eiq ' [-+]?(nan|inf)' "$tmp/metrics.txt"; then
  fail "non-finite metric: $(grep -Ei ' [-+]?(nan|inf)' "$tmp/metrics.txt" | tr '\n' ' ')"
fi

# Figures: each a file starting with the 8-byte PNG signature.
signature=$(printf '\x89PNG\r\n\x1a\n' | od -An -tx1 | tr -d ' \n')
for f in "${figures[@]}"; do
  png="$tmp/figures/$f.png"
  [ -s "$png" ] || fail "figure $png missing or empty"
  [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = "$signature" ] || fail "$png is not a PNG"
done
echo "quick pipeline: OK ($(wc -l <"$tmp/metrics.txt") metrics, ${#figures[@]} figures)"
