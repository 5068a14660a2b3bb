/**
 * The ledger's tables, created by `@effect/sql`'s `Migrator` (its own migrations table, so that the ledger can share
 * a database with other migrated tables). One DDL for both dialects, except the campaign's generated id.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"

/** The name of the Migrator's table. */
export const migrationsTable = "kaleyra_campaign_migrations"

const v1 = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const id = sql.onDialectOrElse({
    pg: () => sql.unsafe("id SERIAL PRIMARY KEY"),
    orElse: () => sql.unsafe("id INTEGER PRIMARY KEY")
  })
  // Times are epoch milliseconds (DOUBLE PRECISION: a number in both drivers, where BIGINT is a string in
  // PostgreSQL's).
  yield* sql`CREATE TABLE kaleyra_campaign (
    ${id},
    name TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    import_complete INTEGER NOT NULL DEFAULT 0,
    paused_reason TEXT,
    paused_message TEXT,
    paused_at DOUBLE PRECISION
  )`
  // state: Pending | Claimed (by `worker`, no intent yet: shown as Pending) | Sending | Sent | Failed | Ambiguous.
  yield* sql`CREATE TABLE kaleyra_campaign_row (
    campaign_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    line INTEGER NOT NULL,
    recipient TEXT NOT NULL,
    input TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'Pending',
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    message_id TEXT,
    error_tag TEXT,
    error_message TEXT,
    error TEXT,
    may_have_reached INTEGER NOT NULL DEFAULT 0,
    intent_at DOUBLE PRECISION,
    outcome_at DOUBLE PRECISION,
    delivery TEXT,
    delivery_rank INTEGER NOT NULL DEFAULT 0,
    delivery_at DOUBLE PRECISION,
    delivery_error TEXT,
    PRIMARY KEY (campaign_id, seq)
  )`
  yield* sql`CREATE INDEX kaleyra_campaign_row_state ON kaleyra_campaign_row (campaign_id, state, seq)`
  yield* sql`CREATE INDEX kaleyra_campaign_row_message ON kaleyra_campaign_row (message_id)`
  yield* sql`CREATE INDEX kaleyra_campaign_row_outcome ON kaleyra_campaign_row (campaign_id, outcome_at)`
  // Statuses that matched no row when they came (a callback faster than the outcome's commit, or not ours): applied
  // when a row gets the message id.
  yield* sql`CREATE TABLE kaleyra_campaign_status (
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    rank INTEGER NOT NULL,
    at DOUBLE PRECISION,
    error TEXT,
    received_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (message_id, status)
  )`
  // The workers running, each with a lease it renews; rows claimed by a worker whose lease ran out are recovered.
  yield* sql`CREATE TABLE kaleyra_campaign_worker (
    id TEXT PRIMARY KEY,
    campaign_id INTEGER NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    lease_until DOUBLE PRECISION NOT NULL
  )`
  // One pacer per sender number, shared by every worker: the time of the next free send slot.
  yield* sql`CREATE TABLE kaleyra_campaign_pacer (
    sender TEXT PRIMARY KEY,
    next_slot DOUBLE PRECISION NOT NULL
  )`
})

/** Creates or updates the ledger's tables. */
export const migrate: Effect.Effect<void, Migrator.MigrationError | SqlError, SqlClient.SqlClient> = Effect.asVoid(
  Migrator.make({})({
    loader: Migrator.fromRecord({ "1_ledger": v1 }),
    table: migrationsTable
  })
)
