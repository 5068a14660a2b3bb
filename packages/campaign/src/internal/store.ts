/**
 * The ledger's statements. Every state change of a row is guarded by its current state and, once claimed, by its
 * worker, so that a worker that was declared dead (and its rows recovered) can no longer start or settle them.
 */
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Ledger from "../Ledger.js"

type Service = Ledger.Ledger["Type"]

/** The database's clock in epoch milliseconds (leases and the shared pacer use it: one clock for every machine). */
export const nowSql = (ledger: Service): Statement.Fragment =>
  ledger.dialect === "pg"
    ? ledger.sql.literal("(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::float8")
    : ledger.sql.literal("((julianday('now') - 2440587.5) * 86400000.0)")

// ---------------------------------------------------------------------------------------------------------------
// Campaigns
// ---------------------------------------------------------------------------------------------------------------

export interface CampaignRow {
  readonly id: number
  readonly name: string
  readonly token: string
  readonly fingerprint: string
  readonly created_at: number
  readonly total: number
  readonly import_complete: number
  readonly paused_reason: string | null
  readonly paused_message: string | null
  readonly paused_at: number | null
}

const campaignColumns =
  "id, name, token, fingerprint, created_at, total, import_complete, paused_reason, paused_message, paused_at"

export const findCampaign = (ledger: Service, name: string): Effect.Effect<CampaignRow | undefined, SqlError> =>
  Effect.map(
    ledger.sql<CampaignRow>`SELECT ${ledger.sql.literal(campaignColumns)} FROM kaleyra_campaign WHERE name = ${name}`,
    (rows) => rows[0]
  )

export const findCampaignByToken = (
  ledger: Service,
  token: string
): Effect.Effect<CampaignRow | undefined, SqlError> =>
  Effect.map(
    ledger.sql<CampaignRow>`SELECT ${ledger.sql.literal(campaignColumns)} FROM kaleyra_campaign WHERE token = ${token}`,
    (rows) => rows[0]
  )

/** Inserts the campaign unless one of that name exists (another worker may create it at the same time). */
export const insertCampaign = (
  ledger: Service,
  row: { readonly name: string; readonly token: string; readonly fingerprint: string; readonly createdAt: number }
): Effect.Effect<void, SqlError> =>
  Effect.asVoid(
    ledger.sql`INSERT INTO kaleyra_campaign (name, token, fingerprint, created_at)
      VALUES (${row.name}, ${row.token}, ${row.fingerprint}, ${row.createdAt})
      ON CONFLICT (name) DO NOTHING`
  )

/** Removes a campaign whose import never completed (nothing of it was ever sent), to import other rows instead. */
export const deleteIncompleteCampaign = (ledger: Service, id: number): Effect.Effect<void, SqlError> =>
  ledger.sql.withTransaction(Effect.gen(function*() {
    const deleted = yield* ledger.sql`DELETE FROM kaleyra_campaign WHERE id = ${id} AND import_complete = 0
      RETURNING id`
    if (deleted.length > 0) yield* ledger.sql`DELETE FROM kaleyra_campaign_row WHERE campaign_id = ${id}`
  }))

export interface NewRow {
  readonly seq: number
  readonly line: number
  readonly recipient: string
  readonly input: string
}

/** Stores a chunk of rows (again: nothing, so that two importers of one campaign do not clash). */
export const insertRows = (
  ledger: Service,
  campaignId: number,
  rows: ReadonlyArray<NewRow>
): Effect.Effect<void, SqlError> =>
  rows.length === 0 ? Effect.void : ledger.sql.withTransaction(Effect.gen(function*() {
    const values = rows.map((row) => ({
      campaign_id: campaignId,
      seq: row.seq,
      line: row.line,
      recipient: row.recipient,
      input: row.input
    }))
    yield* ledger.sql`INSERT INTO kaleyra_campaign_row ${ledger.sql.insert(values)}
      ON CONFLICT (campaign_id, seq) DO NOTHING`
    const total = rows[rows.length - 1].seq + 1
    yield* ledger.sql`UPDATE kaleyra_campaign SET total = ${total} WHERE id = ${campaignId} AND total < ${total}`
  }))

