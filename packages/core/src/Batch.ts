/**
 * Sending many media messages: bounded concurrency, a rate limit per sender number, the client's safe retries, a
 * pause of the whole batch on a 429, and exactly one result per input, in input order (or as sends complete, with
 * `ordered: false`).
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as RateLimiter from "effect/RateLimiter"
import * as Stream from "effect/Stream"
import { millisOf, show, spacedBy, spacingOf } from "./internal/pacer.js"
import { refsOf } from "./internal/refs.js"
import { type Drain, runWorkers } from "./internal/workers.js"
import { KaleyraClient, type SendMediaResult } from "./KaleyraClient.js"
import { type RateLimited, type SendMediaError, TransportError } from "./KaleyraError.js"
import { SendFailed } from "./KaleyraEvents.js"
import * as MediaMessage from "./MediaMessage.js"

/**
 * The outcome of one input of a batch. `index` is the input's position (from 0); `key` is what `options.key`
 * returned for it.
 *
 * - `Sent`: Kaleyra accepted it.
 * - `Failed`: a tagged error, after the client's retries.
 * - `NotAttempted`: it was not sent, and is safe to send again; `reason` says why (see {@link NotAttemptedReason}).
 *
 * @since 0.1.0
 * @category models
 */
export type BatchResult<A, K> =
  | {
    readonly _tag: "Sent"
    readonly index: number
    readonly key: K
    readonly input: A
    readonly result: SendMediaResult
  }
  | {
    readonly _tag: "Failed"
    readonly index: number
    readonly key: K
    readonly input: A
    readonly error: SendMediaError
  }
  | {
    readonly _tag: "NotAttempted"
    readonly index: number
    readonly key: K
    readonly input: A
    /** Always set by `sendMediaBatch` (optional so that results built by hand keep compiling). */
    readonly reason?: NotAttemptedReason
  }

/**
 * Why an input was not sent:
 *
 * - `Stopped`: `options.stop` completed (or died) before its send started.
 * - `RateLimited`: a 429 asked to wait longer than the client's `maxRetryAfter` (`error`, whose `retryAfter` says how
 *   long); the batch then stops starting sends rather than pause that long.
 * - `SendDied`: another send died (a defect, such as a `key` function that throws) after this input was read.
 *
 * @since 0.1.0
 * @category models
 */
export type NotAttemptedReason =
  | { readonly _tag: "Stopped" }
  | { readonly _tag: "RateLimited"; readonly error: RateLimited }
  | { readonly _tag: "SendDied" }

/**
 * The options of `sendMediaBatch`. An option with a value that cannot be meant (a `concurrency` that is not a finite
 * number, a `rateLimit` whose `limit` is not a positive finite number or whose `interval` is not a positive finite
 * duration, an `interruptGrace` that is not a finite duration of 0 or more) is refused when the stream starts: it dies at once with a `Cause.IllegalArgumentException` whose message
 * names the option, and nothing is sent. No such value is ever taken as "no limit".
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchOptions<A, K> {
  /** How many sends run at once (default 16; below 1 counts as 1; not a finite number: refused). */
  readonly concurrency?: number
  /**
   * Results in input order (`true`, the default), or each as soon as its send completes (`false`; every result still
   * carries its `index` and `key`). In order, a slow send holds back the results behind it: the inputs after it keep
   * starting, up to 4 x `concurrency` (at least 64) from it on, and then the batch waits for it, so that one request
   * near its timeout stalls the batch about that long. Unordered, a slow send holds back nothing but itself.
   */
  readonly ordered?: boolean
  /**
   * Sends (attempts, retries included) allowed per interval for the client's sender number (default 80 per second,
   * Meta's default throughput; `interval` defaults to 1 second); `false` turns the limit off. `limit` may be below 1
   * (0.5 per second: one send every 2 seconds).
   */
  readonly rateLimit?: { readonly limit: number; readonly interval?: Duration.DurationInput } | false
  /**
   * A limiter to use instead of `rateLimit` (e.g. one `Pacer.make` shared by several batches of the same sender number,
   * or an `effect/RateLimiter`). Every HTTP attempt goes through it.
   */
  readonly rateLimiter?: RateLimiter.RateLimiter
  /** A key for each input, carried on its result (default: the index). */
  readonly key?: (input: A, index: number) => K
  /**
   * When this effect completes, no new send starts and no retry either: the remaining inputs are reported
   * `NotAttempted` (reason `Stopped`), a pause (or a long wait for a slot of `rateLimit`) ends at once, a send waiting to retry reports the error of its last
   * attempt (`Failed`), and the attempts in progress finish and report.
   */
  readonly stop?: Effect.Effect<unknown>
  /**
   * When the stream ends before its last result (its consumer interrupted, e.g. by a timeout or at shutdown, or done
   * early), how long the sends whose request is on its way get to bring their answer (default 5 seconds; 0 for none).
   * No new send nor retry starts meanwhile, and the ending waits that long at most. Each such send reports its
   * outcome as a `SendAccepted` or `SendFailed` event on the client's `KaleyraEvents` (a send waiting to retry: its
   * last error); one still unanswered after it is abandoned and reported as a `SendFailed` with an ambiguous
   * `TransportError` (`mayHaveReachedKaleyra: true`). Without `KaleyraEvents`, or when nobody subscribes to them,
   * there is nowhere to report and the sends are interrupted at once.
   */
  readonly interruptGrace?: Duration.DurationInput
}

