/**
 * Sending many media messages: bounded concurrency, a rate limit per sender number, the client's safe retries, a
 * pause of the whole batch on a 429, and exactly one result per input, in input order (or as sends complete, with
 * `ordered: false`).
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as RateLimiter from "effect/RateLimiter"
import * as Stream from "effect/Stream"
import { KaleyraClient, type SendMediaResult } from "./KaleyraClient.js"
import type { SendMediaError } from "./KaleyraError.js"
import * as MediaMessage from "./MediaMessage.js"

/**
 * The outcome of one input of a batch. `index` is the input's position (from 0); `key` is what `options.key`
 * returned for it.
 *
 * - `Sent`: Kaleyra accepted it.
 * - `Failed`: a tagged error, after the client's retries.
 * - `NotAttempted`: the batch was stopped (`options.stop`) before it was sent: it is safe to send again.
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
  | { readonly _tag: "NotAttempted"; readonly index: number; readonly key: K; readonly input: A }

/**
 * @since 0.1.0
 * @category models
 */
export interface BatchOptions<A, K> {
  /** How many sends run at once (default 16). */
  readonly concurrency?: number
  /**
   * Results in input order (`true`, the default), or each as soon as its send completes (`false`; every result still
   * carries its `index` and `key`). In order, a slow send holds back the results behind it, and the next group of
   * inputs (4 x `concurrency`, at least 64) waits for it: one request near its timeout stalls the batch that long.
   * Unordered, a slow send holds back nothing but itself.
   */
  readonly ordered?: boolean
  /**
   * Sends (attempts, retries included) allowed per interval for the client's sender number (default 80 per second,
   * Meta's default throughput); `false` turns the limit off.
   */
  readonly rateLimit?: { readonly limit: number; readonly interval?: Duration.DurationInput } | false
  /**
   * A limiter to use instead of `rateLimit` (e.g. one `pacer` shared by several batches of the same sender number,
   * or an `effect/RateLimiter`). Every HTTP attempt goes through it.
   */
  readonly rateLimiter?: RateLimiter.RateLimiter
  /** A key for each input, carried on its result (default: the index). */
  readonly key?: (input: A, index: number) => K
  /** When this effect completes, no new send starts; the remaining inputs are reported `NotAttempted`. */
  readonly stop?: Effect.Effect<unknown>
}

