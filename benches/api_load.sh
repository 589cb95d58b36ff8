#!/usr/bin/env bash
# API load benchmark: GET /api/queue, GET /api/job and POST /api/job against a release
# `waitctl serve --no-worker` holding 10,000 stored jobs, 50 connections each, with wrk.
# Goal: GET p99 < 10 ms at >= 500 req/s; POST p99 < 20 ms, both measured at a fixed
# offered rate of 500 req/s (not at saturation). Each endpoint is run twice: at
# saturation (max throughput with 50 connections) and paced at the fixed rate
# (benches/lua/paced.lua); one table shows both.
#
#   benches/api_load.sh            # 30 s per load
#   benches/api_load.sh --quick    # 5 s per load (smoke run)
#
# Environment: WAITCTL (binary; default target/release/waitctl, built if missing),
# BENCH_PORT (default 18093), BENCH_JOBS (default 10000), BENCH_CONNECTIONS (default 50),
# BENCH_RATE (fixed offered rate, default 500), BENCH_THREADS (wrk threads, default 2).
set -euo pipefail

duration=30
if [[ "${1:-}" == "--quick" ]]; then
    duration=5
elif [[ -n "${1:-}" ]]; then
    echo "usage: $0 [--quick]" >&2
    exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
waitctl="${WAITCTL:-$root/target/release/waitctl}"
port="${BENCH_PORT:-18093}"
jobs="${BENCH_JOBS:-10000}"
conns="${BENCH_CONNECTIONS:-50}"
rate="${BENCH_RATE:-500}"
threads="${BENCH_THREADS:-2}"
get_goal_ms=10
post_goal_ms=20
[[ "$rate" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_RATE must be a positive whole number" >&2; exit 2; }
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_THREADS must be a positive whole number" >&2; exit 2; }

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    sudo_cmd=""
    [[ "$(id -u)" != 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get install -y wrk >/dev/null 2>&1 || {
        $sudo_cmd apt-get update >/dev/null && $sudo_cmd apt-get install -y wrk >/dev/null
    }
fi
for tool in sqlite3 curl; do
    command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
if [[ ! -x "$waitctl" ]]; then
    (cd "$root" && cargo build --release -p waitctl)
fi

scratch="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT
data="$scratch/data"
db="$data/wait.db"

# A repository the catalog accepts (demo fixtures), an admin user, and one finished job
# whose request is the template of every generated job and of the POSTed body.
echo "preparing the demo repository and database in $scratch" >&2
"$waitctl" demo --data-dir "$data" --bind "127.0.0.1:0" --once >"$scratch/demo.log" 2>&1 || {
    echo "waitctl demo failed:" >&2
    cat "$scratch/demo.log" >&2
    exit 1
}
board="$(sqlite3 "$db" "SELECT motherboard_model FROM build_jobs LIMIT 1")"
image="$(sqlite3 "$db" "SELECT base_image FROM build_jobs LIMIT 1")"

# $jobs stored jobs, as a long-running server holds them: nearly all history
# (Completed, every tenth Failed_Build), the last 50 still Queued.
sqlite3 "$db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $jobs)
INSERT INTO build_jobs (
    job_id, seq, status, progress, motherboard_model, base_image, customer_name,
    image_index, driver_set, langpacks, updates, software, answer_file, key_variants,
    create_iso, compression, log_level, created_by, created_at, started_at, finished_at,
    attempt, max_attempts, run_after, warnings, output_files, resources, options)
SELECT printf('%08x-0000-4000-8000-%012x', n.i, n.i),
       (SELECT MAX(seq) FROM build_jobs) + n.i,
       CASE WHEN n.i > $jobs - 50 THEN 'Queued'
            WHEN n.i % 10 = 0 THEN 'Failed_Build' ELSE 'Completed' END,
       CASE WHEN n.i > $jobs - 50 THEN 0 ELSE 100 END,
       t.motherboard_model, t.base_image, 'BENCH', t.image_index, t.driver_set,
       t.langpacks, t.updates, t.software, t.answer_file, t.key_variants, t.create_iso,
       t.compression, t.log_level, 'admin',
       t.created_at + n.i,
       CASE WHEN n.i > $jobs - 50 THEN NULL ELSE t.created_at + n.i END,
       CASE WHEN n.i > $jobs - 50 THEN NULL ELSE t.created_at + n.i + 600000 END,
       CASE WHEN n.i > $jobs - 50 THEN 0 ELSE 1 END,
       3, t.created_at, '[]', '[]', '[]', '{}'
  FROM n, (SELECT * FROM build_jobs ORDER BY seq LIMIT 1) AS t;
SQL
echo "jobs stored: $(sqlite3 "$db" "SELECT COUNT(*) FROM build_jobs")" >&2

token="$("$waitctl" token create --data-dir "$data" --user admin --name bench | grep -o 'wait_[A-Za-z0-9_-]*' | head -n 1)"
[[ -n "$token" ]] || { echo "no API token was printed" >&2; exit 1; }

"$waitctl" serve --data-dir "$data" --bind "127.0.0.1:$port" --no-worker >"$scratch/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$scratch/serve.log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null

# the POST body must be accepted before it is measured
post_body="{\"motherboard_model\": \"$board\", \"base_image\": \"$image\", \"customer_name\": \"BENCH\"}"
status="$(curl -s -o "$scratch/post.out" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "$post_body" "http://127.0.0.1:$port/api/job")"
[[ "$status" == 201 ]] || { echo "POST /api/job answered $status: $(cat "$scratch/post.out")" >&2; exit 1; }

# One wrk run; prints a table row. $rate 0 = saturation (as fast as $conns connections
# go), else that many requests per second offered (benches/lua/paced.lua). The goal is
# judged on the fixed-rate rows only: achieved >= 97% of offered (the pacer staggers
# the first slots), no errors or non-2xx answers, and p99 under the endpoint's limit.
run() {
    local label="$1" method="$2" path="$3" rate="$4" limit_ms="$5"
    local body=""
    [[ "$method" == POST ]] && body="$post_body"
    local line
    line="$(BENCH_RATE="$rate" BENCH_THREADS="$threads" BENCH_METHOD="$method" BENCH_BODY="$body" \
        wrk -t"$threads" -c"$conns" -d"${duration}s" -s "$root/benches/lua/paced.lua" \
        -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | grep '^RESULT')" || {
        echo "wrk gave no result for $label" >&2
        exit 1
    }
    local rps p50 p99 max errors non2xx
    for kv in ${line#RESULT }; do
        case "$kv" in
            rps=*) rps="${kv#rps=}" ;;
            p50_ms=*) p50="${kv#p50_ms=}" ;;
            p99_ms=*) p99="${kv#p99_ms=}" ;;
            max_ms=*) max="${kv#max_ms=}" ;;
            errors=*) errors="${kv#errors=}" ;;
            non2xx=*) non2xx="${kv#non2xx=}" ;;
        esac
    done
    local offered="max" goal="-"
    if [[ "$rate" != 0 ]]; then
        offered="$rate"
        goal="$(awk -v rps="$rps" -v rate="$rate" -v p99="$p99" -v limit="$limit_ms" \
            -v bad="$((errors + non2xx))" \
            'BEGIN { print (rps >= 0.97 * rate && p99 < limit && bad == 0) ? "yes" : "no" }')"
    fi
    printf '%-16s %8s %9s %9s %9s %9s %5s %8s\n' \
        "$label" "$offered" "$rps" "$p50" "$p99" "$max" "$goal" "$((errors + non2xx))"
}

echo "wrk: $conns connections, $threads threads, ${duration}s per load, $jobs jobs stored ($(nproc) cores)"
echo "goal at $rate req/s offered: GET p99 < ${get_goal_ms} ms, POST p99 < ${post_goal_ms} ms"
printf '%-16s %8s %9s %9s %9s %9s %5s %8s\n' \
    endpoint offered achieved p50_ms p99_ms max_ms goal errors
# GETs first: every POST adds a queued job, which would change what the GETs read.
run "GET /api/queue" GET /api/queue 0 "$get_goal_ms"
run "GET /api/queue" GET /api/queue "$rate" "$get_goal_ms"
run "GET /api/job" GET /api/job 0 "$get_goal_ms"
run "GET /api/job" GET /api/job "$rate" "$get_goal_ms"
run "POST /api/job" POST /api/job "$rate" "$post_goal_ms"
run "POST /api/job" POST /api/job 0 "$post_goal_ms"
