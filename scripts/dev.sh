#!/usr/bin/env bash
#
# "npm run dev": installs what is missing, starts Redis when none answers,
# migrates, creates the first administrator, then serves
# http://localhost:3333 with hot reloading and the queue worker in-process.
# Ctrl-C stops the server and the Redis this script started.
#
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
PATH="$PWD/node_modules/.bin:$PATH"
source scripts/redis.sh

# ONNX models from the npm packages' weights; quick when models/ is current.
node ace models:build
node ace migration:run --force
node ace db:seed

# In the background so that a SIGINT sent to this script alone, not only a
# terminal's Ctrl-C, reaches the server: bash acts on signals only between
# commands. A non-interactive shell starts background jobs with SIGINT
# ignored and stdin on /dev/null; `env --default-signal` and `<&0` undo that,
# so Ctrl-C and the dev server's keyboard shortcuts behave as in the
# foreground.
env --default-signal=INT node ace serve --hmr --no-clear <&0 &
server_pid=$!
trap 'kill -INT "$server_pid" 2>/dev/null || true' INT TERM

server_status=0
while kill -0 "$server_pid" 2>/dev/null; do
  wait "$server_pid" && server_status=0 || server_status=$?
done
exit "$server_status"