/**
 * Sends every input and streams one result per input, in input order unless `ordered: false`. Memory does not grow
 * with the number of inputs (the input is pulled as sends complete). A 429 pauses every send of the batch for its
 * `Retry-After` (or the backoff delay). Failures never fail the stream: each is a `Failed` result. Only the input
 * stream's own error can (every input read before it is sent and reported first), or a defect: a `key` function
 * or a `rateLimiter` that throws (no input is taken after it), or a `stop` that dies (it acts as a completed `stop`,
 * and its defect comes when the input ends). Either way every send that started reports its result before the stream
 * fails.
 *
 * @example
 * ```ts
 * import { emptySummary, MediaMessage, sendMediaBatch, summarize } from "@effect-kaleyra/core"
 * import { Stream } from "effect"
 *
 * const recipients = ["+919876543210", "+14155550123"]
 * const summary = sendMediaBatch(
 *   recipients.map((to) => MediaMessage.image({ to, link: "https://example.com/promo.png" })),
 *   { concurrency: 16, rateLimit: { limit: 80, interval: "1 second" } }
 * ).pipe(Stream.runFold(emptySummary, summarize))
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
    const concurrency = Math.max(1, options.concurrency ?? 16)
    const rate = options.rateLimit === undefined ? { limit: 80, interval: "1 second" as const } : options.rateLimit
    const limiter = options.rateLimiter ??
      (rate === false ? undefined : yield* pacer({ limit: rate.limit, interval: rate.interval ?? "1 second" }))
    const keyOf = options.key ?? ((_: A, index: number) => index as unknown as K)

    // The pause shared by every send of the batch, moved forward by any 429.
    let pausedUntil = 0
    const pauseFor = (delay: Duration.Duration) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        pausedUntil = Math.max(pausedUntil, now + Duration.toMillis(delay))
      })
    const waitForPause: Effect.Effect<void> = Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => pausedUntil > now ? Effect.zipRight(Effect.sleep(pausedUntil - now), waitForPause) : Effect.void
    )
    // A send waits out any pause, then its rate-limit slot; a pause that began while it waited for the slot (a 429
    // answered meanwhile) is waited out too, and a new slot taken after it, so that nothing is sent during a pause
    // and the sends held back do not all leave together when it ends.
    const waitTurn: Effect.Effect<void> = limiter === undefined ? waitForPause : Effect.zipRight(
      waitForPause,
      limiter(Clock.currentTimeMillis).pipe(
        Effect.flatMap((now) => pausedUntil > now ? Effect.suspend(() => waitTurn) : Effect.void)
      )
    )

    // Set once `options.stop` completes: no send starts after it.
    // If `stop` dies, the batch stops too, and the defect comes after every result.
    let stopped = false
    let stopDefect: Cause.Cause<never> | undefined
    if (options.stop !== undefined) {
      yield* Effect.forkScoped(Effect.onExit(options.stop, (exit) =>
        Effect.sync(() => {
          if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) return
          stopped = true
          if (Exit.isFailure(exit)) stopDefect = exit.cause
        })))
    }

    const sendOne = (input: A, index: number): Effect.Effect<BatchResult<A, K>> => {
      const key = keyOf(input, index)
      const toResult = Effect.match({
        onFailure: (error: SendMediaError): BatchResult<A, K> => ({ _tag: "Failed", index, key, input, error }),
        onSuccess: (result: SendMediaResult): BatchResult<A, K> => ({ _tag: "Sent", index, key, input, result })
      })
      const validated = MediaMessage.validate(input)
      if (Either.isLeft(validated)) {
        // Refused by the client like every invalid input (the same error, and its SendFailed event), before waiting
        // for a rate-limit slot: nothing is sent.
        return toResult(client.sendMedia(input, { beforeAttempt: waitTurn }))
      }
      const notAttempted: BatchResult<A, K> = { _tag: "NotAttempted", index, key, input }
      let first = true
      const hooks = {
        // the first attempt waited its turn below (and checked the stop flag after it); retries wait here
        beforeAttempt: Effect.suspend(() => {
          if (first) {
            first = false
            return Effect.void
          }
          return waitTurn
        }),
        onRetry: (error: SendMediaError, _attempt: number, delay: Duration.Duration) =>
          error._tag === "RateLimited" ? pauseFor(delay) : Effect.void
      }
      const send = client.sendMessage(validated.right, hooks).pipe(
        Effect.tapError((error) =>
          error._tag === "RateLimited" && error.retryAfter !== undefined ? pauseFor(error.retryAfter) : Effect.void
        ),
        toResult
      )
      return Effect.suspend(() =>
        stopped
          ? Effect.succeed(notAttempted)
          : Effect.flatMap(waitTurn, () => stopped ? Effect.succeed(notAttempted) : send)
      )
    }

    // Groups of up to 4 x concurrency inputs (or what arrived within 10 ms), each sent by `concurrency` workers and
    // emitted in order: far cheaper per message than a concurrent `Stream.mapEffect`, and memory stays bounded by
    // one group whatever the length of the input.
    const groupSize = Math.max(concurrency * 4, 64)
    // An iterable is read one group at a time (`Stream.fromIterable` reads 4 096 inputs ahead: a generator's inputs
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
        return Stream.fromIteratorSucceed(iterable, groupSize).pipe(
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
    // it: failing at once would interrupt sends whose requests may have reached Kaleyra, and `groupedWithin` would
    // drop the inputs of the group it is filling.
    let inputFailure: Cause.Cause<E> | undefined
    const source = read.pipe(Stream.catchAllCause((cause) => {
      inputFailure = cause
      return Stream.empty
    }))
    const results: Stream.Stream<BatchResult<A, K>, never, R> = options.ordered === false
      ? runUnordered(source, concurrency, groupSize, sendOne)
      : source.pipe(
        Stream.zipWithIndex,
        Stream.groupedWithin(groupSize, "10 millis"),
        Stream.mapEffect((group) => runGroup(group, concurrency, ([input, index]) => sendOne(input, index))),
        Stream.flattenIterables,
        // A send died: the results of the group's other sends, then the defect.
        Stream.catchAllCause((cause) => {
          const failure = Cause.failureOption(cause)
          if (failure._tag === "None" || !(failure.value instanceof Halted)) {
            return Stream.failCause(cause as Cause.Cause<never>)
          }
          return Stream.concat(Stream.fromIterable(failure.value.results), Stream.failCause(failure.value.cause))
        })
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

/** Marks the end of `runUnordered`'s results. */
const END: unique symbol = Symbol("effect-kaleyra/Batch/end")

