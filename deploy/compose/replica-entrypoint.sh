#!/bin/bash
# The replica: on first start, a base backup of the primary (pg_basebackup -R writes the standby settings),
# then PostgreSQL as a hot standby streaming from it. The same steps scripts/stack takes on one machine.
set -euo pipefail
export PGPASSWORD=$REPLICATION_PASSWORD
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -U replicator -d postgres; do sleep 1; done
  pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream -c fast
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on