/**
 * Sends every input and streams one result per input, in input order unless `ordered: false`. Memory does not grow
 * with the number of inputs (the input is pulled as sends complete). A 429 pauses every send of the batch for its
 * `Retry-After` (or the backoff delay), never longer than the client's `maxRetryAfter`: a 429 whose `Retry-After` is
 * longer stops the batch (the inputs not sent are `NotAttempted`, reason `RateLimited`). When the stream ends before
 * its last result (interrupted), the sends in flight get `interruptGrace` to report their outcome as events. Failures
 * never fail the stream: each is a `Failed` result. Only the input
 * stream's own error can (every input read before it is sent and reported first), or a defect: a `key` function
 * or a `rateLimiter` that throws (no input is taken after it, and the inputs already read that had not started are
 * `NotAttempted`; a `rateLimiter` that interrupts stops the batch the same way, and the stream ends interrupted), or
 * a `stop` that dies (it acts as a completed `stop`, and its defect comes when the input ends).
 * Either way every send that started reports its result before the stream fails; the one input without a result is
 * the one whose send died (and any other whose `key` throws too).
 *
 * @example
 * ```ts
 * import { Batch, MediaMessage, sendMediaBatch } from "@effect-kaleyra/core"
 * import { Stream } from "effect"
 *
 * const recipients = ["+919876543210", "+14155550123"]
 * const summary = sendMediaBatch(
 *   recipients.map((to) => MediaMessage.image({ to, link: "https://example.com/promo.png" })),
 *   { concurrency: 16, rateLimit: { limit: 80, interval: "1 second" } }
 * ).pipe(Stream.runFold(Batch.emptySummary, Batch.summarize))
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export const sendMediaBatch = <A extends MediaMessage.SendMediaInput, E = never, R = never, K = number>(
  inputs: Iterable<A> | Stream.Stream<A, E, R>,
  options: BatchOptions<A, K> = {}
): Stream.Stream<BatchResult<A, K>, E, R | KaleyraClient> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const client = yield* KaleyraClient
    const requested = options.concurrency ?? 16
    if (!Number.isFinite(requested)) {
      return yield* Effect.die(
        new Cause.IllegalArgumentException(`sendMediaBatch: concurrency must be a finite number, not ${requested}`)
      )
    }
    const concurrency = Math.max(1, Math.floor(requested))
    const rate: unknown = options.rateLimit === undefined ? { limit: 80 } : options.rateLimit
    if (rate !== false && (typeof rate !== "object" || rate === null)) {
      return yield* Effect.die(
        new Cause.IllegalArgumentException(
          `sendMediaBatch: rateLimit must be { limit, interval } or false, not ${show(rate)}`
        )
      )
    }
    // Why the batch stopped starting sends (set once), and the signal that ends what waits meanwhile: a pause, a long
    // wait for a rate-limit slot, and the client's retries (a send waiting to retry gives up with its last error).
    let stopReason: NotAttemptedReason | undefined
    const halt = yield* Deferred.make<void>()
    const stopWith = (reason: NotAttemptedReason) => {
      if (stopReason !== undefined) return
      stopReason = reason
      Deferred.unsafeDone(halt, Exit.void)
    }

    let limiter = options.rateLimiter
    if (limiter === undefined && rate !== false) {
      const { interval, limit } = rate as { readonly limit: unknown; readonly interval?: unknown }
      const spacing = spacingOf(limit, interval ?? "1 second", "sendMediaBatch: rateLimit.")
      if (Either.isLeft(spacing)) return yield* Effect.die(spacing.left)
      limiter = spacedBy(limit as number, spacing.right, Deferred.await(halt))
    }
    const keyOf = options.key ?? ((_: A, index: number) => index as unknown as K)

    const graceMillis = millisOf(options.interruptGrace ?? "5 seconds")
    if (!Number.isFinite(graceMillis)) {
      return yield* Effect.die(
        new Cause.IllegalArgumentException(
          `sendMediaBatch: interruptGrace must be a finite duration, 0 or more (e.g. "5 seconds"), not ${
            show(options.interruptGrace)
          }`
        )
      )
    }
    const maxPause = Duration.toMillis(client.config.maxRetryAfter)

    // The pause shared by every send of the batch, moved forward by any 429, never to more than `maxRetryAfter` from
    // now (a backoff may be longer; a longer `Retry-After` stops the batch instead, see `rateLimited`).
    let pausedUntil = 0
    const pauseFor = (delay: Duration.Duration) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        pausedUntil = Math.max(pausedUntil, now + Math.min(Duration.toMillis(delay), maxPause))
      })
    const rateLimited = (error: RateLimited, retryAfter: Duration.Duration) =>
      Duration.toMillis(retryAfter) > maxPause
        ? Effect.sync(() => stopWith({ _tag: "RateLimited", error }))
        : pauseFor(retryAfter)
    // A send waits out any pause (or until the batch stops), then its rate-limit slot; a pause that began while it
    // waited for the slot (a 429 answered meanwhile) is waited out too, and a new slot taken after it, so that nothing
    // is sent during a pause and the sends held back do not all leave together when it ends.
    const waitTurn: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (stopReason !== undefined) return Effect.void
      if (pausedUntil > now) {
        return Effect.zipRight(Effect.raceFirst(Effect.sleep(pausedUntil - now), Deferred.await(halt)), waitTurn)
      }
      return limiter === undefined
        ? Effect.void
        : Effect.flatMap(limiter(Clock.currentTimeMillis), (now) => pausedUntil > now ? waitTurn : Effect.void)
    })

    // If `stop` dies, the batch stops too, and the defect comes after every result.
    let stopDefect: Cause.Cause<never> | undefined
    if (options.stop !== undefined) {
      yield* Effect.forkScoped(Effect.onExit(options.stop, (exit) =>
        Effect.sync(() => {
          if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) return
          stopWith({ _tag: "Stopped" })
          if (Exit.isFailure(exit)) stopDefect = exit.cause
        })))
    }

    // With events, the sends started and not yet settled, by the fiber running each: when the stream ends early,
    // they are let finish (see `drain`), and reported if they cannot.
    const events = client.events
    const clock = yield* Effect.clock
    const inFlight = events === undefined ? undefined : new Map<Fiber.RuntimeFiber<unknown, unknown>, Flight>()

    const sendOne = (input: A, index: number): Effect.Effect<BatchResult<A, K>> => {
      const key = keyOf(input, index)
      // with events: the fiber running the send, once it started, and what it knows of the send
      let runningOn: Fiber.RuntimeFiber<unknown, unknown> | undefined
      let flight: Flight | undefined
      const toResult = Effect.match({
        onFailure: (error: SendMediaError): BatchResult<A, K> => {
          if (runningOn !== undefined) inFlight!.delete(runningOn)
          return { _tag: "Failed", index, key, input, error }
        },
        onSuccess: (result: SendMediaResult): BatchResult<A, K> => {
          if (runningOn !== undefined) inFlight!.delete(runningOn)
          return { _tag: "Sent", index, key, input, result }
        }
      })
      const validated = MediaMessage.validate(input)
      if (Either.isLeft(validated)) {
        // Refused by the client like every invalid input (the same error, and its SendFailed event), before waiting
        // for a rate-limit slot: nothing is sent.
        return toResult(client.sendMedia(input, { beforeAttempt: waitTurn }))
      }
      const message = validated.right
      let first = true
      const hooks = {
        // the first attempt waited its turn below (and checked the stop after it); retries wait here
        beforeAttempt: Effect.suspend(() => {
          if (first) {
            first = false
            return Effect.void
          }
          const known = flight
          return known === undefined ? waitTurn : Effect.map(waitTurn, () => {
            // a retry after the batch stopped is given up by the client, with the error of the last attempt
            if (stopReason !== undefined) return
            known.attempts++
            known.lastError = undefined
          })
        }),
        onRetry: (error: SendMediaError, _attempt: number, delay: Duration.Duration) => {
          if (flight !== undefined) flight.lastError = error
          return error._tag === "RateLimited" ? pauseFor(delay) : Effect.void
        },
        cancelRetries: halt
      }
      const send = client.sendMessage(message, hooks).pipe(
        Effect.tapError((error) =>
          error._tag === "RateLimited" && error.retryAfter !== undefined
            ? rateLimited(error, error.retryAfter)
            : Effect.void
        ),
        toResult
      )
      const notAttempted = (): BatchResult<A, K> => ({ _tag: "NotAttempted", index, key, input, reason: stopReason! })
      const tracked = Effect.withFiberRuntime<BatchResult<A, K>>((fiber) => {
        flight = { message, attempts: 1, startedAt: clock.unsafeCurrentTimeMillis(), lastError: undefined }
        runningOn = fiber
        inFlight!.set(fiber, flight)
        return send
      })
      return Effect.suspend(() =>
        stopReason !== undefined
          ? Effect.succeed(notAttempted())
          : Effect.flatMap(waitTurn, () =>
            stopReason !== undefined
              ? Effect.succeed(notAttempted())
              // tracked only when somebody listens to the events: nobody could be told of an abandoned send otherwise
              : inFlight !== undefined && events!.unsafeHasSubscribers()
              ? tracked
              : send)
      )
    }
    // When the stream ends early with sends in flight: no new send nor retry; after the grace period, the sends still
    // unanswered are reported (ambiguous: their requests may have reached Kaleyra) and then interrupted.
    const drain: Drain | undefined = events === undefined || inFlight === undefined ? undefined : {
      grace: graceMillis,
      halt: () => stopWith({ _tag: "Stopped" }),
      busy: (fiber) => inFlight.has(fiber) && events.unsafeHasSubscribers(),
      // A send whose answer came is no longer in `inFlight` once its result is made, a few steps after the client
      // published its event: only a fiber paused by its op budget between the two at the very end of the grace would
      // be reported twice.
      abandon: (fiber) => {
        const flight = inFlight.get(fiber)
        if (flight === undefined) return Effect.void
        inFlight.delete(fiber)
        const { message } = flight
        const error = flight.lastError ?? new TransportError({
          reason: "Other",
          mayHaveReachedKaleyra: true,
          detail: `the batch ended (its consumer interrupted) and no answer came within its ${
            Duration.format(Duration.millis(graceMillis))
          } grace period`
        })
        return events.publish(
          new SendFailed({
            error,
            recipients: message.to,
            type: message.type,
            refs: refsOf(message),
            attempts: flight.attempts,
            durationMillis: clock.unsafeCurrentTimeMillis() - flight.startedAt
          })
        )
      }
    }

    // How far the batch may run ahead of the results the consumer has taken: at most this many inputs are started
    // (or done) and not yet taken. In order, that is also how many inputs may start after a slow send before the
    // batch waits for it.
    const window = Math.max(concurrency * 4, 64)
    // An iterable is read one window at a time (`Stream.fromIterable` reads 4 096 inputs ahead: a generator's inputs
    // would then be held for seconds at a slow rate), and its iterator is closed (`return()`, so a generator's
    // `finally` runs) when the batch ends early.
    const read: Stream.Stream<A, E, R> = Stream.StreamTypeId in inputs
      ? inputs as Stream.Stream<A, E, R>
      : Stream.suspend(() => {
        const iterator = (inputs as Iterable<A>)[Symbol.iterator]()
        const iterable: IterableIterator<A> = {
          next: () => iterator.next(),
          [Symbol.iterator]() {
            return this
          }
        }
        return Stream.fromIteratorSucceed(iterable, window).pipe(
          Stream.ensuring(Effect.sync(() => {
            try {
              iterator.return?.()
            } catch {
              // the input's own cleanup failed: nothing to report it to, and every result is already out
            }
          }))
        )
      })
    // The input's failure (or defect) ends the input here, and comes after the results of every input read before
    // it: failing at once would interrupt sends whose requests may have reached Kaleyra.
    let inputFailure: Cause.Cause<E> | undefined
    const source = read.pipe(Stream.catchAllCause((cause) => {
      inputFailure = cause
      return Stream.empty
    }))
    // An input read but never started, because a send died: `NotAttempted` (unless its key cannot be had either).
    const notStarted = (input: A, index: number): BatchResult<A, K> | undefined => {
      try {
        return { _tag: "NotAttempted", index, key: keyOf(input, index), input, reason: sendDied }
      } catch {
        return undefined
      }
    }
    const results = runWorkers(
      source,
      { concurrency, window, ordered: options.ordered !== false, drain },
      sendOne,
      notStarted
    )
    // After the last result: a dying `stop`, else the input's failure. A send's defect has already failed the stream
    // (it wins: a stream fails with the typed failure alone of a cause that has both, and the defect is the bug).
    return Stream.concat(
      results,
      Stream.suspend(() => {
        const cause = stopDefect ?? inputFailure
        return cause === undefined ? Stream.empty : Stream.failCause(cause)
      })
    )
  }))

const sendDied: NotAttemptedReason = { _tag: "SendDied" }

/** A send of a batch that started, as an event reports it if the batch has to abandon it. */
interface Flight {
  readonly message: MediaMessage.MediaMessage
  readonly startedAt: number
  attempts: number
  /** The error of the last attempt while the send waits to retry it. */
  lastError: SendMediaError | undefined
}

/**
 * Counts of a batch's results.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchSummary {
  readonly sent: number
  readonly failed: number
  readonly notAttempted: number
  /** Failures by error tag. */
  readonly failures: Readonly<Record<string, number>>
}

/**
 * Adds a result to a summary (use with `Stream.runFold(results, Batch.emptySummary, Batch.summarize)`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const summarize = <A, K>(summary: BatchSummary, result: BatchResult<A, K>): BatchSummary => {
  switch (result._tag) {
    case "Sent":
      return { ...summary, sent: summary.sent + 1 }
    case "NotAttempted":
      return { ...summary, notAttempted: summary.notAttempted + 1 }
    case "Failed":
      return {
        ...summary,
        failed: summary.failed + 1,
        failures: { ...summary.failures, [result.error._tag]: (summary.failures[result.error._tag] ?? 0) + 1 }
      }
  }
}

/**
 * The summary of no results, to start a fold: `Stream.runFold(Batch.emptySummary, Batch.summarize)`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const emptySummary: BatchSummary = { sent: 0, failed: 0, notAttempted: 0, failures: {} }
