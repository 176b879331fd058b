# Sourced by scripts/dev.sh and scripts/test.sh, from the project root.
#
# Uses the Redis at REDIS_HOST:REDIS_PORT (environment, then .env, then
# 127.0.0.1:6379) when one answers there. Otherwise starts a private
# redis-server on 127.0.0.1:${REDIS_PRIVATE_PORT:-6390}, with its data in
# tmp/redis/<port> (the tests' Redis never loads the development data),
# exports REDIS_HOST and REDIS_PORT for the app, and stops that
# server when the sourcing script exits. A Redis it did not start is never
# stopped.

redis_from_dotenv() {
  [[ -f .env ]] && sed -n "s/^$1=//p" .env | tail -n 1
}

redis_answers() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

redis_stop() {
  # The server may have been stopped and started again on its port
  # meanwhile (tests/functional/faults does), under a new pid.
  if [[ -n ${REDIS_STARTED_PID:-} ]] && ! kill -0 "$REDIS_STARTED_PID" 2>/dev/null; then
    REDIS_STARTED_PID=$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" info server 2>/dev/null |
      sed -n 's/^process_id:\([0-9]*\).*/\1/p')
  fi
  if [[ -n ${REDIS_STARTED_PID:-} ]] && kill -0 "$REDIS_STARTED_PID" 2>/dev/null; then
    kill -TERM "$REDIS_STARTED_PID"
    # redis-server exits within a second once idle; waiting keeps the port
    # free for whatever runs next.
    for _ in $(seq 50); do
      kill -0 "$REDIS_STARTED_PID" 2>/dev/null || break
      sleep 0.1
    done
    echo "Stopped redis-server on 127.0.0.1:$REDIS_PORT (pid $REDIS_STARTED_PID)"
  fi
  REDIS_STARTED_PID=
}

REDIS_HOST=${REDIS_HOST:-$(redis_from_dotenv REDIS_HOST)}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-$(redis_from_dotenv REDIS_PORT)}
REDIS_PORT=${REDIS_PORT:-6379}
REDIS_STARTED_PID=

if ! redis_answers "$REDIS_HOST" "$REDIS_PORT"; then
  REDIS_HOST=127.0.0.1
  REDIS_PORT=${REDIS_PRIVATE_PORT:-6390}
  if redis_answers "$REDIS_HOST" "$REDIS_PORT"; then
    echo "Using the Redis already running on $REDIS_HOST:$REDIS_PORT"
  else
    redis_dir=tmp/redis/$REDIS_PORT
    mkdir -p "$redis_dir"
    rm -f "$redis_dir/redis.pid"
    # Daemonized so that it has its own session: a Ctrl-C meant for the app
    # must not kill Redis while the app still drains its queue.
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$PWD/$redis_dir" \
      --daemonize yes --pidfile "$PWD/$redis_dir/redis.pid" --logfile "$PWD/$redis_dir/redis.log"
    for _ in $(seq 50); do
      [[ -s $redis_dir/redis.pid ]] && redis_answers "$REDIS_HOST" "$REDIS_PORT" && break
      sleep 0.1
    done
    if ! redis_answers "$REDIS_HOST" "$REDIS_PORT"; then
      echo "redis-server did not start on $REDIS_HOST:$REDIS_PORT; see $redis_dir/redis.log" >&2
      exit 1
    fi
    REDIS_STARTED_PID=$(<"$redis_dir/redis.pid")
    trap redis_stop EXIT
    echo "Started redis-server on $REDIS_HOST:$REDIS_PORT (pid $REDIS_STARTED_PID)"
  fi
fi
export REDIS_HOST REDIS_PORT
