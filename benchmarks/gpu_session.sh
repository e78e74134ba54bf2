#!/usr/bin/env bash
# The GPU measurements of issues 14 and 15, for a session lent a GPU machine (the device
# tool's `run`; see /work/.library/device/). The steps tests, speed and probe ran on an
# H100, the tests and Table 1's 100-label row on an H200, the tests, the float32 batched
# timing and the 1000-label full and bottom ladders on an H100 (docs/benchmarks.md, "On a
# GPU"); the other tables are still to run.
#
# A session has 15 minutes of device time, the machine's start included, and a machine
# goes back after 30 s idle, killing what runs there. So the whole plan runs as ONE
# background job, started in the first call, and the calls after it only wait for it and
# bring its results back. Here, once per checkout (downloads skorch's wheel, which the GPU
# image lacks, and copies MNIST into the repository, both ignored by git, so that `carry`
# takes them along):
#     bash benchmarks/gpu_session.sh prepare
# Then, each device call with carry [".whl", ".data"] and timeout_s 600:
#     bash benchmarks/gpu_session.sh background session && \
#         bash benchmarks/gpu_session.sh collect 555       # first call
#     bash benchmarks/gpu_session.sh collect SECONDS       # what the lease has left
# and here, with the files the last call brought back:
#     bash benchmarks/gpu_session.sh unpack DIR/results.tar.gz
# (results in benchmarks/results/gpu-DATE/; the tables' runs merged into
# benchmarks/results/paper-schedule-cuda/, which the next session's tables start from).
#
# `session` is the open issues' plan, most needed first (see it below); the tables it
# runs skip every (setting, seed) that paper-schedule-cuda/reproduce.json already has a
# result of, so a later session goes on where this one stopped. Single steps:
#     bash benchmarks/gpu_session.sh tests      # python -m pytest -m cuda
#     bash benchmarks/gpu_session.sh speed      # speed.py and batched.py on the GPU
#     bash benchmarks/gpu_session.sh batched-compiled   # batched.py, compiled, ieee and tf32
#     bash benchmarks/gpu_session.sh probe      # graph_probe.py: graphs outside skorch
#     bash benchmarks/gpu_session.sh table 0 1 2 3 4 -- full-100 bottom-100
#     bash benchmarks/gpu_session.sh datasets --only wine   # issue 16's λ × σ grid row
#     bash benchmarks/gpu_session.sh background queue tests "table 0 1 -- full-100"
# `table` trains its runs through fit_batched: the seeds of a setting as one batch (one
# CUDA graph; compiled first for the paper's schedule), the settings' batches side by
# side. If a batch fails on the GPU (recorded as "failed", not as a result), add
# `--gpu-update graph` after the settings (batches not compiled), or `--max-models 1`:
# every run its own graphed fit, side by side; `session` retries so by itself.
# `--fp32-precision tf32` there trains with TF32 products (an option; label the results).
#
# LADDER_DEVICE=cpu runs any step here on the CPU (a dry run of the script: the tests on
# the CPU, the tables with TABLE_EPOCHS epochs), e.g.
#     LADDER_DEVICE=cpu TABLE_EPOCHS=1 bash benchmarks/gpu_session.sh table 0 -- full-100
set -euo pipefail
cd "$(dirname "$0")/.."
BG=/tmp/ladder-background  # a background step's output and log, on the device
DEVICE="${LADDER_DEVICE:-cuda}"
TABLES=benchmarks/results/paper-schedule-cuda  # every GPU session's runs of the tables

prepare() {
    local exclude
    exclude="$(git rev-parse --git-dir)/info/exclude"
    mkdir -p "$(dirname "$exclude")" && touch "$exclude"
    grep -qx '/.whl/' "$exclude" || echo /.whl/ >> "$exclude"
    grep -qx '/.data/' "$exclude" || echo /.data/ >> "$exclude"
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux2014_x86_64 -d .whl \
        "skorch==$(python3 -c 'import skorch; print(skorch.__version__)')"
    mkdir -p .data/mnist
    cp "${SKLEARN_LADDER_DATA:-../shared/data/mnist}"/*-ubyte.gz .data/mnist/
}

on_device() {
    # Once per machine: steps that run side by side must not install at the same time.
    export PYTHONPATH="/tmp/site:$PWD:$PWD/benchmarks" PYTHONUNBUFFERED=1
    # find_spec: whether skorch is there, without importing it (and torch: seconds a step)
    python3 -c "import importlib.util as u, sys; sys.exit(not u.find_spec('skorch'))" ||
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
            --upgrade --target /tmp/site .whl/*.whl
    export SKLEARN_LADDER_DATA="${SKLEARN_LADDER_DATA:-$PWD/.data/mnist}"
    export OUT="${OUT:-/tmp/out}" SKLEARN_LADDER_TEST_DEVICE="$DEVICE"
    mkdir -p "$OUT"
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.csv"
        cat "$OUT/gpu.csv"
    fi
}

later() {
    # The queue's entry for step "$1" unless benchmarks/results holds its file "$2" from
    # an earlier GPU session (what needs measuring once, not again every session), with
    # the text "$3" in it where one is given.
    local file
    for file in benchmarks/results/gpu-*/$2; do
        [ -e "$file" ] && { [ -z "${3:-}" ] || grep -q -- "$3" "$file"; } && return 0
    done
    echo "$1"
}