/**
 * `concurrency` workers, each taking the next input as soon as it is free and emitting its result when its send
 * completes: one slow send holds back nothing but itself. The input is pulled a chunk at a time, by one worker
 * at a time, and results wait in a queue of `capacity` (a slow consumer stops the workers).
 *
 * The input cannot fail (`sendMediaBatch` holds its failure back until after the last result). A fiber per input
 * (`Stream.mapEffect` with `unordered: true` merges one stream per input) costs three times the CPU.
 */
const runUnordered = <A, R, B>(
  source: Stream.Stream<A, never, R>,
  concurrency: number,
  capacity: number,
  f: (item: A, index: number) => Effect.Effect<B>
): Stream.Stream<B, never, R> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const pull = yield* Stream.toPull(source)
    const lock = yield* Effect.makeSemaphore(1)
    const results = yield* Queue.bounded<B | typeof END>(capacity)
    let chunk: ReadonlyArray<A> = []
    let position = 0
    let index = 0
    let ended = false
    // The defects of sends, raised after the last result.
    let defects: Cause.Cause<never> | undefined
    const die = (cause: Cause.Cause<never>) => {
      defects = defects === undefined ? cause : Cause.sequential(defects, cause)
    }
    // Pulls chunks (an empty one is skipped) until one has inputs or the input has ended.
    const refill: Effect.Effect<void, never, R> = Effect.suspend(() =>
      position < chunk.length || ended ? Effect.void : pull.pipe(
        Effect.matchCauseEffect({
          // the end of the input (it cannot fail)
          onFailure: () => {
            ended = true
            chunk = []
            position = 0
            return Effect.void
          },
          onSuccess: (pulled) => {
            chunk = Chunk.toReadonlyArray(pulled)
            position = 0
            return refill
          }
        })
      )
    )
    // A send that dies (a defect: a `key` function that throws, ...) stops the batch: no other input is taken, the
    // sends in flight finish and report, and the defect comes after their results. A pull in progress is then
    // interrupted (it runs in a fiber of its own for that): a live input (a queue) may bring nothing for a long time.
    let halted = false
    let pulling: Fiber.RuntimeFiber<void> | undefined
    const locked = lock.withPermits(1)(Effect.suspend(() =>
      halted ? Effect.void : Effect.flatMap(Effect.fork(refill), (fiber) => {
        pulling = fiber
        return Effect.ensuring(
          // a halt may have come while the pull was being forked (a fiber yields when its op budget runs out)
          halted ? Fiber.interrupt(fiber) : Fiber.await(fiber),
          Effect.sync(() => {
            pulling = undefined
          })
        )
      })
    ))
    const run = (item: A, i: number): Effect.Effect<void> =>
      Effect.suspend(() =>
        f(item, i)
      ).pipe(
        Effect.flatMap((result) => Queue.offer(results, result)),
        Effect.catchAllDefect((defect) =>
          Effect.suspend(() => {
            halted = true
            die(Cause.die(defect))
            return pulling === undefined ? Effect.void : Fiber.interruptFork(pulling)
          })
        )
      )
    const worker: Effect.Effect<void, never, R> = Effect.suspend(() =>
      halted
        ? Effect.void
        : position < chunk.length
        ? Effect.zipRight(run(chunk[position++], index++), worker)
        : ended
        ? Effect.void
        : Effect.zipRight(locked, worker)
    )
    yield* Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
      .pipe(
        Effect.catchAllCause((cause) => Effect.sync(() => die(cause))),
        Effect.zipRight(Queue.offer(results, END)),
        Effect.forkScoped
      )
    let done = false
    const take: Effect.Effect<Chunk.Chunk<B>, Option.Option<never>> = Effect.suspend(() =>
      done ? Effect.fail(Option.none()) : Effect.flatMap(Queue.takeBetween(results, 1, capacity), (taken) => {
        // END is offered after every result, so it can only be the last one taken
        if (Chunk.unsafeLast(taken) !== END) return Effect.succeed(taken as Chunk.Chunk<B>)
        done = true
        // no empty chunk: a consumer may write each chunk out as it comes
        return taken.length === 1
          ? Effect.fail(Option.none())
          : Effect.succeed(Chunk.dropRight(taken, 1) as Chunk.Chunk<B>)
      })
    )
    return Stream.repeatEffectChunkOption(take).pipe(
      Stream.concat(Stream.suspend(() => defects === undefined ? Stream.empty : Stream.failCause(defects)))
    )
  }))

