/**
 * Durable campaigns: rows stored in the ledger before anything is sent, then sent through core's `sendMediaBatch`
 * with at most one send per row, ever (across crashes at any instruction, reruns and several workers).
 *
 * @since 0.1.0
 */
import * as KaleyraCallback from "@effect-kaleyra/core/KaleyraCallback"
import type * as KaleyraClient from "@effect-kaleyra/core/KaleyraClient"
import type * as KaleyraError from "@effect-kaleyra/core/KaleyraError"
import type * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { randomUUID } from "node:crypto"
import * as CampaignError from "./CampaignError.js"
import { ledgerOp } from "./internal/errors.js"
import * as Runner from "./internal/runner.js"
import * as Store from "./internal/store.js"
import * as Ledger from "./Ledger.js"

/**
 * One row to store: the message and, optionally, its line in the source (a CSV line; default: its position from
 * 1). `input.extraInfo.ref2` must be unset: it carries the row's campaign ref (`Ledger.rowRef`).
 *
 * @since 0.1.0
 * @category models
 */
export interface RowInput {
  readonly line?: number | undefined
  readonly input: MediaMessage.SendMediaInput
}

/**
 * A campaign to create: its name, its rows and what they were made from.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateOptions<E, R> {
  readonly name: string
  readonly rows: Stream.Stream<RowInput, E, R> | Iterable<RowInput>
  /**
   * What the rows were made from (e.g. a hash of the CSV file). A campaign of the same name with another
   * fingerprint is refused (`CampaignMismatch`); with the same, `create` continues an import that was interrupted
   * and returns the campaign. Default: no check.
   */
  readonly fingerprint?: string | undefined
  /** Rows per insert transaction (default 1 000): memory stays constant whatever the number of rows. */
  readonly chunkSize?: number | undefined
}

/**
 * A campaign in the ledger, as `create` returns it.
 *
 * @since 0.1.0
 * @category models
 */
export interface CampaignInfo {
  readonly id: number
  readonly name: string
  /** The random token of the campaign's row refs. */
  readonly token: string
  readonly fingerprint: string
  /** Rows stored. */
  readonly total: number
  /** Epoch milliseconds. */
  readonly createdAt: number
  /** `false` when the campaign already existed and was complete (nothing imported by this call). */
  readonly imported: boolean
}

/**
 * Test hooks: each runs at its point of a run (the crash test makes a worker `SIGKILL` itself there).
 *
 * @since 0.1.0
 * @category models
 */
export interface RunHooks {
  /** After a chunk of rows was claimed (committed), before any intent. */
  readonly afterClaim?: ((seqs: ReadonlyArray<number>) => Effect.Effect<void>) | undefined
  /** After the intents of a chunk were committed, before their requests. */
  readonly afterIntent?: ((seqs: ReadonlyArray<number>) => Effect.Effect<void>) | undefined
  /** After a send's outcome arrived (response or error), before it is committed. */
  readonly afterResponse?: ((seq: number) => Effect.Effect<void>) | undefined
  /** After a chunk of outcomes was committed. */
  readonly afterOutcome?: ((seqs: ReadonlyArray<number>) => Effect.Effect<void>) | undefined
}

/**
 * The outcome of one row attempted by a run (for progress).
 *
 * @since 0.1.0
 * @category models
 */
export type RowOutcome =
  | { readonly _tag: "Sent"; readonly seq: number; readonly line: number; readonly messageId: string }
  | {
    readonly _tag: "Failed" | "Ambiguous"
    readonly seq: number
    readonly line: number
    readonly error: KaleyraError.SendMediaError
  }
  /** Not sent (stopped, or paused by an account-wide error): back to `Pending`. */
  | {
    readonly _tag: "Pending"
    readonly seq: number
    readonly line: number
    readonly error?: KaleyraError.SendMediaError
  }

