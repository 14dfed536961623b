#!/usr/bin/env bash
# Runs the load scenarios against a running cluster, then prints one line per threshold
# (pass/FAIL) and exits non-zero when any failed or any scenario could not run.
#
#   TARGET       ws URLs, comma-separated (default: the three gateways of `npm run cluster`)
#   MQTT_URL     the broker the bridge uses, for the device scenario (skipped when unset)
#   SMOKE=1      every scenario in a few seconds, under 60 s in all, same thresholds
#   SCENARIOS    a space-separated subset of: connections fanout crossnode direct reconnect devices
#   CONNECTIONS  for the connections scenario (10000; 300 in a smoke), spread over one k6 process
#                per 15000 connections, each with its own loopback source addresses
#   PROGRESS_S   how often a running scenario reports its progress (10): elapsed time, VUs,
#                connections opened, frames sent and received (loadtest/progress.mjs)
# Each scenario's sizes (ROOMS, MEMBERS, RATE, DURATION_S, ...) are read from the environment;
# the defaults sit at the top of its file. Results: loadtest/results/<time>/<scenario>.json.
set -uo pipefail
cd "$(dirname "$0")/.."

export TARGET=${TARGET:-ws://127.0.0.1:8081/ws,ws://127.0.0.1:8082/ws,ws://127.0.0.1:8083/ws}
export RUN_ID=${RUN_ID:-$(date +%s)}
SCENARIOS=${SCENARIOS:-connections fanout crossnode direct reconnect devices}
CONNECTIONS_PER_PROCESS=15000
export PROGRESS_S=${PROGRESS_S:-10}
if ! [[ $PROGRESS_S =~ ^[0-9]+(\.[0-9]+)?$ ]] || [[ $PROGRESS_S =~ ^0+(\.0+)?$ ]]; then
  echo "loadtest: PROGRESS_S must be a positive number of seconds, not '$PROGRESS_S'" >&2
  exit 2
fi
if [ "${SMOKE:-}" = 1 ]; then scenario_limit_s=50; else scenario_limit_s=900; fi

k6=$(bash loadtest/install-k6.sh) || exit 1
results=loadtest/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
status=0

all_targets_loopback() {
  local url host
  for url in ${TARGET//,/ }; do
    host=${url#*://}; host=${host%%[:/]*}
    case $host in 127.*|localhost) ;; *) return 1 ;; esac
  done
}

free_address() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log('127.0.0.1:'+s.address().port);s.close()})"
}

# Reports the progress of the k6 processes serving their REST API on the addresses given, under
# the scenario's name, until stop_progress.
start_progress() {
  node loadtest/progress.mjs "$@" &
  progress_pid=$!
}
stop_progress() {
  kill "$progress_pid" 2>/dev/null
  wait "$progress_pid" 2>/dev/null
}

# Runs one k6 scenario file, its REST API on K6_ADDRESS (for progress.mjs); extra k6 arguments
# follow. Threshold failures (exit 99) show in the table; any other failure is reported here.
run_k6() {
  local name=$1 file=$2; shift 2
  timeout --kill-after=10 "$scenario_limit_s" "$k6" run --quiet --no-usage-report --address "$K6_ADDRESS" \
    --summary-trend-stats 'avg,min,med,p(50),p(95),p(99),max' \
    --summary-export "$results/$name.json" "$@" "loadtest/$file" > "$results/$name.log" 2>&1
  local code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 99 ] || [ ! -s "$results/$name.json" ]; then
    echo "$name: k6 exited $code without a summary; see $results/$name.log" >&2
    tail -5 "$results/$name.log" >&2
    status=1
  fi
}

run_connections() {
  local total=${CONNECTIONS:-$([ "${SMOKE:-}" = 1 ] && echo 300 || echo 10000)}
  local shards=$(( (total + CONNECTIONS_PER_PROCESS - 1) / CONNECTIONS_PER_PROCESS ))
  local shard pids=() local_ips=() addresses=()
  for ((shard = 0; shard < shards; shard++)); do
    if all_targets_loopback; then local_ips=(--local-ips "127.1.$shard.1-127.1.$shard.16"); fi
    addresses+=("$(free_address)")
    K6_ADDRESS=${addresses[$shard]} CONNECTIONS=$total SHARDS=$shards SHARD=$shard \
      run_k6 "connections-$shard" connections.js "${local_ips[@]}" &
    pids+=($!)
  done
  start_progress connections "${addresses[@]}"
  # Each shard ran in a subshell whose `status` is lost: a shard without a summary is the failure.
  wait "${pids[@]}"
  stop_progress
  for ((shard = 0; shard < shards; shard++)); do
    [ -s "$results/connections-$shard.json" ] || { echo "connections-$shard: no summary" >&2; status=1; }
  done
}

run_devices() {
  if [ -z "${MQTT_URL:-}" ]; then
    echo "devices: skipped (set MQTT_URL to the cluster's broker to run it)"
    return
  fi
  # Its progress lines show as they come, and stay in the log.
  timeout --kill-after=10 "$scenario_limit_s" node loadtest/devices.mjs --summary-export "$results/devices.json" 2>&1 \
    | tee "$results/devices.log"
  local code=${PIPESTATUS[0]}
  if [ "$code" -ne 0 ] && [ "$code" -ne 99 ]; then status=1; fi
}

for scenario in $SCENARIOS; do
  started=$SECONDS
  case $scenario in
    connections) run_connections ;;
    fanout|crossnode|direct|reconnect)
      K6_ADDRESS=$(free_address)
      start_progress "$scenario" "$K6_ADDRESS"
      run_k6 "$scenario" "$scenario.js"
      stop_progress ;;
    devices) run_devices ;;
    *) echo "unknown scenario $scenario" >&2; status=1; continue ;;
  esac
  echo "$scenario: $((SECONDS - started)) s"
done

echo
node loadtest/summary.mjs "$results" || status=1
exit "$status"
