/**
 * One worker's run of a campaign: claim rows, commit their intents, send them through `sendMediaBatch`, commit the
 * outcomes. The invariant: a row's request is written only after its intent (`Sending`) is committed, and at most
 * `concurrency` rows are `Sending` at once (so a crash leaves at most that many `Ambiguous`).
 */
import { type BatchResult, sendMediaBatch } from "@effect-kaleyra/core/Batch"
import { KaleyraClient } from "@effect-kaleyra/core/KaleyraClient"
import type * as KaleyraError from "@effect-kaleyra/core/KaleyraError"
import type * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import type { SqlError } from "@effect/sql/SqlError"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as RateLimiter from "effect/RateLimiter"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as os from "node:os"
import type * as Campaign from "../Campaign.js"
import { type CampaignError, CampaignNotFound, LedgerError } from "../CampaignError.js"
import { Ledger } from "../Ledger.js"
import { ledgerOp } from "./errors.js"
import * as Pacer from "./pacer.js"
import * as Store from "./store.js"

export const accountWideErrors: ReadonlyArray<KaleyraError.SendMediaError["_tag"]> = [
  "IncorrectCredentials",
  "PhoneNumberNotFound",
  "ApiNotAvailable",
  "PhoneNumberVersionMismatch",
  "LowBalance",
  "DailyLimitReached"
]

const accountWide: ReadonlySet<string> = new Set(accountWideErrors)

/** Whether an error pauses the campaign (it concerns the account, not the row). */
const isAccountWide = (error: KaleyraError.SendMediaError): boolean => accountWide.has(error._tag)

/**
 * Where a failed send leaves its row. `Failed` only when the error proves Kaleyra did not accept the message: it
 * refused the input before sending, Kaleyra answered with an error of its own, a gateway answered 4xx or 503 (the
 * statuses core retries or that refuse the request), or the connection never carried the whole request. Everything
 * else may have reached Kaleyra: `Ambiguous`.
 */
const rowStateOf = (error: KaleyraError.SendMediaError): "Failed" | "Ambiguous" | "Pending" => {
  if (isAccountWide(error)) return "Pending"
  switch (error._tag) {
    case "TransportError":
      return error.mayHaveReachedKaleyra ? "Ambiguous" : "Failed"
    case "UnexpectedResponse":
      return error.status === 503 || (error.status >= 400 && error.status < 500) ? "Failed" : "Ambiguous"
    default:
      return "Failed"
  }
}

const errorJson = (error: KaleyraError.SendMediaError): string | null => {
  try {
    const json = JSON.stringify(error)
    return json === undefined ? null : json.slice(0, 4096)
  } catch {
    return null
  }
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { readonly code?: string }).code === "EPERM"
  }
}

const randomId = (): string => Math.random().toString(36).slice(2, 10)

/**
 * Counts the permits of rows that may be `Sending` (intent committed, outcome not yet), and wakes the batch's input
 * when permits come back or rows whose intents were committed with outcomes are ready to hand over.
 */
const makePermits = (initial: number) => {
  let available = initial
  let waiter: (() => void) | undefined
  // a wake with nobody waiting: the next wait returns at once
  let signalled = false
  const wake = () => {
    const w = waiter
    waiter = undefined
    if (w === undefined) signalled = true
    else w()
  }
  return {
    /** Waits for a permit or a `wake`, and takes all the permits there are (0: woken without any). */
    takeAll: Effect.async<number>((resume) => {
      waiter = () => {
        signalled = false
        const n = available
        available = 0
        resume(Effect.succeed(n))
      }
      if (signalled || available > 0) wake()
      return Effect.sync(() => {
        waiter = undefined
      })
    }),
    release: (n: number) => {
      available += n
      wake()
    },
    wake
  }
}

/** A signal: `wait` returns at the next `wake` (at once if one came while nobody waited). */
const makeSignal = () => {
  let waiter: (() => void) | undefined
  let signalled = false
  return {
    wait: Effect.async<void>((resume) => {
      if (signalled) {
        signalled = false
        return resume(Effect.void)
      }
      waiter = () => {
        signalled = false
        resume(Effect.void)
      }
      return Effect.sync(() => {
        waiter = undefined
      })
    }),
    wake: () => {
      const w = waiter
      waiter = undefined
      if (w === undefined) signalled = true
      else w()
    }
  }
}

/** How long a commit of outcomes waits for the results of the other rows in flight. */
const LINGER = Duration.millis(4)

interface InFlight {
  readonly seq: number
  readonly line: number
}

