#!/usr/bin/env bash
# Local S3 server (SeaweedFS `weed mini`) for the tests, on 127.0.0.1 only.
# Virtual-hosted-style requests work as <bucket>.localhost:<port> (libcurl
# resolves *.localhost to the loopback address).
#
#   scripts/test-server.sh start DIR            start; writes DIR/env (R2_TEST_*, and
#                                               R2_TEST_SERVER_PID: the server's pid)
#   scripts/test-server.sh stop DIR             stop (idempotent)
#   scripts/test-server.sh run DIR -- CMD...    start, run CMD with DIR/env, stop
#
# S3 ports: R2_TEST_PORT (http, default 8333), R2_TEST_TLS_PORT (https, 8443).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WEED=$ROOT/.venv/bin/weed
PORT=${R2_TEST_PORT:-8333}
TLS_PORT=${R2_TEST_TLS_PORT:-8443}
ACCESS_KEY=AKIDTESTR2ADMIN
BUCKETS=(r2-test r2-demo)

die() { echo "test-server: $*" >&2; exit 1; }

# True if something already answers on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port VAR: a random port P for one of weed's internal servers, with P
# and P+10000 unused: weed puts the gRPC port at P+10000, and its maintenance
# worker assumes that offset even if told otherwise. Both stay below the
# kernel's ephemeral range (32768+), so outgoing connections can't take them.
taken=" "
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 2700))
        [[ $taken == *" $p "* || $taken == *" $((p + 10000)) "* ]] ||
            port_busy "$p" || port_busy $((p + 10000)) || break
    done
    taken+="$p $((p + 10000)) "
    printf -v "$1" %s "$p"
}

stop() {
    local dir=$1 pid i p
    [ -f "$dir/weed.pid" ] || return 0
    pid=$(<"$dir/weed.pid")
    # Only signal the group if its leader is still our weed (pid reuse guard).
    if [[ $(ps -o comm= -p "$pid" 2>/dev/null) == weed ]]; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    # weed leaves unix sockets /tmp/seaweedfs-<service>-<port>.sock behind;
    # with random ports they would pile up, so remove the ones for our ports.
    for p in $(cat "$dir/weed.ports" 2>/dev/null); do
        rm -f /tmp/seaweedfs-*-"$p".sock
    done
    rm -f "$dir/weed.pid" "$dir/weed.ports"
}

make_certs() {
    local dir=$1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 30 -subj "/CN=r2 test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    # SAN + serverAuth: required by OpenSSL/curl and by Apple's TLS checks.
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$dir/server.key" -subj "/CN=localhost" 2>/dev/null |
        openssl x509 -req -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
            -days 30 -out "$dir/server.pem" 2>/dev/null \
            -extfile <(printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
                "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth")
}

# Create a bucket with a SigV4-signed PUT (also proves the credentials work).
make_bucket() {
    local code
    code=$(curl -s -o "$DIR/put.out" -w '%{http_code}' --max-time 5 -X PUT \
        --aws-sigv4 "aws:amz:auto:s3" --user "$ACCESS_KEY:$SECRET" "$HTTP/$1") || return 1
    [ "$code" = 200 ] || { [ "$code" = 409 ] && grep -q BucketAlreadyOwnedByYou "$DIR/put.out"; }
}

start() {
    mkdir -p "$1"
    DIR=$(cd "$1" && pwd)
    [ -x "$WEED" ] || "$ROOT/scripts/setup.sh"
    # Fresh state: no old server, data or env from a previous run.
    stop "$DIR"
    rm -rf "$DIR/data" "$DIR/env"
    # Refuse rather than later mistake someone else's server for ours.
    for p in "$PORT" "$TLS_PORT"; do
        ! port_busy "$p" || die "port $p is already in use (set R2_TEST_PORT / R2_TEST_TLS_PORT)"
    done
    taken=" $PORT $TLS_PORT "
    free_port MASTER; free_port VOLUME; free_port FILER; free_port ADMIN; free_port S3_GRPC
    echo "$taken" >"$DIR/weed.ports"

    umask 077 # the secret lands in ids.json and env
    make_certs "$DIR" || die "openssl failed"
    SECRET=$(openssl rand -hex 20)
    printf '{"identities":[{"name":"admin","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","List","Tagging","Write"]}]}\n' \
        "$ACCESS_KEY" "$SECRET" >"$DIR/ids.json"

    local t0 pid deadline
    t0=$(date +%s%N)
    # setsid: own process group, so stop can kill it all and Ctrl-C in the
    # terminal reaches only the trap in `run`, which then stops it cleanly.
    setsid "$WEED" mini -dir="$DIR/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.telemetry=false -admin.ui=false -webdav=false \
        -s3.config="$DIR/ids.json" -s3.port="$PORT" -s3.port.https="$TLS_PORT" \
        -s3.cert.file="$DIR/server.pem" -s3.key.file="$DIR/server.key" \
        -s3.port.iceberg=0 -s3.port.lance=0 -s3.port.grpc="$S3_GRPC" -s3.domainName=localhost \
        -master.port="$MASTER" -volume.port="$VOLUME" -filer.port="$FILER" -admin.port="$ADMIN" \
        </dev/null >"$DIR/weed.log" 2>&1 &
    pid=$!
    echo "$pid" >"$DIR/weed.pid"

    # Up = both endpoints answer (https verified against our CA) and buckets exist.
    HTTP=http://127.0.0.1:$PORT
    HTTPS=https://127.0.0.1:$TLS_PORT
    deadline=$((SECONDS + 60))
    until curl -s -o /dev/null --max-time 2 "$HTTP/" &&
        curl -s -o /dev/null --max-time 2 --cacert "$DIR/ca.pem" "$HTTPS/" &&
        make_bucket "${BUCKETS[0]}" && make_bucket "${BUCKETS[1]}"; do
        if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
            echo "test-server: weed did not come up; tail of $DIR/weed.log:" >&2
            tail -n 30 "$DIR/weed.log" >&2
            stop "$DIR"
            exit 1
        fi
        sleep 0.2
    done
    rm -f "$DIR/put.out"

    cat >"$DIR/env" <<EOF
export R2_TEST_ENDPOINT=$HTTP
export R2_TEST_TLS_ENDPOINT=$HTTPS
export R2_TEST_CA=$DIR/ca.pem
export R2_TEST_ACCESS_KEY_ID=$ACCESS_KEY
export R2_TEST_SECRET_ACCESS_KEY=$SECRET
export R2_TEST_BUCKET=${BUCKETS[0]}
export R2_TEST_SERVER_PID=$pid
EOF
    # stderr, so `run` leaves CMD's stdout untouched.
    printf 'test-server: up in %d ms (pid %s): %s %s, buckets %s; env in %s/env\n' \
        $((($(date +%s%N) - t0) / 1000000)) "$pid" "$HTTP" "$HTTPS" "${BUCKETS[*]}" "$DIR" >&2
}

cmd=${1:-}
[ $# -ge 2 ] || die "usage: $0 start|stop DIR | run DIR -- CMD [ARGS...]"
case $cmd in
start) start "$2" ;;
stop) stop "$2" ;;
run)
    dir=$2
    shift 2
    [ "${1:-}" = -- ] && shift
    [ $# -ge 1 ] || die "run: no command given"
    # Stop the server however we leave: success, failure, Ctrl-C, kill.
    trap 'stop "$dir"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start "$dir"
    rc=0
    (. "$DIR/env" && exec "$@") || rc=$?
    exit "$rc"
    ;;
*) die "unknown command '$cmd' (start, stop or run)" ;;
esac