export const storedRows = (ledger: Service, campaignId: number): Effect.Effect<number, SqlError> =>
  Effect.map(
    ledger.sql<{ readonly n: number }>`SELECT CAST(COUNT(*) AS INTEGER) AS n FROM kaleyra_campaign_row
      WHERE campaign_id = ${campaignId}`,
    (rows) => rows[0]?.n ?? 0
  )

export const completeImport = (ledger: Service, campaignId: number, total: number): Effect.Effect<void, SqlError> =>
  Effect.asVoid(
    ledger.sql`UPDATE kaleyra_campaign SET import_complete = 1, total = ${total} WHERE id = ${campaignId}`
  )

export const setPause = (
  ledger: Service,
  campaignId: number,
  pause: { readonly reason: string; readonly message: string; readonly at: number }
): Effect.Effect<void, SqlError> =>
  Effect.asVoid(
    ledger.sql`UPDATE kaleyra_campaign
      SET paused_reason = ${pause.reason}, paused_message = ${pause.message}, paused_at = ${pause.at}
      WHERE id = ${campaignId} AND paused_reason IS NULL`
  )

export const clearPause = (ledger: Service, campaignId: number): Effect.Effect<void, SqlError> =>
  Effect.asVoid(
    ledger.sql`UPDATE kaleyra_campaign SET paused_reason = NULL, paused_message = NULL, paused_at = NULL
      WHERE id = ${campaignId} AND paused_reason IS NOT NULL`
  )

export const listCampaigns = (ledger: Service): Effect.Effect<ReadonlyArray<string>, SqlError> =>
  Effect.map(
    ledger.sql<{ readonly name: string }>`SELECT name FROM kaleyra_campaign ORDER BY id`,
    (rows) => rows.map((row) => row.name)
  )

// ---------------------------------------------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------------------------------------------

/** A `Sending` row without an outcome: `Sent` when a status callback (by ref) already proved it accepted. */
const resolvedOrAmbiguous = "CASE WHEN delivery_rank > 0 THEN 'Sent' ELSE 'Ambiguous' END"

export interface WorkerRow {
  readonly id: string
  readonly host: string
  readonly pid: number
  readonly expired: number
}

export const registerWorker = (
  ledger: Service,
  worker: { readonly id: string; readonly campaignId: number; readonly host: string; readonly pid: number },
  leaseMillis: number
): Effect.Effect<void, SqlError> =>
  Effect.asVoid(
    ledger.sql`INSERT INTO kaleyra_campaign_worker (id, campaign_id, host, pid, lease_until)
      VALUES (${worker.id}, ${worker.campaignId}, ${worker.host}, ${worker.pid}, ${nowSql(ledger)} + ${leaseMillis})`
  )

/** Renews the lease; `false` when the worker's row is gone (another worker declared it dead). */
export const renewLease = (ledger: Service, workerId: string, leaseMillis: number): Effect.Effect<boolean, SqlError> =>
  Effect.map(
    ledger.sql`UPDATE kaleyra_campaign_worker SET lease_until = ${nowSql(ledger)} + ${leaseMillis}
      WHERE id = ${workerId} RETURNING id`,
    (rows) => rows.length > 0
  )

export const workersOf = (ledger: Service, campaignId: number): Effect.Effect<ReadonlyArray<WorkerRow>, SqlError> =>
  ledger.sql<WorkerRow>`SELECT id, host, pid,
      CASE WHEN lease_until < ${nowSql(ledger)} THEN 1 ELSE 0 END AS expired
    FROM kaleyra_campaign_worker WHERE campaign_id = ${campaignId}`

/**
 * Removes the dead workers, then recovers the rows of any worker no longer registered: `Sending` rows become
 * `Ambiguous` (their requests may have gone out), `Claimed` rows return to `Pending`. Returns the counts.
 */