/** A group stopped by a defect: the results of the items that completed, in input order, and the defect. */
class Halted<B> {
  constructor(readonly results: ReadonlyArray<B>, readonly cause: Cause.Cause<never>) {}
}

/**
 * Runs `f` over a group with at most `concurrency` at once, the results in input order. `min(concurrency, size)`
 * workers take the next item as they finish one. Cheaper than `Effect.forEach` with `concurrency` (which keeps an
 * `Exit` and a fiber per item until the whole group ends): about half the per-message time of the batch's
 * plumbing, and half the objects that outlive a young-generation collection. `f` must not fail. If it dies, no
 * other item is started, the items in progress finish, and the group fails with `Halted` (what completed, and the
 * defect): a send that went out is never left without its result. An interruption interrupts every worker.
 */
const runGroup = <A, B>(
  group: Chunk.Chunk<A>,
  concurrency: number,
  f: (item: A) => Effect.Effect<B>
): Effect.Effect<Array<B>, Halted<B>> =>
  Effect.suspend(() => {
    const items = Chunk.toReadonlyArray(group)
    const results = new Array<B>(items.length)
    let next = 0
    let cause: Cause.Cause<never> | undefined
    const worker = Effect.whileLoop({
      while: () => next < items.length,
      body: () => {
        const i = next++
        return Effect.suspend(() => f(items[i])).pipe(
          Effect.map((result) => {
            results[i] = result
          }),
          Effect.catchAllDefect((defect) =>
            Effect.sync(() => {
              cause = cause === undefined ? Cause.die(defect) : Cause.sequential(cause, Cause.die(defect))
              next = items.length
            })
          )
        )
      },
      step: () => {}
    })
    const workers = Math.min(concurrency, items.length)
    // `filter` skips the holes the items never completed left
    const done = Effect.suspend(() =>
      cause === undefined ? Effect.succeed(results) : Effect.fail(new Halted(results.filter(() => true), cause))
    )
    return Effect.zipRight(
      workers === 1
        ? worker
        : Effect.all(Array.from({ length: workers }, () => worker), { concurrency: "unbounded", discard: true }),
      done
    )
  })

/**
 * A rate limiter (the `effect/RateLimiter` shape) that spaces operations evenly: `limit` per `interval`, each start
 * at least `interval / limit` after the previous one, so that no window of length `interval` holds more than `limit`
 * starts. Unlike `RateLimiter.make`'s token bucket, it keeps sub-millisecond spacing exact (2,000 per second stays
 * 2,000, not 1,000) and never bursts a full bucket on top of the refills. Above 100 per interval it allows a small
 * catch-up burst (1% of `limit`) so that late timers do not lower the long-run rate.
 *
 * @since 0.1.0
 * @category constructors
 */
export const pacer = (options: {
  readonly limit: number
  readonly interval: Duration.DurationInput
}): Effect.Effect<RateLimiter.RateLimiter> =>
  Effect.sync(() => {
    const limit = Math.max(1, options.limit)
    const spacing = Duration.toMillis(options.interval) / limit
    const slack = spacing * (Math.max(1, Math.ceil(limit / 100)) - 1)
    // Timers have a 1 ms grain: below 2 ms of spacing, a slot less than 1 ms ahead starts now (one timer per
    // millisecond at most, instead of one per operation).
    const early = spacing < 2 ? 1 : 0
    let nextSlot = Number.NEGATIVE_INFINITY
    const acquire = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const slot = Math.max(nextSlot, now - slack)
      nextSlot = slot + spacing
      return slot - now >= early && slot > now ? Effect.sleep(Duration.millis(slot - now)) : Effect.void
    })
    return (<A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.zipRight(acquire, effect)) as RateLimiter.RateLimiter
  })

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
 * Adds a result to a summary (use with `Stream.runFold(results, emptySummary, summarize)`).
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
 * @since 0.1.0
 * @category constructors
 */
export const emptySummary: BatchSummary = { sent: 0, failed: 0, notAttempted: 0, failures: {} }
