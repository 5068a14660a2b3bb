/**
 * A pacer: a rate limiter that spaces starts evenly (`Pacer.make({ limit, interval })`), for the `rateLimiter` option
 * of `sendMediaBatch` when several batches share one sender number's limit.
 *
 * @since 0.2.0
 */
import type * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as RateLimiter from "effect/RateLimiter"
import { spacedBy, spacingOf } from "./internal/pacer.js"

/**
 * A rate limiter (the `effect/RateLimiter` shape) that spaces operations evenly: `limit` per `interval`, each start
 * at least `interval / limit` after the previous one, so that no window of length `interval` holds more than `limit`
 * starts. Unlike `RateLimiter.make`'s token bucket, it keeps sub-millisecond spacing exact (2,000 per second stays
 * 2,000, not 1,000) and never bursts a full bucket on top of the refills. Above 100 per interval it allows a small
 * catch-up burst (1% of `limit`) so that late timers do not lower the long-run rate. A `limit` below 1 is kept (0.5 per
 * second: one start every 2 seconds). A `limit` that is not a positive finite number, or an `interval` that is not a
 * positive finite duration, is refused: the effect dies with a `Cause.IllegalArgumentException` naming it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly limit: number
  readonly interval: Duration.DurationInput
}): Effect.Effect<RateLimiter.RateLimiter> =>
  Effect.suspend(() => {
    const spacing = spacingOf(options.limit, options.interval, "Pacer.make: ")
    return Either.isLeft(spacing) ? Effect.die(spacing.left) : Effect.sync(() => spacedBy(options.limit, spacing.right))
  })

/**
 * The spacing in milliseconds between starts of `limit` per `interval` (`interval / limit`), as `make` computes it, or
 * the `Cause.IllegalArgumentException` that `make` dies with (its message starts with `prefix`): for a rate limiter of
 * your own (a shared one in a database, say) that must refuse the same rates.
 *
 * @since 0.2.0
 * @category utils
 */
export const spacing = (
  options: { readonly limit: number; readonly interval: Duration.DurationInput },
  prefix = ""
): Either.Either<number, Cause.IllegalArgumentException> => spacingOf(options.limit, options.interval, prefix)