export const run = (
  options: Campaign.RunOptions
): Effect.Effect<Campaign.RunSummary, CampaignError, Ledger | KaleyraClient> =>
  Effect.gen(function*() {
    const ledger = yield* Ledger
    const client = yield* KaleyraClient
    const campaign = yield* ledgerOp("read the campaign")(Store.findCampaign(ledger, options.name))
    if (campaign === undefined) return yield* new CampaignNotFound({ name: options.name })
    if (campaign.import_complete !== 1) {
      return yield* new LedgerError({
        operation: "run",
        detail: `the import of campaign ${JSON.stringify(options.name)} did not complete: create it again to finish it`
      })
    }
    const campaignId = campaign.id
    const requested = options.concurrency ?? 16
    const concurrency = Number.isFinite(requested) ? Math.max(1, Math.floor(requested)) : 16
    const leaseMillis = Duration.toMillis(options.lease ?? "30 seconds")
    const host = os.hostname()
    const workerId = options.workerId ?? `${host}/${process.pid}/${randomId()}`
    const hooks = options.hooks ?? {}
    const sender = client.config.senderNumber

    // Register, then recover the rows of dead workers: a lease that ran out, or a process of this machine that is
    // gone (a rerun after a crash need not wait for the lease).
    yield* ledgerOp("register the worker")(
      Store.registerWorker(ledger, { id: workerId, campaignId, host, pid: process.pid }, leaseMillis)
    )
    const recoverDead = Effect.gen(function*() {
      const workers = yield* Store.workersOf(ledger, campaignId)
      const dead = workers.filter((w) =>
        w.id !== workerId && (w.expired === 1 || (w.host === host && w.pid !== process.pid && !pidAlive(w.pid)))
      ).map((w) => w.id)
      return yield* Store.recover(ledger, campaignId, dead, yield* Clock.currentTimeMillis)
    })

    return yield* Effect.gen(function*() {
      yield* ledgerOp("recover the rows of dead workers")(recoverDead)
      // Running again after the cause of a pause was fixed resumes the campaign.
      yield* ledgerOp("clear the pause")(Store.clearPause(ledger, campaignId))

      const halt = yield* Deferred.make<void>()
      let halted = false
      let pause: Campaign.PauseInfo | undefined
      const stopSending = Effect.suspend(() => {
        halted = true
        permits.wake()
        return Deferred.succeed(halt, undefined)
      })
      // One row first: an account-wide error (a wrong key) then costs one request, not `concurrency`.
      const permits = makePermits(1)
      let opened = false

      if (options.stop !== undefined) {
        yield* Effect.forkScoped(Effect.zipRight(Effect.exit(options.stop), stopSending))
      }
      // The lease, renewed; a worker declared dead by another stops (its rows are no longer its own).
      yield* Effect.forkScoped(
        Effect.repeat(
          Effect.flatMap(Effect.either(Store.renewLease(ledger, workerId, leaseMillis)), (renewed) =>
            renewed._tag === "Right" && !renewed.right ? stopSending : Effect.void),
          Schedule.spaced(Duration.millis(Math.max(100, leaseMillis / 3)))
        )
      )
      // A pause set by another worker stops this one too.
      yield* Effect.forkScoped(
        Effect.repeat(
          Effect.flatMap(Effect.either(Store.findCampaign(ledger, options.name)), (found) => {
            if (found._tag === "Left" || found.right?.paused_reason == null) {
              return Effect.void
            }
            pause ??= {
              reason: found.right.paused_reason,
              message: found.right.paused_message ?? "",
              at: found.right.paused_at ?? 0
            }
            return stopSending
          }),
          Schedule.spaced(Duration.seconds(1))
        )
      )

      // A 429 pauses the sends for its `Retry-After`, never longer than the client's `maxRetryAfter` (as
      // `sendMediaBatch`): a longer one pauses the campaign instead (the rows stay Pending), rather than hold every
      // worker of the sender number for that long.
      const maxRetryAfter = client.config.maxRetryAfter
      const tooLong = (error: KaleyraError.SendMediaError): boolean =>
        error._tag === "RateLimited" && error.retryAfter !== undefined &&
        Duration.greaterThan(error.retryAfter, maxRetryAfter)
      const rateLimitPause = (error: KaleyraError.RateLimited) => ({
        reason: "RateLimited",
        message: `Kaleyra answered 429 with a Retry-After of ${
          Duration.format(error.retryAfter ?? Duration.zero)
        }, longer than maxRetryAfter (${Duration.format(maxRetryAfter)}): run the campaign again later`
      })

      // The rate limit of the sender number, in the ledger: shared by every worker (and by the next run after a
      // crash); a 429 pushes it back for all.
      let pacer: Pacer.Pacer | undefined
      let rateLimiter: RateLimiter.RateLimiter | undefined
      let batchClient = client
      if (options.rateLimit !== false) {
        const rate = options.rateLimit ?? { limit: 80, interval: "1 second" }
        pacer = yield* Pacer.make(ledger, sender, { limit: rate.limit, interval: rate.interval ?? "1 second" })
        const { pushBack } = pacer
        rateLimiter = pacer.limiter
        batchClient = {
          ...client,
          sendMessage: (message, hooks) =>
            client.sendMessage(message, {
              ...hooks,
              onRetry: (error, attempt, delay) =>
                Effect.zipRight(
                  error._tag === "RateLimited" ? pushBack(Duration.min(delay, maxRetryAfter)) : Effect.void,
                  hooks?.onRetry?.(error, attempt, delay) ?? Effect.void
                )
            }).pipe(Effect.tapError((error) =>
              error._tag === "RateLimited" && error.retryAfter !== undefined && !tooLong(error)
                ? pushBack(error.retryAfter)
                : Effect.void
            ))
        }
      }

      // The input of the batch: rows claimed a chunk at a time, their intents committed before they are handed over
      // (as many as there are permits). Mostly in the transaction that commits the outcomes of the rows whose permits
      // they take (one commit, one wait for the disk, for both), then handed over here as `ready`; by the input itself
      // when it has permits and no row is ready (the first row, or when the outcomes' commit found none to claim).
      // small enough that several workers share a campaign of a few hundred rows
      const claimSize = Math.max(8, concurrency * 2)
      const claimed: Array<Store.ClaimedRow> = []
      const ready: Array<Store.ClaimedRow> = []
      let exhausted = false
      // an outcomes' commit is committing intents: the input must not end before it hands the rows over
      let handing = false
      const handed = makeSignal()
      let inputEnded = false
      const inFlight = new Map<number, InFlight>()
      let nextIndex = 0
      // No Pending row left: while other workers hold rows, wait and recover those of the workers that died (their
      // claimed rows return to Pending), so that the last worker standing finishes the campaign.
      const claimOrWait: Effect.Effect<ReadonlyArray<Store.ClaimedRow>, SqlError> = Effect.flatMap(
        Store.claim(ledger, campaignId, workerId, claimSize),
        (rows) =>
          rows.length > 0 || halted ? Effect.succeed(rows) : Effect.flatMap(
            Store.heldByOthers(ledger, campaignId, workerId),
            (held) =>
              held === 0 || halted ? Effect.succeed(rows) : Effect.zipRight(
                Effect.zipRight(Effect.sleep(Duration.millis(Math.min(1000, leaseMillis / 10))), recoverDead),
                Effect.suspend(() =>
                  claimOrWait
                )
              )
          )
      )
      // Rows whose intents are committed, to the batch (after a stop too: the batch reports them `NotAttempted`).
      const handOver = (rows: ReadonlyArray<Store.ClaimedRow>): Chunk.Chunk<MediaMessage.SendMediaInput> =>
        Chunk.unsafeFromArray(rows.map((row) => {
          inFlight.set(nextIndex++, { seq: row.seq, line: row.line })
          return JSON.parse(row.input) as MediaMessage.SendMediaInput
        }))
      const end = Effect.suspend(() => {
        inputEnded = true
        return Effect.fail(Option.none())
      })
      const pull: Effect.Effect<Chunk.Chunk<MediaMessage.SendMediaInput>, Option.Option<LedgerError>> = Effect.gen(
        function*() {
          for (;;) {
            if (ready.length > 0) return handOver(ready.splice(0))
            if (halted) {
              if (!handing) return yield* end
              yield* handed.wait
              continue
            }
            const n = yield* permits.takeAll
            if (n === 0) continue
            if (halted) {
              permits.release(n)
              continue
            }
            if (claimed.length === 0 && !exhausted) {
              const rows = yield* ledgerOp("claim rows")(claimOrWait)
              if (rows.length === 0) {
                exhausted = true
              } else {
                claimed.push(...rows)
                if (hooks.afterClaim !== undefined) yield* hooks.afterClaim(rows.map((row) => row.seq))
              }
            }
            const rows = claimed.splice(0, n)
            if (rows.length < n) permits.release(n - rows.length)
            if (rows.length === 0) {
              // every row is claimed: the input ends once no outcomes' commit is handing rows over (waiting for it, not
              // for the permits just given back, which are there at once)
              if (ready.length > 0) continue
              if (handing) {
                yield* handed.wait
                continue
              }
              return yield* end
            }
            if (halted) {
              permits.release(rows.length)
              claimed.unshift(...rows)
              continue
            }
            const now = yield* Clock.currentTimeMillis
            const seqs = rows.map((row) => row.seq)
            const { first, sending } = yield* ledgerOp("commit intents")(
              Store.commitIntents(ledger, campaignId, workerId, seqs, now, pacer?.reservation)
            )
            if (pacer !== undefined && first !== undefined) yield* pacer.add(first, sending.size)
            if (hooks.afterIntent !== undefined) yield* hooks.afterIntent(seqs)
            const started = rows.filter((row) => sending.has(row.seq))
            if (started.length < rows.length) permits.release(rows.length - started.length)
            if (started.length > 0) return handOver(started)
          }
        }
      ).pipe(Effect.mapError((e) => Option.isOption(e) ? e : Option.some(e)))
      const source = Stream.repeatEffectChunkOption(pull)

      let attempted = 0
      const results = sendMediaBatch(source, {
        concurrency,
        ordered: false,
        stop: Deferred.await(halt),
        ...(rateLimiter !== undefined ? { rateLimiter } : { rateLimit: false })
      }).pipe(Stream.provideService(KaleyraClient, batchClient))

      // Outcomes committed a group at a time (a commit waits for the disk: SQLite's fsync): the results that came
      // while the previous commit ran, and those of the other rows in flight that come within a few milliseconds.
      const arrived: Array<BatchResult<MediaMessage.SendMediaInput, number>> = []
      let resultsEnded = false
      // what the committer waits for: a first result, or (lingering) the results of every row in flight
      let committer: "busy" | "idle" | "lingering" = "busy"
      const arrival = makeSignal()
      const receive = Stream.runForEachChunk(results, (chunk) =>
        Effect.sync(() => {
          for (const result of chunk) arrived.push(result)
          if (committer === "idle" || (committer === "lingering" && arrived.length >= inFlight.size)) arrival.wake()
        })).pipe(Effect.ensuring(Effect.sync(() => {
          resultsEnded = true
          arrival.wake()
        })))
      const commitAll = Effect.gen(function*() {
        for (;;) {
          if (arrived.length === 0) {
            if (resultsEnded) return
            committer = "idle"
            yield* arrival.wait
            committer = "busy"
            continue
          }
          if (!resultsEnded && arrived.length < inFlight.size) {
            committer = "lingering"
            yield* Effect.raceFirst(arrival.wait, Effect.sleep(LINGER))
            committer = "busy"
          }
          yield* commitResults(arrived.splice(0))
        }
      })
      const commitResults = (chunk: ReadonlyArray<BatchResult<MediaMessage.SendMediaInput, number>>) =>
        Effect.gen(function*() {
          const outcomes: Array<Store.Outcome> = []
          const reported: Array<Campaign.RowOutcome> = []
          let pauseNow: { reason: string; message: string } | undefined
          for (const result of chunk) {
            const row = inFlight.get(result.index)
            if (row === undefined) continue
            inFlight.delete(result.index)
            if (hooks.afterResponse !== undefined) yield* hooks.afterResponse(row.seq)
            switch (result._tag) {
              case "Sent":
                outcomes.push({
                  seq: row.seq,
                  state: "Sent",
                  messageId: result.result.messageId,
                  errorTag: null,
                  errorMessage: null,
                  error: null,
                  mayHaveReached: true,
                  notAttempted: false
                })
                reported.push({ _tag: "Sent", seq: row.seq, line: row.line, messageId: result.result.messageId })
                break
              case "NotAttempted":
                if (result.reason?._tag === "RateLimited" && pause === undefined && pauseNow === undefined) {
                  pauseNow = rateLimitPause(result.reason.error)
                }
                outcomes.push({
                  seq: row.seq,
                  state: "Pending",
                  messageId: null,
                  errorTag: null,
                  errorMessage: null,
                  error: null,
                  mayHaveReached: false,
                  notAttempted: true
                })
                reported.push({ _tag: "Pending", seq: row.seq, line: row.line })
                break
              case "Failed": {
                // a 429 proves the message was not accepted: past maxRetryAfter, its row waits for the next run
                const state = tooLong(result.error) ? "Pending" : rowStateOf(result.error)
                if (state === "Pending" && pause === undefined && pauseNow === undefined) {
                  pauseNow = result.error._tag === "RateLimited"
                    ? rateLimitPause(result.error)
                    : { reason: result.error._tag, message: result.error.message }
                }
                outcomes.push({
                  seq: row.seq,
                  state,
                  messageId: null,
                  errorTag: result.error._tag,
                  errorMessage: result.error.message,
                  error: errorJson(result.error),
                  mayHaveReached: state === "Ambiguous",
                  notAttempted: false
                })
                reported.push(
                  state === "Pending"
                    ? { _tag: "Pending", seq: row.seq, line: row.line, error: result.error }
                    : { _tag: state, seq: row.seq, line: row.line, error: result.error }
                )
                break
              }
            }
          }
          if (outcomes.length === 0) return
          const now = yield* Clock.currentTimeMillis
          // After the first outcome that is not an account-wide error, all the permits.
          const opening = !opened && outcomes.some((o) => o.state !== "Pending")
          if (opening) opened = true
          const free = outcomes.length + (opening ? concurrency - 1 : 0)
          // The rows that take the freed permits: their intents in this same commit (no request is written before it).
          const mayStart = !halted && !inputEnded && pause === undefined && pauseNow === undefined
          const next = mayStart ? claimed.splice(0, free) : []
          const hand = mayStart && (next.length > 0 || !exhausted)
          handing = hand
          const committed = yield* ledgerOp("commit outcomes")(
            ledger.sql.withTransaction(Effect.gen(function*() {
              yield* Store.commitOutcomes(ledger, campaignId, workerId, outcomes, now, pauseNow)
              if (!hand) return undefined
              const more = next.length < free && !exhausted
                ? yield* Store.claim(ledger, campaignId, workerId, claimSize)
                : []
              const rows = [...next, ...more.slice(0, free - next.length)]
              if (rows.length === 0) return { rows, more, sending: new Set<number>(), first: undefined }
              const intents = yield* Store.commitIntents(
                ledger,
                campaignId,
                workerId,
                rows.map((row) => row.seq),
                now,
                pacer?.reservation
              )
              return { rows, more, ...intents }
            })).pipe(Effect.onError(() =>
              Effect.sync(() => {
                handing = false
                handed.wake()
              })
            ))
          )
          if (pauseNow !== undefined) {
            pause = { ...pauseNow, at: now }
            yield* stopSending
          }
          if (hooks.afterOutcome !== undefined) yield* hooks.afterOutcome(outcomes.map((o) => o.seq))
          let started = 0
          if (committed !== undefined) {
            claimed.push(...committed.more.slice(free - next.length))
            if (committed.more.length > 0 && hooks.afterClaim !== undefined) {
              yield* hooks.afterClaim(committed.more.map((row) => row.seq))
            }
            if (committed.rows.length > 0) {
              if (pacer !== undefined && committed.first !== undefined) {
                yield* pacer.add(committed.first, committed.sending.size)
              }
              if (hooks.afterIntent !== undefined) yield* hooks.afterIntent(committed.rows.map((row) => row.seq))
              for (const row of committed.rows) {
                if (committed.sending.has(row.seq)) {
                  ready.push(row)
                  started++
                }
              }
            }
          }
          // wakes the input: rows to hand over, permits, or (after a stop) the end
          handing = false
          handed.wake()
          permits.release(free - started)
          for (const o of outcomes) if (!o.notAttempted) attempted++
          if (options.onOutcome !== undefined) {
            for (const outcome of reported) yield* options.onOutcome(outcome)
          }
        })

      // The batch's own failure (after its last result) comes once every result it gave is committed.
      const [received] = yield* Effect.all([Effect.exit(receive), commitAll], { concurrency: 2 })
      yield* Effect.catchAllDefect(
        received,
        // A failure of the shared pacer's database is a defect inside the batch (a rate limiter cannot fail).
        (defect) => defect instanceof LedgerError ? Effect.fail(defect) : Effect.die(defect)
      )

      return yield* summarize(ledger, campaignId, attempted, pause)
    }).pipe(
      Effect.scoped,
      Effect.ensuring(Effect.ignore(Effect.flatMap(
        Clock.currentTimeMillis,
        (now) => Store.releaseWorker(ledger, campaignId, workerId, now)
      )))
    )
  })

/** The campaign's counts after a run. */
const summarize = (
  ledger: Ledger["Type"],
  campaignId: number,
  attempted: number,
  pause: Campaign.PauseInfo | undefined
): Effect.Effect<Campaign.RunSummary, LedgerError> =>
  Effect.map(ledgerOp("count rows")(Store.countStates(ledger, campaignId)), (rows) => {
    const count = (state: string) => rows.find((r) => r.state === state)?.n ?? 0
    const pending = count("Pending") + count("Claimed")
    const sending = count("Sending")
    const sent = count("Sent")
    const failed = count("Failed")
    const ambiguous = count("Ambiguous")
    return {
      total: pending + sending + sent + failed + ambiguous,
      pending,
      sending,
      sent,
      failed,
      ambiguous,
      attempted,
      paused: pause
    }
  })
