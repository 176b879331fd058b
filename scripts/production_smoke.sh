#!/usr/bin/env bash
#
# The README's "Running in production", run the way an integrator runs it,
# then checked against the running server. Builds; installs the build in a
# fresh folder (tmp/prod-install) with "npm ci --omit=dev"; writes its .env
# from .env.production.example; builds the models, migrates and seeds the
# first administrator; starts it with "npm start" (NODE_ENV=production) on
# 127.0.0.1:$SMOKE_APP_PORT beside a private Redis on $SMOKE_REDIS_PORT;
# lets a terminal ask for a token and approves it with "node ace
# device:approve"; runs scripts/production_smoke.ts against it; stops the
# server and Redis. The "node ace" commands run on whatever "node" is on
# PATH, as typed by hand: ace.js moves them to the bundled Node 24.
# tmp/prod-install is removed when every check passed and kept otherwise.
#
#   bash scripts/production_smoke.sh     # .ci/run runs it after the suites
#
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
root=$PWD
app_port=${SMOKE_APP_PORT:-3359}
redis_port=${SMOKE_REDIS_PORT:-6399}
install=$root/tmp/prod-install
origin=http://127.0.0.1:$app_port
admin_email=admin@example.org
admin_password=smoke-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
device_name='Smoke gate'
device_serial=SMOKE-0001
started=$SECONDS

step() {
  echo "-- $* ($((SECONDS - started)) s)"
}

answers() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}
# The server and Redis must be this script's own: the checks would otherwise
# talk to whatever else listens there.
for port in "$app_port" "$redis_port"; do
  if answers "$port"; then
    echo "Something already answers on 127.0.0.1:$port; set SMOKE_APP_PORT and SMOKE_REDIS_PORT to free ports" >&2
    exit 1
  fi
done

step npm run build
npm run build

# From here on only .env decides how the installed app runs, as on a site.
unset HOST PORT APP_KEY APP_URL ALLOW_PLAIN_HTTP SESSION_DRIVER LOG_LEVEL DB_CONNECTION DB_FILE \
  REDIS_HOST REDIS_PORT REDIS_PASSWORD REDIS_DB STORAGE_DIR PLUGINS_FILE QUEUE_WORKER
export NODE_ENV=production

step "cp -a build $install && cd $install"
rm -rf "$install"
cp -a build "$install"
cd "$install"
mkdir -p tmp

step npm ci --omit=dev
ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund 2>&1 |
  { grep -v 'npm warn EBADENGINE' || true; }

step "install -m 600 .env.production.example .env, node ace generate:key --force"
install -m 600 .env.production.example .env
node ace generate:key --force
# A loopback server: plain http is all there is to test here.
sed -i -e "s|^HOST=.*|HOST=127.0.0.1|" -e "s|^PORT=.*|PORT=$app_port|" \
  -e "s|^APP_URL=.*|APP_URL=$origin|" -e "s|^ALLOW_PLAIN_HTTP=.*|ALLOW_PLAIN_HTTP=true|" \
  -e "s|^REDIS_PORT=.*|REDIS_PORT=$redis_port|" .env
health_token=$(openssl rand -hex 16)
sed -i -e "s|^HEALTH_TOKEN=.*|HEALTH_TOKEN=$health_token|" .env

REDIS_HOST=127.0.0.1 REDIS_PORT=$redis_port REDIS_PRIVATE_PORT=$redis_port
source "$root/scripts/redis.sh"

step node ace models:build
node ace models:build

step node ace migration:run --force
node ace migration:run --force

step "node ace db:seed (ADMIN_EMAIL=$admin_email)"
ADMIN_EMAIL=$admin_email ADMIN_PASSWORD=$admin_password node ace db:seed

step "npm start, on $origin"
server_pid=
stop_server() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    # npm, its shell, the server and its engine workers: the group setsid made.
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
    echo "Stopped the server (pid $server_pid)"
  fi
  server_pid=
}
trap 'stop_server; redis_stop' EXIT
setsid npm start >tmp/server.log 2>&1 &
server_pid=$!
for _ in $(seq 120); do
  curl -s -o /dev/null "$origin/health" && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat tmp/server.log
    echo "The server exited before it answered on $origin" >&2
    exit 1
  fi
  sleep 0.5
done

step "a terminal asks for a token, node ace device:approve $device_serial"
curl -s --data-urlencode "deviceName=$device_name" --data-urlencode "sn=$device_serial" \
  "$origin/faces/api/token"
echo
approval=$(node ace device:approve "$device_serial" 2>&1) || true
echo "$approval"
secret=$(grep -oE '^fa1_[A-Za-z0-9_-]+$' <<<"$approval" || true)

step scripts/production_smoke.ts
smoke_status=0
if [[ -z $secret ]]; then
  echo "device:approve printed no credential" >&2
  smoke_status=1
else
  (cd "$root" && node_modules/.bin/node --import=@poppinss/ts-exec scripts/production_smoke.ts \
    --url="$origin" --email="$admin_email" --password="$admin_password" \
    --serial="$device_serial" --device-name="$device_name" --secret="$secret" \
    --health-token="$health_token") || smoke_status=$?
fi
stop_server

if ((smoke_status != 0)); then
  echo "== The end of the server's log ($install/tmp/server.log):"
  tail -n 40 tmp/server.log
  echo "production smoke: failed after $((SECONDS - started)) s"
  exit "$smoke_status"
fi
# Redis keeps its data in the install and does not exit while it cannot save there.
redis_stop
cd "$root"
rm -rf "$install"
echo "production smoke: passed in $((SECONDS - started)) s"