pending() {
    # Whether the table "$1" lacks a result of some (setting, seed) that the rest of the
    # arguments name (seeds, "--", settings, then options), so that a table step whose
    # runs are all done costs no start of torch (a run that failed with an error of the
    # code is no result; the GPU table holds paper-schedule runs only, so any epochs do).
    python3 - "$@" << 'PY'
import json, sys
path, *args = sys.argv[1:]
cut = args.index("--")
seeds, settings = [int(s) for s in args[:cut]], []
for arg in args[cut + 1:]:
    if arg.startswith("--"):
        break
    settings.append(arg)
try:
    with open(path) as file:
        runs = json.load(file)["runs"]
except FileNotFoundError:
    runs = []
done = {(r["setting"], r["seed"]) for r in runs if "failed" not in r}
sys.exit(0 if any((s, n) not in done for s in settings for n in seeds) else 1)
PY
}

case "${1:-}" in
    prepare) prepare ;;
    tests)
        on_device
        # --log-level: a passed test's captured log without torch.compile's DEBUG trace.
        python3 -m pytest -m cuda -p no:cacheprovider -rA --log-level=INFO 2>&1 |
            tee "$OUT/cuda-tests.log" ;;
    probe)
        on_device
        python3 benchmarks/graph_probe.py "$OUT/gpu-probe" ;;
    speed)
        on_device
        python3 benchmarks/speed.py --device "$DEVICE" --output "$OUT/speed-cuda"
        python3 benchmarks/batched.py --device "$DEVICE" --models 1 4 16 --updates 600 \
            --rounds 2 --output "$OUT/batched-cuda" ;;
    batched-compiled)
        # The batches compiled, in float32 and with TF32 (or the precisions named after
        # the step); 3 rounds, since the first holds the compilations (about 20 s per
        # batch size; the median leaves it out); then a batched fit of each size under
        # the profiler (where the 16 models' time goes).
        on_device
        precisions=("${@:2}")
        [ "${#precisions[@]}" -gt 0 ] || precisions=(ieee tf32)
        for precision in "${precisions[@]}"; do
            python3 benchmarks/batched.py --device "$DEVICE" --gpu-update compiled \
                --fp32-precision "$precision" --models 1 16 --updates 1000 --rounds 3 \
                --profile 240 --output "$OUT/batched-cuda-compiled-$precision"
        done ;;
    table)
        on_device
        shift
        # Start from every earlier session's runs, and add to them (--skip-done); a dry
        # run on the CPU starts empty, so that unpack never merges CPU runs into $TABLES.
        if [ ! -e "$OUT/paper-schedule-cuda/reproduce.json" ] && [ "$DEVICE" != cpu ]; then
            mkdir -p "$OUT/paper-schedule-cuda"
            cp "$TABLES/reproduce.json" "$OUT/paper-schedule-cuda/" 2> /dev/null || true
        fi
        if ! pending "$OUT/paper-schedule-cuda/reproduce.json" "$@"; then
            echo "done already: table $*"
            exit 0
        fi
        seeds=()
        while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do seeds+=("$1"); shift; done
        shift
        epochs=()
        [ -z "${TABLE_EPOCHS:-}" ] || epochs=(--epochs "$TABLE_EPOCHS")
        python3 benchmarks/reproduce.py --device "$DEVICE" --batched --skip-done \
            "${epochs[@]}" --seeds "${seeds[@]}" --settings "$@" \
            --output "$OUT/paper-schedule-cuda" ;;
    background)
        # The rest of the command line as a step of its own, detached; its $OUT and log
        # stay in $BG until `collect` copies them.
        shift
        on_device
        rm -rf "$BG" && mkdir -p "$BG/out"
        OUT="$BG/out" setsid nohup bash "$0" "$@" > "$BG/log" 2>&1 < /dev/null &
        echo $! > "$BG/pid"
        echo "started: $* (pid $(cat "$BG/pid"))" ;;
    queue)
        # Each further argument is one step's command line, run one after the other,
        # each within $STEP_LIMIT seconds (default 1500); a failed step does not stop the
        # next. As a background step it keeps the GPU busy between the calls that
        # collect: background queue tests speed "table 0 1 2 3 4 -- full-100 gamma-100"
        shift
        for step in "$@"; do
            [ -n "$step" ] || continue  # a step left out (see later)
            echo "[$(date +%T)] step: $step"
            status=0
            # shellcheck disable=SC2086  # a step's words are its arguments
            timeout "${STEP_LIMIT:-1500}" bash "$0" $step || status=$?
            [ "$status" -eq 0 ] || echo "[$(date +%T)] step failed (exit $status): $step"
        done
        echo "[$(date +%T)] queue done" ;;
    session)
        # A GPU session's whole plan, what the open issues need first: the 16-model batch
        # against one, compiled, with TF32 (alone on the GPU, since it is a timing; a
        # profiled batch of each size with it: the "many ladders at once" issue's one
        # missing measurement, and where its time goes), then the CUDA tests beside
        # Table 1's cells still to run (5 seeds; a row whose compiled batch failed is
        # retried as graphed batches; a row already done costs nothing), the 50- and
        # 40-label rows, the float32 timing again with its profile, Conv-Small (Table
        # 2), Table 5 and the speed table. A table step writes its runs when all its
        # batches are done, so each step holds a few batches. The tables skip what
        # earlier sessions ran (the 100-label row on an H200, 2026-12-04; the 1000-label
        # full and bottom ladders on an H100, 2026-12-05), and the timings are left out
        # once benchmarks/results has them from a GPU (float32 unprofiled on the H100,
        # 2026-12-05: 16 models 8.2x one).
        on_device
        row() { echo "table 0 1 2 3 4 -- $*"; echo "table 0 1 2 3 4 -- $* --gpu-update graph"; }
        STEP_LIMIT=450 bash "$0" queue \
            "$(later "batched-compiled tf32" batched-cuda-compiled-tf32/batched.json)"
        STEP_LIMIT=600 bash "$0" queue tests > "$OUT/tests-queue.log" 2>&1 &
        tests=$!
        mapfile -t first < <(row full-100 bottom-100; row gamma-100 supervised-100;
                             row full-1000 bottom-1000; row gamma-1000 supervised-1000)
        bash "$0" queue "${first[@]}"
        wait "$tests" || true
        mapfile -t rest < <(row full-all bottom-all; row gamma-all supervised-all;
                            row full-50 full-40)
        bash "$0" queue "${rest[@]}" \
            "$(later "batched-compiled ieee" batched-cuda-compiled-ieee/batched.md Profiled)" \
            "table 0 1 2 -- conv-small-gamma-100 conv-small-supervised-100" \
            "table 0 1 2 -- g1-100 g2-100 g3-100 g4-100 amlp-100" \
            "$(later speed speed-cuda/speed.json)" ;;
    collect)
        # Wait up to $2 seconds (default 0) for the background step, then bring back
        # what it has written so far as one archive (the device tool brings back at most
        # 8 files) beside its log.
        on_device
        deadline=$((SECONDS + ${2:-0}))
        while kill -0 "$(cat "$BG/pid")" 2> /dev/null && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 5
        done
        kill -0 "$(cat "$BG/pid")" 2> /dev/null && echo "still running" || echo "finished"
        # The log without the runs' per-epoch lines (their errors are in reproduce.json)
        # travels in the archive, so that unpack keeps it.
        grep -v -E '^    \S+ seed [0-9]+ epoch' "$BG/log" > "$BG/out/session.log" || true
        # tar exits 1 when a file changed while it read it: the step is still writing.
        tar -czf "$OUT/results.tar.gz" -C "$BG/out" . || echo "tar exited $?"
        cp "$BG/log" "$OUT/background.log"
        tail -n 40 "$BG/log" ;;
    unpack)
        # Here: a collected archive into benchmarks/results/gpu-DATE/, its tables' runs
        # merged into $TABLES (the table and plot rewritten).
        dest="benchmarks/results/gpu-$(date +%F)"
        mkdir -p "$dest" && tar -xzf "$2" -C "$dest"
        if [ -e "$dest/paper-schedule-cuda/reproduce.json" ]; then
            PYTHONPATH="$PWD/benchmarks" python3 benchmarks/reproduce.py --output "$TABLES" \
                --merge "$dest/paper-schedule-cuda/reproduce.json"
            rm -r "$dest/paper-schedule-cuda"
        fi
        ls -R "$dest" ;;
    datasets)
        on_device
        shift
        python3 benchmarks/datasets.py --device "$DEVICE" --grid "$@" --output "$OUT/datasets-gpu" ;;
    *)
        echo "usage: $0 prepare | tests | speed | batched-compiled | probe |" \
             "table SEED... -- SETTING... [reproduce.py options] |" \
             "datasets [datasets.py options, e.g. --only wine] |" \
             "queue 'STEP ARGS'... | session | background STEP... | collect [SECONDS] |" \
             "unpack ARCHIVE" >&2
        exit 2 ;;
esac
