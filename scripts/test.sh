#!/usr/bin/env bash
#
# "npm test": installs what is missing, starts a Redis of its own, runs
# Japa (arguments go to "node ace test", e.g. "npm test -- functional") and
# ends with a plain "N passed, M failed" line. Exits non-zero when a test
# failed or none ran.
#
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
PATH="$PWD/node_modules/.bin:$PATH"
# The tests get a redis-server of their own, never a site's or a
# developer's: the fault tests stop and start it.
export REDIS_HOST=127.0.0.1
export REDIS_PORT=${REDIS_TEST_PORT:-6391} REDIS_PRIVATE_PORT=${REDIS_TEST_PORT:-6391}
source scripts/redis.sh
# It starts empty: jobs and keys a previous run left (saved when its Redis
# stopped) would meet tests that reuse their fixed job ids.
redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" flushall >/dev/null

# The engine's tests need the ONNX models; quick when models/ is current.
node ace models:build

log=$(mktemp)
trap 'rm -f "$log"; redis_stop' EXIT

test_status=0
node ace test --no-clear "$@" 2>&1 | tee "$log" || test_status=$?

# Japa's summary reads "Tests  7 passed, 1 failed (8)" (with colours);
# a run without failures omits the ", 1 failed".
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^\s*Tests\s' | tail -n 1 || true)
passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)

echo "$passed passed, $failed failed"
if ((failed > 0 || passed == 0)); then
  exit 1
fi
exit "$test_status"
