#!/usr/bin/env bash
# The GPU measurements of issues 14 and 15, for a session lent a GPU machine (the device
# tool's `run`; see /work/.library/device/). The steps tests, speed and probe ran on an
# H100 once (docs/benchmarks.md, "On a GPU"); the tables are still to run.
#
# Here, once per checkout (downloads skorch's wheel, which the GPU image lacks, and copies
# MNIST into the repository, both ignored by git, so that `carry` takes them along):
#     bash benchmarks/gpu_session.sh prepare
# Then one device call per step, each with carry [".whl", ".data"], e.g.
#     bash benchmarks/gpu_session.sh tests      # python -m pytest -m cuda
#     bash benchmarks/gpu_session.sh speed      # speed.py and batched.py on the GPU
#     bash benchmarks/gpu_session.sh batched-compiled   # batched.py, compiled, ieee and tf32
#     bash benchmarks/gpu_session.sh probe      # graph_probe.py: graphs outside skorch
#     bash benchmarks/gpu_session.sh table 0 1 2 3 4 -- full-100 bottom-100
#     bash benchmarks/gpu_session.sh datasets --only wine   # issue 16's λ × σ grid row
# Results go to $OUT (the device tool brings them back); copy them into
# benchmarks/results/ here. Each call must end within the tool's 10-minute limit: run
# `speed` first, and size the `table` calls (settings x seeds) from its ms per update.
# A step too long for one call runs in the background, on a machine kept warm by the
# calls that follow it (it dies when the machine goes back: 30 s idle):
#     bash benchmarks/gpu_session.sh background table 0 1 2 3 4 -- full-100 gamma-100
#     bash benchmarks/gpu_session.sh collect 570   # wait up to 570 s; results to $OUT
# Several steps queue in one background job, so that the GPU never waits for a call:
#     bash benchmarks/gpu_session.sh background queue tests speed \
#         "table 0 1 2 3 4 -- full-100 bottom-100 gamma-100 supervised-100"
# Or the whole plan of a session, most needed first (see the step `session`):
#     bash benchmarks/gpu_session.sh background session
# `table` trains its runs through fit_batched: the seeds of a setting as one batch (one
# CUDA graph; compiled first for the paper's schedule), the settings' batches side by
# side. If a batch fails on the GPU, add `--gpu-update graph` after the settings (batches
# not compiled), or `--max-models 1`: every run its own graphed fit, side by side.
# `--fp32-precision tf32` there trains with TF32 products (an option; label the results).
set -euo pipefail
cd "$(dirname "$0")/.."
BG=/tmp/ladder-background  # a background step's output and log, on the device

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
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site:$PWD:$PWD/benchmarks" PYTHONUNBUFFERED=1
    export SKLEARN_LADDER_DATA="$PWD/.data/mnist" OUT="${OUT:-/tmp/out}"
    mkdir -p "$OUT"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.csv"
}

case "${1:-}" in
    prepare) prepare ;;
    tests)
        on_device
        python3 -m pytest -m cuda -p no:cacheprovider -rA 2>&1 | tee "$OUT/cuda-tests.log" ;;
    probe)
        on_device
        python3 benchmarks/graph_probe.py "$OUT/gpu-probe" ;;
    speed)
        on_device
        python3 benchmarks/speed.py --device cuda --output "$OUT/speed-cuda"
        python3 benchmarks/batched.py --device cuda --models 1 4 16 --updates 600 \
            --rounds 2 --output "$OUT/batched-cuda" ;;
    batched-compiled)
        # The batches compiled, in float32 and with TF32; 3 rounds, since the first
        # holds the compilations (about 20 s per batch size; the median leaves it out).
        on_device
        for precision in ieee tf32; do
            python3 benchmarks/batched.py --device cuda --gpu-update compiled \
                --fp32-precision "$precision" --models 1 16 --updates 1000 --rounds 3 \
                --output "$OUT/batched-cuda-compiled-$precision"
        done ;;
    table)
        on_device
        shift
        seeds=()
        while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do seeds+=("$1"); shift; done
        shift
        python3 benchmarks/reproduce.py --device cuda --batched --seeds "${seeds[@]}" \
            --settings "$@" --output "$OUT/paper-schedule-cuda" ;;
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
            echo "[$(date +%T)] step: $step"
            status=0
            # shellcheck disable=SC2086  # a step's words are its arguments
            timeout "${STEP_LIMIT:-1500}" bash "$0" $step || status=$?
            [ "$status" -eq 0 ] || echo "[$(date +%T)] step failed (exit $status): $step"
        done
        echo "[$(date +%T)] queue done" ;;
    session)
        # A GPU session's whole plan as one queue, what the open issues need first:
        # the CUDA tests, Table 1's 100-label row (5 seeds), the 16-model batch against
        # one (compiled, float32 and TF32), then the 1000- and all-label rows, the
        # 50- and 40-label rows, Conv-Small (Table 2), Table 5 and the speed table. Start it with
        # `background session`; `collect 570` until "queue done".
        bash "$0" queue tests \
            "table 0 1 2 3 4 -- full-100 bottom-100 gamma-100 supervised-100" \
            batched-compiled \
            "table 0 1 2 3 4 -- full-1000 bottom-1000 gamma-1000 supervised-1000" \
            "table 0 1 2 3 4 -- full-all bottom-all gamma-all supervised-all" \
            "table 0 1 2 3 4 -- full-50 full-40" \
            "table 0 1 2 -- conv-small-gamma-100 conv-small-supervised-100" \
            "table 0 1 2 -- g1-100 g2-100 g3-100 g4-100 amlp-100" speed ;;
    collect)
        # Wait up to $2 seconds (default 0) for the background step, then copy what it
        # has written so far.
        on_device
        deadline=$((SECONDS + ${2:-0}))
        while kill -0 "$(cat "$BG/pid")" 2> /dev/null && [ "$SECONDS" -lt "$deadline" ]; do
            sleep 5
        done
        kill -0 "$(cat "$BG/pid")" 2> /dev/null && echo "still running" || echo "finished"
        cp -r "$BG/out/." "$OUT/" && cp "$BG/log" "$OUT/background.log"
        tail -n 40 "$BG/log" ;;
    datasets)
        on_device
        shift
        python3 benchmarks/datasets.py --device cuda --grid "$@" --output "$OUT/datasets-gpu" ;;
    *)
        echo "usage: $0 prepare | tests | speed | batched-compiled | probe |" \
             "table SEED... -- SETTING..." \
             "[--max-models N] | datasets [datasets.py options, e.g. --only wine] |" \
             "queue 'STEP ARGS'... | session | background STEP... | collect [SECONDS]" >&2
        exit 2 ;;
esac