/**
 * How to run a campaign: which one, how many sends at once, the sender's rate limit, this worker, when to stop.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  readonly name: string
  /**
   * Sends at once (default 16); also the most rows `Sending` at once, hence `Ambiguous` after a crash. The run
   * starts with one row (a pre-flight of the credentials with the first message: a wrong key costs one request)
   * and opens up to `concurrency` after the first outcome that is not an account-wide error.
   */
  readonly concurrency?: number | undefined
  /**
   * Sends (attempts, retries included) per interval for the client's sender number (default 80 per second); `false`
   * turns it off. The limit is kept in the ledger (a pacer row per sender number): it holds across every worker,
   * every campaign of the sender number and a restart after a crash, and a 429 seen by one worker holds back all.
   * Slots are spaced 3% under the limit, so that a send that leaves a little late (an event loop held up to about
   * 24 ms in a 1-second interval) never makes a window of `interval` hold `limit + 1` sends.
   */
  readonly rateLimit?: { readonly limit: number; readonly interval?: Duration.DurationInput } | false | undefined
  /** This worker's id (default: random). */
  readonly workerId?: string | undefined
  /** How long a worker's claim lasts without renewal (default 30 seconds); a dead worker's rows return after it. */
  readonly lease?: Duration.DurationInput | undefined
  /** When this effect completes, no new send starts; the run ends after the sends in flight. */
  readonly stop?: Effect.Effect<unknown> | undefined
  /** Runs after each row's outcome is committed (progress). */
  readonly onOutcome?: ((outcome: RowOutcome) => Effect.Effect<void>) | undefined
  readonly hooks?: RunHooks | undefined
}

/**
 * Why a campaign is paused: an account-wide error, or a 429 whose `Retry-After` is longer than the client's
 * `maxRetryAfter` (reason `RateLimited`). No new send starts; rows stay `Pending`; running again resumes.
 *
 * @since 0.1.0
 * @category models
 */
export interface PauseInfo {
  /** The error's tag (`LowBalance`, `IncorrectCredentials`, `RateLimited`, ...). */
  readonly reason: string
  readonly message: string
  /** Epoch milliseconds. */
  readonly at: number
}

/**
 * The counts of a campaign after a run (the whole campaign, not only this run), and what this run attempted.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunSummary {
  readonly total: number
  readonly pending: number
  readonly sending: number
  readonly sent: number
  readonly failed: number
  readonly ambiguous: number
  /** Rows this run attempted (an outcome committed). */
  readonly attempted: number
  readonly paused: PauseInfo | undefined
}

/**
 * The tags of the account-wide errors: one pauses the campaign.
 *
 * @since 0.1.0
 * @category models
 */
export const accountWideErrors: ReadonlyArray<KaleyraError.SendMediaError["_tag"]> = Runner.accountWideErrors

/**
 * Stores a campaign's rows (all of them, before anything is sent), in chunks: constant memory whatever the number
 * of rows. The same name again (same fingerprint) returns the campaign, continuing an interrupted import.
 *
 * @since 0.1.0
 * @category constructors
 */
export const create = <E = never, R = never>(
  options: CreateOptions<E, R>
): Effect.Effect<CampaignInfo, E | CampaignError.CampaignError, R | Ledger.Ledger> =>
  Effect.gen(function*() {
    const ledger = yield* Ledger.Ledger
    const name = options.name
    const fingerprint = options.fingerprint ?? ""
    const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 1000))
    let campaign = yield* ledgerOp("read the campaign")(Store.findCampaign(ledger, name))
    if (campaign !== undefined && campaign.fingerprint !== fingerprint) {
      if (campaign.import_complete === 1) {
        return yield* new CampaignError.CampaignMismatch({ name, expected: campaign.fingerprint, actual: fingerprint })
      }
      // an import that never completed was never sent: other rows may replace it
      yield* ledgerOp("replace an incomplete import")(Store.deleteIncompleteCampaign(ledger, campaign.id))
      campaign = undefined
    }
    if (campaign === undefined) {
      const token = "kc" + randomUUID().replace(/-/g, "").slice(0, 10)
      const createdAt = yield* Clock.currentTimeMillis
      yield* ledgerOp("create the campaign")(Store.insertCampaign(ledger, { name, token, fingerprint, createdAt }))
      campaign = yield* ledgerOp("read the campaign")(Store.findCampaign(ledger, name))
      if (campaign === undefined) {
        return yield* new CampaignError.LedgerError({
          operation: "create the campaign",
          detail: "not found after insert"
        })
      }
      if (campaign.fingerprint !== fingerprint) {
        return yield* new CampaignError.CampaignMismatch({ name, expected: campaign.fingerprint, actual: fingerprint })
      }
    }
    const info = (total: number, imported: boolean): CampaignInfo => ({
      id: campaign.id,
      name,
      token: campaign.token,
      fingerprint,
      total,
      createdAt: campaign.created_at,
      imported
    })
    if (campaign.import_complete === 1) return info(campaign.total, false)

    // Continue where an interrupted import stopped: rows are stored in order, a chunk per transaction.
    const campaignId = campaign.id
    const token = campaign.token
    const skip = yield* ledgerOp("count stored rows")(Store.storedRows(ledger, campaignId))
    let total = skip
    const rows: Stream.Stream<RowInput, E, R> = Stream.StreamTypeId in options.rows
      ? options.rows as Stream.Stream<RowInput, E, R>
      : Stream.fromIterable(options.rows as Iterable<RowInput>)
    yield* rows.pipe(
      Stream.drop(skip),
      Stream.rechunk(chunkSize),
      Stream.runForEachChunk((chunk) =>
        Effect.gen(function*() {
          const stored: Array<Store.NewRow> = []
          for (const row of chunk) {
            const seq = total++
            stored.push(yield* toNewRow(token, seq, row))
          }
          yield* ledgerOp("store rows")(Store.insertRows(ledger, campaignId, stored))
        })
      )
    )
    yield* ledgerOp("complete the import")(Store.completeImport(ledger, campaignId, total))
    return info(total, true)
  })