export const recover = (
  ledger: Service,
  campaignId: number,
  deadWorkers: ReadonlyArray<string>,
  now: number
): Effect.Effect<{ readonly ambiguous: number; readonly released: number }, SqlError> =>
  ledger.sql.withTransaction(Effect.gen(function*() {
    const sql = ledger.sql
    if (deadWorkers.length > 0) {
      yield* sql`DELETE FROM kaleyra_campaign_worker WHERE ${sql.in("id", deadWorkers)}`
    }
    const orphan = sql`(worker IS NULL OR worker NOT IN (SELECT id FROM kaleyra_campaign_worker))`
    const ambiguous = yield* sql`UPDATE kaleyra_campaign_row
      SET state = ${ledger.sql.literal(resolvedOrAmbiguous)}, may_have_reached = 1, error_tag = 'Interrupted',
        error_message = 'the worker stopped between the intent and the outcome: the request may have reached Kaleyra',
        error = NULL, outcome_at = ${now}
      WHERE campaign_id = ${campaignId} AND state = 'Sending' AND ${orphan} RETURNING seq`
    const released = yield* sql`UPDATE kaleyra_campaign_row SET state = 'Pending', worker = NULL
      WHERE campaign_id = ${campaignId} AND state = 'Claimed' AND ${orphan} RETURNING seq`
    return { ambiguous: ambiguous.length, released: released.length }
  }))

/**
 * A worker leaves: its claimed rows return to `Pending`, any `Sending` row it still has becomes `Ambiguous` (its
 * send may have been cut off), and its registration is removed.
 */
export const releaseWorker = (
  ledger: Service,
  campaignId: number,
  workerId: string,
  now: number
): Effect.Effect<void, SqlError> =>
  ledger.sql.withTransaction(Effect.gen(function*() {
    const sql = ledger.sql
    yield* sql`UPDATE kaleyra_campaign_row SET state = 'Pending', worker = NULL
      WHERE campaign_id = ${campaignId} AND worker = ${workerId} AND state = 'Claimed'`
    yield* sql`UPDATE kaleyra_campaign_row
      SET state = ${ledger.sql.literal(resolvedOrAmbiguous)}, may_have_reached = 1, error_tag = 'Interrupted',
        error_message = 'the run stopped between the intent and the outcome: the request may have reached Kaleyra',
        error = NULL, outcome_at = ${now}
      WHERE campaign_id = ${campaignId} AND worker = ${workerId} AND state = 'Sending'`
    yield* sql`DELETE FROM kaleyra_campaign_worker WHERE id = ${workerId}`
  }))

// ---------------------------------------------------------------------------------------------------------------
// Claims, intents, outcomes
// ---------------------------------------------------------------------------------------------------------------

/**
 * A row's `state`, as a filter that SQLite must not pick an index for (`+state`): statements on a few rows by
 * primary key would otherwise scan every row of that state through the state index (every Pending row of a million).
 */
const stateFilter = (ledger: Service): Statement.Fragment =>
  ledger.sql.literal(ledger.dialect === "sqlite" ? "+state" : "state")

export interface ClaimedRow {
  readonly seq: number
  readonly line: number
  readonly input: string
}

/**
 * Claims up to `limit` `Pending` rows, lowest first (`SKIP LOCKED` on PostgreSQL: workers never wait for each other).
 * The rows are chosen first, then updated by primary key: one UPDATE with the choice as a subquery made SQLite scan
 * every row of the campaign.
 */
export const claim = (
  ledger: Service,
  campaignId: number,
  workerId: string,
  limit: number
): Effect.Effect<ReadonlyArray<ClaimedRow>, SqlError> => {
  const sql = ledger.sql
  const lock = ledger.dialect === "pg" ? sql.literal("FOR UPDATE SKIP LOCKED") : sql.literal("")
  return sql.withTransaction(Effect.gen(function*() {
    const chosen = yield* sql<{ readonly seq: number }>`SELECT seq FROM kaleyra_campaign_row
      WHERE campaign_id = ${campaignId} AND state = 'Pending' ORDER BY seq LIMIT ${limit} ${lock}`
    if (chosen.length === 0) return []
    const rows = yield* sql<ClaimedRow>`UPDATE kaleyra_campaign_row SET state = 'Claimed', worker = ${workerId}
      WHERE campaign_id = ${campaignId} AND ${stateFilter(ledger)} = 'Pending'
        AND ${sql.in("seq", chosen.map((row) => row.seq))}
      RETURNING seq, line, input`
    return [...rows].sort((a, b) => a.seq - b.seq)
  }))
}

