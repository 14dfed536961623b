#!/usr/bin/env bash
# CI's load smoke: starts a local cluster like `npm run cluster` does (Redis, Mosquitto, three
# gateways, one bridge, from binaries on PATH, on free loopback ports), waits until every node is
# ready, runs `SMOKE=1 loadtest/run.sh` against it (under 60 s), stops everything it started,
# and exits with the smoke's status: non-zero when any threshold failed.
set -uo pipefail
cd "$(dirname "$0")/.."

for tool in redis-server mosquitto node curl; do
  command -v "$tool" >/dev/null || { echo "smoke-ci: $tool not on PATH" >&2; exit 1; }
done
[ -f services/gateway/dist/main.js ] && [ -f services/mqtt-bridge/dist/main.js ] || npm run build --silent || exit 1

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Waits up to 30 s for an HTTP 200 from each URL given.
wait_ready() {
  local url deadline=$((SECONDS + 30))
  for url in "$@"; do
    until curl -fs -o /dev/null "$url"; do
      if [ "$SECONDS" -ge "$deadline" ]; then echo "smoke-ci: $url never became ready" >&2; return 1; fi
      sleep 0.2
    done
  done
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no > "$work/redis.log" 2>&1 &
pids+=($!)

mqtt_port=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$mqtt_port" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
pids+=($!)

export REDIS_URL=redis://127.0.0.1:$redis_port
export MQTT_URL=mqtt://127.0.0.1:$mqtt_port
targets=() ready_urls=()
for node in 1 2 3; do
  port=$(free_port)
  PORT=$port HOST=127.0.0.1 NODE_ID=smoke-$node RATE_LIMIT=1000 LOG_LEVEL=warn DRAIN_SECONDS=1 \
    node --max-semi-space-size=4 services/gateway/dist/main.js > "$work/gateway-$node.log" 2>&1 &
  pids+=($!)
  targets+=("ws://127.0.0.1:$port/ws")
  ready_urls+=("http://127.0.0.1:$port/readyz")
done
bridge_port=$(free_port)
PORT=$bridge_port HOST=127.0.0.1 NODE_ID=smoke-bridge LOG_LEVEL=warn node services/mqtt-bridge/dist/main.js \
  > "$work/bridge.log" 2>&1 &
pids+=($!)
ready_urls+=("http://127.0.0.1:$bridge_port/readyz")

if ! wait_ready "${ready_urls[@]}"; then
  tail -n 20 "$work"/*.log >&2
  exit 1
fi

TARGET=$(IFS=,; echo "${targets[*]}") SMOKE=1 bash loadtest/run.sh
status=$?
if [ "$status" -ne 0 ]; then
  echo "smoke-ci: failed; the cluster's logs:" >&2
  tail -n 20 "$work"/*.log >&2
fi
exit "$status"