/**
 * Runs a campaign (or resumes it): turns the `Sending` rows of dead workers into `Ambiguous`, then sends every
 * `Pending` row through `sendMediaBatch`, committing each chunk's intents before writing any of its requests and
 * the outcomes after. An account-wide error pauses the campaign.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  options: RunOptions
): Effect.Effect<RunSummary, CampaignError.CampaignError, Ledger.Ledger | KaleyraClient.KaleyraClient> =>
  Runner.run(options)

/**
 * Where a campaign stands: rows per state and per delivery status, the pause, the rate of outcomes.
 *
 * @since 0.1.0
 * @category models
 */
export interface CampaignStatus {
  readonly name: string
  readonly total: number
  /** Whether every row was stored (an interrupted import is continued by `create`). */
  readonly importComplete: boolean
  readonly states: Readonly<Record<Ledger.RowState, number>>
  /** Rows by delivery status (`none`: no status yet). */
  readonly delivery: Readonly<Record<KaleyraCallback.MessageStatus | "none", number>>
  readonly paused: PauseInfo | undefined
  /** Outcomes per second over the last minute with outcomes (0 when none). */
  readonly rate: number
  /** Epoch milliseconds of the last outcome, if any. */
  readonly lastOutcomeAt: number | undefined
}

/**
 * Counts per state and per delivery status, the pause reason and the rate.
 *
 * @since 0.1.0
 * @category reading
 */
export const status = (
  name: string
): Effect.Effect<CampaignStatus, CampaignError.CampaignError, Ledger.Ledger> =>
  Effect.gen(function*() {
    const ledger = yield* Ledger.Ledger
    const campaign = yield* findOrFail(ledger, name)
    const [states, deliveries, recent] = yield* ledgerOp("read the counts")(Effect.all([
      Store.countStates(ledger, campaign.id),
      Store.countDeliveries(ledger, campaign.id),
      Store.recentOutcomes(ledger, campaign.id)
    ]))
    const stateCounts: Record<Ledger.RowState, number> = { Pending: 0, Sending: 0, Sent: 0, Failed: 0, Ambiguous: 0 }
    for (const { n, state } of states) stateCounts[publicState(state)] += n
    const delivery: Record<KaleyraCallback.MessageStatus | "none", number> = {
      none: 0,
      sent: 0,
      delivered: 0,
      read: 0,
      failed: 0
    }
    for (const row of deliveries) {
      const key = row.delivery !== null && row.delivery in delivery
        ? row.delivery as KaleyraCallback.MessageStatus
        : "none"
      delivery[key] += row.n
    }
    const span = recent.last !== null && recent.first !== null ? (recent.last - recent.first) / 1000 : 0
    return {
      name,
      total: campaign.total,
      importComplete: campaign.import_complete === 1,
      states: stateCounts,
      delivery,
      paused: pauseOf(campaign),
      rate: span > 0 ? recent.n / span : 0,
      lastOutcomeAt: recent.last ?? undefined
    }
  })

