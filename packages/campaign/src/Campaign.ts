/**
 * Durable campaigns: rows stored in the ledger before anything is sent, then sent through core's `sendMediaBatch`
 * with at most one send per row, ever (across crashes at any instruction, reruns and several workers).
 *
 * @since 0.1.0
 */
import type * as KaleyraClient from "@effect-kaleyra/core/KaleyraClient"
import type * as KaleyraError from "@effect-kaleyra/core/KaleyraError"
import type * as KaleyraEvent from "@effect-kaleyra/core/KaleyraEvent"
import type * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type * as CampaignError from "./CampaignError.js"
import type * as Ledger from "./Ledger.js"

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
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  readonly name: string
  /** Sends at once (default 16); also the most rows `Sending` at once, hence `Ambiguous` after a crash. */
  readonly concurrency?: number | undefined
  /**
   * Sends (attempts, retries included) per interval for the client's sender number (default 80 per second); `false`
   * turns it off. On PostgreSQL the limit is shared by every worker of every campaign of the sender number.
   */
  readonly rateLimit?: { readonly limit: number; readonly interval?: Duration.DurationInput } | false | undefined
  /** This worker's id (default: random). */
  readonly workerId?: string | undefined
  /** How long a worker's claim lasts without renewal (default 30 seconds); a dead worker's rows return after it. */
  readonly lease?: Duration.DurationInput | undefined
  /** When this effect completes, no new send starts; the run ends after the sends in flight. */
  readonly stop?: Effect.Effect<unknown> | undefined
  /** Checks the credentials (one request that sends nothing) before the first row; default `true`. */
  readonly preflight?: boolean | undefined
  /** Runs after each row's outcome is committed (progress). */
  readonly onOutcome?: ((outcome: RowOutcome) => Effect.Effect<void>) | undefined
  readonly hooks?: RunHooks | undefined
}

/**
 * Why a campaign is paused: an account-wide error (no new send starts; rows stay `Pending`; running again resumes).
 *
 * @since 0.1.0
 * @category models
 */
export interface PauseInfo {
  /** The error's tag (`LowBalance`, `IncorrectCredentials`, ...). */
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
export const accountWideErrors: ReadonlyArray<KaleyraError.SendMediaError["_tag"]> = [
  "IncorrectCredentials",
  "PhoneNumberNotFound",
  "ApiNotAvailable",
  "PhoneNumberVersionMismatch",
  "LowBalance",
  "DailyLimitReached"
]

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
  Effect.dieMessage(`TODO: Campaign.create ${options.name}`)

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
  Effect.dieMessage(`TODO: Campaign.run ${options.name}`)

/**
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
  readonly delivery: Readonly<Record<KaleyraEvent.MessageStatus | "none", number>>
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
  Effect.dieMessage(`TODO: Campaign.status ${name}`)

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
  readonly delivery: KaleyraEvent.MessageStatus | undefined
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
  Stream.dieMessage(`TODO: Campaign.report ${name}`)

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
  Effect.dieMessage(`TODO: Campaign.resendAmbiguous ${name}`)

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

/**
 * Records a delivery status, joined to its row by ref (`extra_info.ref2`) or else by message id, forward only
 * (sent < delivered < read; failed final), whatever order the statuses arrive in.
 *
 * @since 0.1.0
 * @category delivery
 */
export const recordStatus = (
  event: KaleyraEvent.MessageStatusUpdated
): Effect.Effect<RecordResult, CampaignError.LedgerError, Ledger.Ledger> =>
  Effect.dieMessage(`TODO: Campaign.recordStatus ${event.messageId}`)

/**
 * The campaigns in the ledger, oldest first.
 *
 * @since 0.1.0
 * @category reading
 */
export const list: Effect.Effect<ReadonlyArray<string>, CampaignError.LedgerError, Ledger.Ledger> = Effect
  .dieMessage("TODO: Campaign.list")
