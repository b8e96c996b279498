#!/bin/sh
# 1 publisher -> 1 subscriber at 64 B, QoS 0, N messages, back to back on one
# machine: mosquitto with its own C clients, then `smqctl broker` with
# `smqctl bench pubsub` on ws:// and on the raw transport (http://).
#
#   contrib/bench-vs-mosquitto.sh [SMQCTL] [N] [ROUNDS]
#
# SMQCTL defaults to target/release/smqctl, N to 1000000, ROUNDS to 3.
# Needs mosquitto and mosquitto-clients (Debian: apt install mosquitto
# mosquitto-clients). Listens on 127.0.0.1 only (ports MQ_PORT, SMQ_PORT).
#
# mosquitto's figure is N divided by the whole time from starting
# `mosquitto_pub -l` (which reads the N lines of a file: 63 characters and a
# newline each, a 63-byte payload) to `mosquitto_sub -C N` exiting after the
# last message: its connect is included (about a millisecond). smqctl's is
# bench's own "received" rate: first publish to last message received (both
# clients connected beforehand), 64-byte payloads.
set -u
S=${1:-target/release/smqctl}
N=${2:-1000000}
ROUNDS=${3:-3}
MQ_PORT=${MQ_PORT:-18830}
SMQ_PORT=${SMQ_PORT:-19357}
for tool in mosquitto mosquitto_sub mosquitto_pub "$S"; do
    command -v "$tool" > /dev/null || { echo "missing: $tool" >&2; exit 2; }
done
tmp=$(mktemp -d)
MQ= BROKER=
cleanup() {
    [ -n "$MQ" ] && kill "$MQ" 2> /dev/null
    [ -n "$BROKER" ] && kill "$BROKER" 2> /dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Waits (at most 10 s) until FILE holds a line matching PATTERN.
await() {
    i=0
    until grep -q "$2" "$1" 2> /dev/null; do
        i=$((i + 1))
        [ $i -gt 200 ] && { echo "timed out waiting for '$2' in $1" >&2; exit 1; }
        sleep 0.05
    done
}

line=$(printf '%063d' 0 | tr 0 x)
yes "$line" | head -n "$N" > "$tmp/lines"
cat > "$tmp/mq.conf" << EOF
listener $MQ_PORT 127.0.0.1
allow_anonymous true
log_dest stderr
log_type subscribe
EOF
# stderr: unbuffered, so the subscription's log line shows at once.
mosquitto -c "$tmp/mq.conf" 2>> "$tmp/mq.log" &
MQ=$!
"$S" broker --listen "127.0.0.1:$SMQ_PORT" > "$tmp/broker.log" 2>&1 &
BROKER=$!
sleep 0.5
echo "N=$N, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

mosquitto_round() {
    : > "$tmp/mq.log"
    mosquitto_sub -p "$MQ_PORT" -t t -C "$N" -W 120 > /dev/null &
    sub=$!
    # The broker logs "<client> 0 t" once the subscription is in place.
    await "$tmp/mq.log" ' 0 t$'
    t0=$(date +%s%N)
    mosquitto_pub -p "$MQ_PORT" -t t -l < "$tmp/lines"
    wait "$sub"
    rc=$?
    t1=$(date +%s%N)
    if [ $rc -ne 0 ]; then
        echo "mosquitto       : mosquitto_sub did not get all $N messages within 120 s (exit $rc)"
    else
        echo "mosquitto       : $(( N * 1000000000 / (t1 - t0) )) msgs/s ($(( (t1 - t0) / 1000000 )) ms)"
    fi
}

smqctl_round() {
    "$S" bench pubsub --url "$1://127.0.0.1:$SMQ_PORT/" --count "$N" --size 64 -F json \
        > "$tmp/bench.json"
    rc=$?
    rate=$(sed -n 's/.*"msgs_per_s":\([0-9.]*\).*/\1/p' "$tmp/bench.json")
    lost=$(sed -n 's/.*"lost":\([0-9]*\).*/\1/p' "$tmp/bench.json")
    echo "smqctl $1$(printf '%*s' $((9 - ${#1})) ''): ${rate%.*} msgs/s (lost ${lost:-?}, exit $rc)"
}

r=1
while [ $r -le "$ROUNDS" ]; do
    echo "round $r"
    mosquitto_round
    smqctl_round ws
    smqctl_round http
    r=$((r + 1))
done