/**
 * Commits the intents of claimed rows (`Claimed` -> `Sending`) in one statement; returns the rows that are now
 * `Sending` (a row recovered meanwhile by another worker is left out, and must not be sent). With `slots`, reserves
 * in the same transaction one send slot per row of the sender number's pacer, and returns the local time of the first
 * (no extra commit: see `Pacer`), read as the reservation returns: the rest of the transaction must not delay it.
 */
export const commitIntents = (
  ledger: Service,
  campaignId: number,
  workerId: string,
  seqs: ReadonlyArray<number>,
  now: number,
  slots: { readonly sender: string; readonly spacing: number } | undefined
): Effect.Effect<{ readonly sending: ReadonlySet<number>; readonly first: number | undefined }, SqlError> => {
  const update = Effect.map(
    ledger.sql<{ readonly seq: number }>`UPDATE kaleyra_campaign_row
      SET state = 'Sending', attempts = attempts + 1, intent_at = ${now}
      WHERE campaign_id = ${campaignId} AND worker = ${workerId} AND ${stateFilter(ledger)} = 'Claimed'
        AND ${ledger.sql.in("seq", seqs)}
      RETURNING seq`,
    (rows) => new Set(rows.map((row) => row.seq))
  )
  if (slots === undefined) return Effect.map(update, (sending) => ({ sending, first: undefined }))
  return ledger.sql.withTransaction(Effect.flatMap(update, (sending): Effect.Effect<
    { readonly sending: ReadonlySet<number>; readonly first: number | undefined },
    SqlError
  > =>
    sending.size === 0
      ? Effect.succeed({ sending, first: undefined })
      : Effect.flatMap(
        reserveSlots(ledger, slots.sender, sending.size, slots.spacing),
        (wait) => Effect.map(Clock.currentTimeMillis, (now) => ({ sending, first: now + Math.max(0, wait) }))
      )))
}

/** Rows claimed or being sent by other workers (alive or not yet known dead). */
export const heldByOthers = (ledger: Service, campaignId: number, workerId: string): Effect.Effect<number, SqlError> =>
  Effect.map(
    ledger.sql<{ readonly n: number }>`SELECT CAST(COUNT(*) AS INTEGER) AS n FROM kaleyra_campaign_row
      WHERE campaign_id = ${campaignId} AND state IN ('Claimed', 'Sending')
        AND (worker IS NULL OR worker <> ${workerId})`,
    (rows) => rows[0]?.n ?? 0
  )

/** Claimed rows a worker will not send after all: back to `Pending`. */
export const unclaim = (
  ledger: Service,
  campaignId: number,
  workerId: string,
  seqs: ReadonlyArray<number>
): Effect.Effect<void, SqlError> =>
  seqs.length === 0 ? Effect.void : Effect.asVoid(
    ledger.sql`UPDATE kaleyra_campaign_row SET state = 'Pending', worker = NULL
      WHERE campaign_id = ${campaignId} AND worker = ${workerId} AND ${stateFilter(ledger)} = 'Claimed'
        AND ${ledger.sql.in("seq", seqs)}`
  )

/** The outcome of one row, as stored. */
export interface Outcome {
  readonly seq: number
  readonly state: "Sent" | "Failed" | "Ambiguous" | "Pending"
  readonly messageId: string | null
  readonly errorTag: string | null
  readonly errorMessage: string | null
  readonly error: string | null
  readonly mayHaveReached: boolean
  /** `true` when nothing was sent (the attempt is not counted). */
  readonly notAttempted: boolean
}

