/**
 * The pacer's mechanism: the checked spacing of `limit` per `interval`, and the limiter that spaces starts by it (with
 * a `wake` signal, which `sendMediaBatch` uses to end a long wait when the batch stops). Public as `Pacer.make`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as RateLimiter from "effect/RateLimiter"

/** A value as a message shows it: strings quoted. */
export const show = (value: unknown): string => typeof value === "string" ? JSON.stringify(value) : String(value)

/**
 * A duration in milliseconds, or NaN when it is none or negative: `Duration.decode` takes a negative or NaN number,
 * or a negative string, for zero.
 */
export const millisOf = (input: unknown): number => {
  if (typeof input === "number") return input >= 0 ? input : Number.NaN
  if (typeof input === "string" && input.trimStart().startsWith("-")) return Number.NaN
  const decoded = Duration.decodeUnknown(input)
  return Option.isSome(decoded) ? Duration.toMillis(decoded.value) : Number.NaN
}

/**
 * The spacing (ms) of `limit` per `interval`, or why they are refused: a limit that is not a positive finite number,
 * or an interval that is not a positive finite duration, would otherwise mean no limit at all (NaN and zero spacings
 * let everything through) or a defect deep inside the pacer. `prefix` names the options in the message.
 */
export const spacingOf = (
  limit: unknown,
  interval: unknown,
  prefix: string
): Either.Either<number, Cause.IllegalArgumentException> => {
  if (typeof limit !== "number" || !Number.isFinite(limit) || limit <= 0) {
    return Either.left(
      new Cause.IllegalArgumentException(
        `${prefix}limit must be a positive, finite number of sends per interval, not ${show(limit)}`
      )
    )
  }
  const millis = millisOf(interval)
  if (!Number.isFinite(millis) || millis <= 0) {
    return Either.left(
      new Cause.IllegalArgumentException(
        `${prefix}interval must be a positive, finite duration (e.g. "1 second"), not ${show(interval)}`
      )
    )
  }
  // A tiny limit or a huge interval overflows: an infinite spacing would let every send through (NaN slots).
  const spacing = millis / limit
  if (!Number.isFinite(spacing)) {
    return Either.left(
      new Cause.IllegalArgumentException(
        `${prefix}limit per interval must leave a finite time between sends, not ${show(limit)} per ${show(interval)}`
      )
    )
  }
  return Either.right(spacing)
}

/** Below this many milliseconds, a wait for a slot is not worth a race with `wake` (two fibers). */
const WAKEABLE_MILLIS = 250

/**
 * The pacer of `limit` starts every `spacing` ms (both checked by `spacingOf`). When `wake` completes, a long wait for
 * a slot (a slow rate) ends at once; the caller then checks why.
 */
export const spacedBy = (limit: number, spacing: number, wake?: Effect.Effect<void>): RateLimiter.RateLimiter => {
  const slack = spacing * (Math.max(1, Math.ceil(limit / 100)) - 1)
  // Timers fire on whole milliseconds: when slots are closer than two ticks, a slot less than a tick ahead starts
  // now (at most one timer per tick, instead of one per operation).
  const early = spacing < 2 ? 1 : 0
  let nextSlot = Number.NEGATIVE_INFINITY
  const acquire = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const slot = Math.max(nextSlot, now - slack)
    nextSlot = slot + spacing
    if (slot - now < early || slot <= now) return Effect.void
    const sleep = Effect.sleep(Duration.millis(slot - now))
    return wake !== undefined && slot - now >= WAKEABLE_MILLIS ? Effect.raceFirst(sleep, wake) : sleep
  })
  return (<A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.zipRight(acquire, effect)) as RateLimiter.RateLimiter
}
