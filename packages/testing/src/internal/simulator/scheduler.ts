/**
 * When and how the simulator delivers status callbacks: one daemon fiber per accepted message (the handler's fiber
 * may end first), sleeping on the `Clock` between statuses, tracked so that `reset` and the scope can cancel them.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"
import { defaultCallbackDelays, defaultSecretHeader, deliverWithFetch, statusCallback } from "./callbacks.js"
import type { RecipientFailure } from "./conversations.js"

type CallbackDelays = KaleyraSimulator.CallbackDelays
type CallbackOptions = KaleyraSimulator.CallbackOptions
type MediaFailure = KaleyraSimulator.MediaFailure
type SentMessage = KaleyraSimulator.SentMessage

/** What Meta does with one recipient's message, beside a media it cannot fetch (`SimulatorTemplates`). */
export type FailureOf = (recipient: string) => RecipientFailure | undefined

export interface CallbackScheduler {
  /** Schedules the callbacks of an accepted message (`view` is read when the first callback is due). */
  readonly schedule: (
    view: () => SentMessage,
    failure: MediaFailure | undefined,
    failureOf: FailureOf
  ) => Effect.Effect<void>
  readonly delivered: () => number
  readonly failures: () => number
  readonly await: Effect.Effect<void>
  /** Cancels the pending callbacks and zeroes the counters. */
  readonly clear: Effect.Effect<void>
  /** Like `clear`, and schedules nothing more. */
  readonly close: Effect.Effect<void>
}

const resolveDelays = (delays: CallbackDelays | undefined) => {
  const sent = Duration.decode(delays?.sent ?? defaultCallbackDelays.sent)
  const delivered = Duration.max(sent, Duration.decode(delays?.delivered ?? defaultCallbackDelays.delivered))
  const read = Duration.max(delivered, Duration.decode(delays?.read ?? defaultCallbackDelays.read))
  return { sent, delivered, read }
}

export const makeCallbackScheduler = (options: CallbackOptions): CallbackScheduler => {
  const delays = resolveDelays(options.delays)
  const deliver = options.deliver ?? deliverWithFetch({ timeout: options.timeout })
  const headers: Readonly<Record<string, string>> = Object.freeze(
    options.secret === undefined ? { "content-type": "application/json" } : {
      "content-type": "application/json",
      [(options.secretHeader ?? defaultSecretHeader).toLowerCase()]: Redacted.isRedacted(options.secret)
        ? Redacted.value(options.secret)
        : options.secret
    }
  )
  const fibers = new Set<Fiber.RuntimeFiber<void>>()
  let delivered = 0
  let failures = 0
  let closed = false

  const deliverOne = (body: Record<string, unknown>): Effect.Effect<void> =>
    Effect.map(Effect.exit(Effect.suspend(() => deliver(options.url, body, headers))), (exit) => {
      if (Exit.isSuccess(exit)) delivered++
      else failures++
    })

  const emit = (
    sent: SentMessage,
    recipients: ReadonlyArray<string>,
    status: "sent" | "delivered" | "read" | "failed",
    failureOf: (recipient: string) => MediaFailure | undefined = () => undefined
  ) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.forEach(
        recipients,
        (recipient) => {
          const failure = failureOf(recipient)
          return deliverOne(statusCallback(sent, status, {
            recipient,
            timestamp: Math.floor(now / 1000),
            ...(failure !== undefined ? { errors: [failure] } : {})
          }))
        },
        { discard: true }
      ))

  // Per recipient: a message Meta never sends (outside the window, a template error) fails instead of `sent`; a
  // media Meta cannot fetch fails after `sent`; the others are delivered, then read.
  const lifecycle = (
    view: () => SentMessage,
    failure: MediaFailure | undefined,
    failureOf: FailureOf
  ): Effect.Effect<void> =>
    Effect.gen(function*() {
      yield* Effect.sleep(delays.sent)
      const sent = view()
      const early = new Map<string, MediaFailure>()
      for (const recipient of sent.recipients) {
        const found = failureOf(recipient)
        if (found !== undefined) early.set(recipient, found.failure)
      }
      const going = sent.recipients.filter((recipient) => !early.has(recipient))
      yield* emit(sent, Array.from(early.keys()), "failed", (recipient) => early.get(recipient))
      yield* emit(sent, going, "sent")
      yield* Effect.sleep(Duration.subtract(delays.delivered, delays.sent))
      if (failure !== undefined) return yield* emit(sent, going, "failed", () => failure)
      yield* emit(sent, going, "delivered")
      yield* Effect.sleep(Duration.subtract(delays.read, delays.delivered))
      yield* emit(sent, going, "read")
    })

  const cancelAll = Effect.suspend(() => Fiber.interruptAll(Array.from(fibers)))

  return {
    schedule: (view, failure, failureOf) =>
      Effect.suspend(() => {
        if (closed) return Effect.void
        return Effect.map(Effect.forkDaemon(lifecycle(view, failure, failureOf)), (fiber) => {
          fibers.add(fiber)
          fiber.addObserver(() => fibers.delete(fiber))
        })
      }),
    delivered: () => delivered,
    failures: () => failures,
    await: Effect.suspend(() => Fiber.awaitAll(Array.from(fibers))).pipe(Effect.asVoid),
    clear: Effect.zipRight(
      cancelAll,
      Effect.sync(() => {
        delivered = 0
        failures = 0
      })
    ),
    close: Effect.zipRight(
      Effect.sync(() => {
        closed = true
      }),
      cancelAll
    )
  }
}