/**
 * Commits a chunk of outcomes in one transaction: one UPDATE per row by its primary key (a prepared statement; a
 * join with a VALUES list made SQLite scan every `Sending` and `Ambiguous` row), the pause when one is given, and
 * the statuses that were waiting for the message ids. An `Ambiguous` outcome of a row that a status callback (by
 * ref) already proved accepted is `Sent`.
 */
export const commitOutcomes = (
  ledger: Service,
  campaignId: number,
  workerId: string,
  outcomes: ReadonlyArray<Outcome>,
  now: number,
  pause: { readonly reason: string; readonly message: string } | undefined
): Effect.Effect<void, SqlError> => {
  const sql = ledger.sql
  return sql.withTransaction(Effect.gen(function*() {
    // The Sent rows (nearly all of them) in one statement: their message ids by seq.
    const sent = outcomes.filter((o) => o.state === "Sent" && o.messageId !== null)
    if (sent.length > 0) {
      const ids = sql.join(" ", false)(sent.map((o) => sql`WHEN ${o.seq} THEN ${o.messageId}`))
      yield* sql`UPDATE kaleyra_campaign_row SET
          state = 'Sent', message_id = CASE seq ${ids} END,
          error_tag = NULL, error_message = NULL, error = NULL, may_have_reached = 1, outcome_at = ${now}
        WHERE campaign_id = ${campaignId} AND ${sql.in("seq", sent.map((o) => o.seq))} AND worker = ${workerId}
          AND ${stateFilter(ledger)} IN ('Sending', 'Ambiguous')`
    }
    for (const o of outcomes) {
      if (o.state === "Sent" && o.messageId !== null) continue
      const state = o.state === "Ambiguous"
        ? sql.literal("CASE WHEN delivery_rank > 0 THEN 'Sent' ELSE 'Ambiguous' END")
        : sql`${o.state}`
      yield* sql`UPDATE kaleyra_campaign_row SET
          state = ${state},
          message_id = COALESCE(${o.messageId}, message_id),
          error_tag = ${o.errorTag}, error_message = ${o.errorMessage}, error = ${o.error},
          may_have_reached = ${o.mayHaveReached ? 1 : 0},
          attempts = attempts - ${o.notAttempted ? 1 : 0},
          outcome_at = ${o.state === "Pending" ? sql.literal("outcome_at") : sql`${now}`},
          worker = ${o.state === "Pending" ? null : workerId}
        WHERE campaign_id = ${campaignId} AND seq = ${o.seq} AND worker = ${workerId}
          AND ${stateFilter(ledger)} IN ('Sending', 'Ambiguous')`
    }
    if (pause !== undefined) yield* setPause(ledger, campaignId, { ...pause, at: now })
    const messageIds = outcomes.flatMap((o) => o.messageId === null ? [] : [o.messageId])
    if (messageIds.length > 0) {
      const waiting = yield* sql<WaitingStatus>`SELECT message_id, status, rank, at, error
        FROM kaleyra_campaign_status WHERE ${sql.in("message_id", messageIds)}`
      for (const status of waiting) {
        yield* applyByMessageId(ledger, status)
      }
      if (waiting.length > 0) {
        yield* sql`DELETE FROM kaleyra_campaign_status WHERE ${
          sql.in("message_id", [...new Set(waiting.map((s) => s.message_id))])
        }`
      }
    }
  }))
}

// ---------------------------------------------------------------------------------------------------------------
// Delivery statuses
// ---------------------------------------------------------------------------------------------------------------

export interface WaitingStatus {
  readonly message_id: string
  readonly status: string
  readonly rank: number
  readonly at: number | null
  readonly error: string | null
}

/** Moves the delivery status of the rows with this message id forward; returns how many moved. */
export const applyByMessageId = (ledger: Service, status: WaitingStatus): Effect.Effect<number, SqlError> =>
  Effect.map(
    ledger.sql`UPDATE kaleyra_campaign_row
      SET delivery = ${status.status}, delivery_rank = ${status.rank}, delivery_at = ${status.at},
        delivery_error = ${status.error}
      WHERE message_id = ${status.message_id} AND delivery_rank < ${status.rank}
      RETURNING seq`,
    (rows) => rows.length
  )