/**
 * One row of a report.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReportRow {
  readonly seq: number
  readonly line: number
  /** The recipients as stored (comma separated when several). */
  readonly to: string
  readonly state: Ledger.RowState
  readonly messageId: string | undefined
  readonly ref: string
  readonly errorTag: string | undefined
  readonly errorMessage: string | undefined
  /** Whether the request may have reached Kaleyra (always for `Ambiguous`). */
  readonly mayHaveReached: boolean
  readonly delivery: KaleyraCallback.MessageStatus | undefined
  /** Epoch milliseconds. */
  readonly deliveryAt: number | undefined
  /** Meta's error code of a `failed` status. */
  readonly deliveryError: string | undefined
  readonly attempts: number
}

/**
 * Every row, in line order, read a page at a time (constant memory).
 *
 * @since 0.1.0
 * @category reading
 */
export const report = (
  name: string
): Stream.Stream<ReportRow, CampaignError.CampaignError, Ledger.Ledger> =>
  Stream.unwrap(Effect.gen(function*() {
    const ledger = yield* Ledger.Ledger
    const campaign = yield* findOrFail(ledger, name)
    return Stream.paginateChunkEffect(-1, (after: number) =>
      Effect.map(
        ledgerOp("read the report")(Store.reportPage(ledger, campaign.id, after, REPORT_PAGE)),
        (records): readonly [Chunk.Chunk<ReportRow>, Option.Option<number>] => [
          Chunk.unsafeFromArray(records.map((record) => toReportRow(campaign.token, record))),
          records.length < REPORT_PAGE ? Option.none() : Option.some(records[records.length - 1].seq)
        ]
      ))
  }))

/**
 * Moves every `Ambiguous` row back to `Pending` (the explicit resend, after a person checked that they did not
 * arrive); the next run sends them. Returns how many.
 *
 * @since 0.1.0
 * @category running
 */
export const resendAmbiguous = (
  name: string
): Effect.Effect<number, CampaignError.CampaignError, Ledger.Ledger> =>
  Effect.gen(function*() {
    const ledger = yield* Ledger.Ledger
    const campaign = yield* findOrFail(ledger, name)
    return yield* ledgerOp("move Ambiguous rows to Pending")(Store.resendAmbiguous(ledger, campaign.id))
  })

/**
 * What `recordStatus` did with a status.
 *
 * - `Applied`: the row's delivery status moved forward (an `Ambiguous` row joined by ref is now `Sent`).
 * - `Stale`: the row already had this status or a later one.
 * - `Unknown`: no row matches (yet): kept, and applied when a row gets that message id.
 *
 * @since 0.1.0
 * @category models
 */
export type RecordResult = "Applied" | "Stale" | "Unknown"

// The ledger stores these ranks (`delivery_rank`) and compares them in SQL: a status only moves to a higher one, and
// `failed` is final. They are the ledger's format, so they are written here, not borrowed from core.
const deliveryRank: Readonly<Record<KaleyraCallback.MessageStatus, number>> = {
  sent: 1,
  delivered: 2,
  read: 3,
  failed: 4
}

/**
 * Records a delivery status, joined to its row by ref (`extra_info.ref2`) or else by message id, forward only
 * (sent < delivered < read; failed final), whatever order the statuses arrive in.
 *
 * @since 0.1.0
 * @category delivery
 */
export const recordStatus = (
  event: KaleyraCallback.MessageStatusUpdated
): Effect.Effect<RecordResult, CampaignError.LedgerError, Ledger.Ledger> =>
  Effect.gen(function*() {
    const ledger = yield* Ledger.Ledger
    const error = event.errors[0]
    const status: Store.WaitingStatus = {
      message_id: event.messageId,
      status: event.status,
      rank: deliveryRank[event.status],
      at: event.timestamp === undefined ? null : event.timestamp * 1000,
      error: error === undefined ? null : String(error.code)
    }
    const ref = event.refs.ref2 === undefined ? undefined : Ledger.parseRowRef(event.refs.ref2)
    if (ref !== undefined) {
      const campaign = yield* Store.findCampaignByToken(ledger, ref.token)
      if (campaign !== undefined) {
        const applied = yield* Store.applyByRef(ledger, campaign.id, ref.seq, status)
        if (applied !== undefined) return applied
      }
    }
    if ((yield* Store.applyByMessageId(ledger, status)) > 0) return "Applied" as const
    if (yield* Store.hasMessageId(ledger, event.messageId)) return "Stale" as const
    yield* Store.keepStatus(ledger, status, yield* Clock.currentTimeMillis)
    return "Unknown" as const
  }).pipe(ledgerOp("record a delivery status"))

