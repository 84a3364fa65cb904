#!/bin/sh
# Creates the Temporal server's two PostgreSQL databases and brings their schemas to the
# versions of this temporal-sql-tool's release, from the schemas built into the tool.
# Idempotent: on existing databases `create` and `setup-schema -v 0.0` do nothing and
# `update-schema` applies only the versions still missing (or none), so it also upgrades
# the schemas after the server's release moves.
#
# Run by docker-compose.yml's `temporal-schema` job (admin-tools image) and by
# `npm run temporal:cluster` (scripts/temporal-cluster.ts) with:
#   TEMPORAL_SQL_TOOL   the tool (default: temporal-sql-tool on PATH)
#   SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD   PostgreSQL (SQL_PASSWORD may be empty)
#   DBNAME VISIBILITY_DBNAME                  default temporal, temporal_visibility
set -eu

tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
: "${SQL_HOST:?}" "${SQL_PORT:?}" "${SQL_USER:?}"
export SQL_PASSWORD="${SQL_PASSWORD:-}"

for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  db="${pair%%:*}"
  schema="${pair#*:}"
  sql() { "$tool" --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" --db "$db" "$@"; }
  sql create
  sql setup-schema -v 0.0
  sql update-schema --schema-name "postgresql/v12/$schema"
done