/**
 * Applies a status to the row of a ref: an `Ambiguous` row is now `Sent` (any status proves Kaleyra accepted it),
 * the message id is set when the row had none, and the delivery status moves forward. A row that has another
 * message id (the status is of an earlier send of the row) is left alone. `undefined`: no such row.
 */
export const applyByRef = (
  ledger: Service,
  campaignId: number,
  seq: number,
  status: WaitingStatus
): Effect.Effect<"Applied" | "Stale" | undefined, SqlError> =>
  ledger.sql.withTransaction(Effect.gen(function*() {
    const sql = ledger.sql
    const rows = yield* sql<{ readonly message_id: string | null }>`SELECT message_id FROM kaleyra_campaign_row
      WHERE campaign_id = ${campaignId} AND seq = ${seq}`
    if (rows.length === 0) return undefined
    const known = rows[0].message_id
    if (known !== null && known !== status.message_id) return "Stale"
    const resolved = yield* sql`UPDATE kaleyra_campaign_row
      SET state = CASE WHEN state = 'Ambiguous' THEN 'Sent' ELSE state END,
        message_id = ${status.message_id}, may_have_reached = CASE WHEN state = 'Ambiguous' THEN 1 ELSE may_have_reached END
      WHERE campaign_id = ${campaignId} AND seq = ${seq}
        AND (message_id IS NULL OR state = 'Ambiguous') RETURNING seq`
    const moved = yield* sql`UPDATE kaleyra_campaign_row
      SET delivery = ${status.status}, delivery_rank = ${status.rank}, delivery_at = ${status.at},
        delivery_error = ${status.error}
      WHERE campaign_id = ${campaignId} AND seq = ${seq} AND delivery_rank < ${status.rank} RETURNING seq`
    return resolved.length > 0 || moved.length > 0 ? "Applied" : "Stale"
  }))

export const hasMessageId = (ledger: Service, messageId: string): Effect.Effect<boolean, SqlError> =>
  Effect.map(
    ledger.sql`SELECT 1 AS one FROM kaleyra_campaign_row WHERE message_id = ${messageId} LIMIT 1`,
    (rows) => rows.length > 0
  )

/** Keeps a status that matched no row (the most advanced one per message id and status wins). */
export const keepStatus = (ledger: Service, status: WaitingStatus, now: number): Effect.Effect<void, SqlError> =>
  Effect.asVoid(
    ledger.sql`INSERT INTO kaleyra_campaign_status (message_id, status, rank, at, error, received_at)
      VALUES (${status.message_id}, ${status.status}, ${status.rank}, ${status.at}, ${status.error}, ${now})
      ON CONFLICT (message_id, status) DO NOTHING`
  )

// ---------------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------------

export const countStates = (
  ledger: Service,
  campaignId: number
): Effect.Effect<ReadonlyArray<{ readonly state: string; readonly n: number }>, SqlError> =>
  ledger.sql`SELECT state, CAST(COUNT(*) AS INTEGER) AS n FROM kaleyra_campaign_row
    WHERE campaign_id = ${campaignId} GROUP BY state`

export const countDeliveries = (
  ledger: Service,
  campaignId: number
): Effect.Effect<ReadonlyArray<{ readonly delivery: string | null; readonly n: number }>, SqlError> =>
  ledger.sql`SELECT delivery, CAST(COUNT(*) AS INTEGER) AS n FROM kaleyra_campaign_row
    WHERE campaign_id = ${campaignId} GROUP BY delivery`

