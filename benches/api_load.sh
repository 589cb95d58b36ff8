#!/usr/bin/env bash
# API load benchmark: GET /api/queue, GET /api/job and POST /api/job against a release
# `waitctl serve --no-worker` holding 10,000 stored jobs, 50 connections each, with wrk.
# Goal: GET p99 < 10 ms at >= 500 req/s; POST p99 < 20 ms.
#
#   benches/api_load.sh            # 30 s per load
#   benches/api_load.sh --quick    # 5 s per load (smoke run)
#
# Environment: WAITCTL (binary; default target/release/waitctl, built if missing),
# BENCH_PORT (default 18093), BENCH_JOBS (default 10000), BENCH_CONNECTIONS (default 50).
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

if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    sudo_cmd=""
    [[ "$(id -u)" != 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get install -y wrk >/dev/null
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

# wrk reports through this: one machine-readable line per run
cat >"$scratch/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  local non2xx = e.status
  io.write(string.format("RESULT p50_ms=%.2f p99_ms=%.2f rps=%.0f requests=%d errors=%d non2xx=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests,
    e.connect + e.read + e.write + e.timeout, non2xx))
end
LUA
cat "$scratch/report.lua" >"$scratch/post.lua"
cat >>"$scratch/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"motherboard_model": "$board", "base_image": "$image", "customer_name": "BENCH"}'
LUA

# the POST body must be accepted before it is measured
status="$(curl -s -o "$scratch/post.out" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d "{\"motherboard_model\": \"$board\", \"base_image\": \"$image\", \"customer_name\": \"BENCH\"}" \
    "http://127.0.0.1:$port/api/job")"
[[ "$status" == 201 ]] || { echo "POST /api/job answered $status: $(cat "$scratch/post.out")" >&2; exit 1; }

run() {
    local label="$1" script="$2" path="$3"
    local line
    line="$(wrk -t2 -c"$conns" -d"${duration}s" --latency -s "$script" \
        -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" | grep '^RESULT')"
    printf '%-16s %s\n' "$label" "${line#RESULT }"
}

echo "wrk: $conns connections, ${duration}s each, $jobs jobs stored ($(nproc) cores)"
run "GET /api/queue" "$scratch/report.lua" /api/queue
run "GET /api/job" "$scratch/report.lua" /api/job
run "POST /api/job" "$scratch/post.lua" /api/job