/**
 * Decodes a callback body (`decodeCallbacks` of core: both payload styles) and records each status it carries
 * (incoming messages are ignored). For a callback receiver writing into the ledger.
 *
 * @since 0.1.0
 * @category delivery
 */
export const recordCallback = (
  body: unknown
): Effect.Effect<
  ReadonlyArray<RecordResult>,
  CampaignError.LedgerError | KaleyraCallback.CallbackDecodeError,
  Ledger.Ledger
> =>
  Effect.suspend((): Effect.Effect<
    ReadonlyArray<RecordResult>,
    CampaignError.LedgerError | KaleyraCallback.CallbackDecodeError,
    Ledger.Ledger
  > => {
    const decoded = KaleyraCallback.decodeCallbacks(body)
    if (Either.isLeft(decoded)) return Effect.fail(decoded.left)
    return Effect.forEach(
      decoded.right.filter((event): event is KaleyraCallback.MessageStatusUpdated =>
        event._tag === "MessageStatusUpdated"
      ),
      recordStatus
    )
  })

/**
 * The campaigns in the ledger, oldest first.
 *
 * @since 0.1.0
 * @category reading
 */
export const list: Effect.Effect<ReadonlyArray<string>, CampaignError.LedgerError, Ledger.Ledger> = Effect.flatMap(
  Ledger.Ledger,
  (ledger) => ledgerOp("list campaigns")(Store.listCampaigns(ledger))
)

// ---------------------------------------------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------------------------------------------

const REPORT_PAGE = 1000

const findOrFail = (
  ledger: Ledger.Ledger["Type"],
  name: string
): Effect.Effect<Store.CampaignRow, CampaignError.LedgerError | CampaignError.CampaignNotFound> =>
  Effect.flatMap(
    ledgerOp("read the campaign")(Store.findCampaign(ledger, name)),
    (campaign) => campaign === undefined ? new CampaignError.CampaignNotFound({ name }) : Effect.succeed(campaign)
  )

/** `Claimed` (an internal state: claimed by a worker, no intent yet) counts as `Pending`. */
const publicState = (state: string): Ledger.RowState =>
  state === "Claimed" ? "Pending" : (Ledger.rowStates as ReadonlyArray<string>).includes(state)
    ? state as Ledger.RowState
    : "Pending"

const pauseOf = (campaign: Store.CampaignRow): PauseInfo | undefined =>
  campaign.paused_reason === null ? undefined : {
    reason: campaign.paused_reason,
    message: campaign.paused_message ?? "",
    at: campaign.paused_at ?? 0
  }

/** The row as stored: the message with the row's ref in `extraInfo.ref2`, the recipients, the line. */
const toNewRow = (token: string, seq: number, row: RowInput): Effect.Effect<Store.NewRow, CampaignError.InvalidRow> => {
  const line = row.line ?? seq + 1
  const input = row.input as MediaMessage.SendMediaInput & { readonly extraInfo?: MediaMessage.ExtraInfo | undefined }
  if (input.extraInfo?.ref2 !== undefined) {
    return Effect.fail(
      new CampaignError.InvalidRow({
        line,
        reason: "extraInfo.ref2 is set: it carries the campaign's row ref (use ref or ref1 for your own)"
      })
    )
  }
  const to: unknown = input.to
  return Effect.succeed({
    seq,
    line,
    recipient: Array.isArray(to) ? to.join(",") : String(to),
    input: JSON.stringify({ ...input, extraInfo: { ...input.extraInfo, ref2: Ledger.rowRef(token, seq) } })
  })
}

const toReportRow = (token: string, record: Store.ReportRecord): ReportRow => {
  const state = publicState(record.state)
  return {
    seq: record.seq,
    line: record.line,
    to: record.recipient,
    state,
    messageId: record.message_id ?? undefined,
    ref: Ledger.rowRef(token, record.seq),
    errorTag: record.error_tag ?? undefined,
    errorMessage: record.error_message ?? undefined,
    mayHaveReached: state === "Ambiguous" || state === "Sending" || record.may_have_reached === 1,
    delivery: record.delivery === null ? undefined : record.delivery as KaleyraCallback.MessageStatus,
    deliveryAt: record.delivery_at ?? undefined,
    deliveryError: record.delivery_error ?? undefined,
    attempts: record.attempts
  }
}