/** Outcomes in the minute before the last one, and the time span they cover. */
export const recentOutcomes = (
  ledger: Service,
  campaignId: number
): Effect.Effect<{ readonly last: number | null; readonly first: number | null; readonly n: number }, SqlError> =>
  Effect.gen(function*() {
    const sql = ledger.sql
    const last = (yield* sql<{ readonly last: number | null }>`SELECT MAX(outcome_at) AS last
      FROM kaleyra_campaign_row WHERE campaign_id = ${campaignId}`)[0]?.last ?? null
    if (last === null) return { last: null, first: null, n: 0 }
    const rows = yield* sql<{ readonly first: number | null; readonly n: number }>`SELECT MIN(outcome_at) AS first,
        CAST(COUNT(*) AS INTEGER) AS n
      FROM kaleyra_campaign_row WHERE campaign_id = ${campaignId} AND outcome_at > ${last - 60_000}`
    return { last, first: rows[0]?.first ?? null, n: rows[0]?.n ?? 0 }
  })

export interface ReportRecord {
  readonly seq: number
  readonly line: number
  readonly recipient: string
  readonly state: string
  readonly message_id: string | null
  readonly error_tag: string | null
  readonly error_message: string | null
  readonly may_have_reached: number
  readonly delivery: string | null
  readonly delivery_at: number | null
  readonly delivery_error: string | null
  readonly attempts: number
}

export const reportPage = (
  ledger: Service,
  campaignId: number,
  afterSeq: number,
  limit: number
): Effect.Effect<ReadonlyArray<ReportRecord>, SqlError> =>
  ledger.sql<ReportRecord>`SELECT seq, line, recipient, state, message_id, error_tag, error_message,
      may_have_reached, delivery, delivery_at, delivery_error, attempts
    FROM kaleyra_campaign_row WHERE campaign_id = ${campaignId} AND seq > ${afterSeq}
    ORDER BY seq LIMIT ${limit}`

export const resendAmbiguous = (ledger: Service, campaignId: number): Effect.Effect<number, SqlError> =>
  Effect.map(
    ledger.sql`UPDATE kaleyra_campaign_row SET state = 'Pending', worker = NULL, may_have_reached = 0
      WHERE campaign_id = ${campaignId} AND state = 'Ambiguous' RETURNING seq`,
    (rows) => rows.length
  )

// ---------------------------------------------------------------------------------------------------------------
// The shared pacer
// ---------------------------------------------------------------------------------------------------------------

const greatest = (ledger: Service): Statement.Fragment =>
  ledger.sql.literal(ledger.dialect === "pg" ? "GREATEST" : "MAX")

export const ensurePacer = (ledger: Service, sender: string): Effect.Effect<void, SqlError> =>
  Effect.asVoid(
    ledger.sql`INSERT INTO kaleyra_campaign_pacer (sender, next_slot) VALUES (${sender}, 0)
      ON CONFLICT (sender) DO NOTHING`
  )

/**
 * Reserves `count` consecutive send slots of a sender number, `spacing` apart, after every slot reserved before by
 * any worker: returns how long until the first (milliseconds, by the database's clock; negative: none, it is now).
 */
export const reserveSlots = (
  ledger: Service,
  sender: string,
  count: number,
  spacing: number
): Effect.Effect<number, SqlError> => {
  // the same time in SET and RETURNING (SQLite's 'now' and PostgreSQL's statement_timestamp() hold for a statement)
  const now = ledger.dialect === "pg"
    ? ledger.sql.literal("(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::float8")
    : nowSql(ledger)
  return Effect.map(
    ledger.sql<{ readonly wait: number }>`UPDATE kaleyra_campaign_pacer
      SET next_slot = ${greatest(ledger)}(next_slot, ${now}) + ${count * spacing}
      WHERE sender = ${sender}
      RETURNING next_slot - ${count * spacing} - ${now} AS wait`,
    (rows) => rows[0]?.wait ?? 0
  )
}

/** Pushes a sender number's next slot back to `delay` from now (a 429 seen by any worker holds back every worker). */
export const pushBack = (ledger: Service, sender: string, delay: number): Effect.Effect<void, SqlError> =>
  Effect.asVoid(
    ledger.sql`UPDATE kaleyra_campaign_pacer SET next_slot = ${greatest(ledger)}(next_slot, ${
      nowSql(ledger)
    } + ${delay})
      WHERE sender = ${sender}`
  )
