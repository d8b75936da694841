#!/usr/bin/env bash
# Start the production profile's services on this machine if they are not running:
# PostgreSQL (127.0.0.1:5432, trust auth), Redis (127.0.0.1:6379) and RabbitMQ (127.0.0.1:5672),
# then create the `pilotrock` database if it is missing. Used by `make run-cluster` and .ci/run.
set -euo pipefail

PG_DATABASE="${PG_DATABASE:-pilotrock}"

listening() {  # listening PORT: is something accepting connections on 127.0.0.1:PORT?
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for() {  # wait_for NAME PORT SECONDS
  local name="$1" port="$2" seconds="$3"
  for _ in $(seq "$((seconds * 2))"); do
    listening "$port" && return 0
    sleep 0.5
  done
  echo "services: $name did not come up on 127.0.0.1:$port" >&2
  return 1
}

if ! listening 5432; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  wait_for PostgreSQL 5432 30
fi

if ! listening 6379; then
  echo "services: starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_for Redis 6379 15
fi

if ! listening 5672; then
  echo "services: starting RabbitMQ"
  rabbitmq-server -detached
  wait_for RabbitMQ 5672 60
fi

# psql as the postgres superuser over TCP (trust auth on 127.0.0.1 here).
PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq)
for _ in $(seq 20); do
  "${PSQL[@]}" -c "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.5
done
if [ "$("${PSQL[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")" != "1" ]; then
  echo "services: creating database $PG_DATABASE"
  "${PSQL[@]}" -c "CREATE DATABASE \"$PG_DATABASE\""
fi
echo "services: PostgreSQL, Redis and RabbitMQ are up (database $PG_DATABASE)"
