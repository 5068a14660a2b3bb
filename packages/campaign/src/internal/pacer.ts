/**
 * The rate limit of a sender number, kept in the ledger (a pacer row per sender number) so that it holds across
 * every worker, process and restart: a worker reserves a block of slots at a time (one write per tenth of the
 * interval), and sends at its slots.
 *
 * A slot found more than `tolerance` in the past when its turn comes (the worker was busy, the event loop late) is
 * dropped and the next one taken: sends are then never early and at most `tolerance` late, and with slots paced 2%
 * under the limit, no window of `interval` ever holds more than `limit` sends.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as RateLimiter from "effect/RateLimiter"
import type { LedgerError } from "../CampaignError.js"
import type * as Ledger from "../Ledger.js"
import { toLedgerError } from "./errors.js"
import * as Store from "./store.js"

/** How much slower than the limit the slots are spaced. */
const MARGIN = 0.02

export interface Pacer {
  /** For `sendMediaBatch`'s `rateLimiter`: every attempt waits for a slot. A database failure is a defect. */
  readonly limiter: RateLimiter.RateLimiter
  /** A 429: every worker of the sender number waits `delay` from now. */
  readonly pushBack: (delay: Duration.Duration) => Effect.Effect<void>
}

export const make = (
  ledger: Ledger.Ledger["Type"],
  sender: string,
  rate: { readonly limit: number; readonly interval: Duration.DurationInput }
): Effect.Effect<Pacer, LedgerError> =>
  Effect.gen(function*() {
    yield* Effect.mapError(Store.ensurePacer(ledger, sender), toLedgerError("create the sender's pacer"))
    const interval = Duration.toMillis(rate.interval)
    const limit = Math.max(1, rate.limit)
    const spacing = interval / limit * (1 + MARGIN)
    const tolerance = interval * MARGIN / 2
    const block = Math.max(1, Math.ceil(limit / 10))
    // The slots reserved and not used yet, as local times: `next` and `left` of them.
    let next = 0
    let left = 0
    const lock = yield* Effect.makeSemaphore(1)

    const reserve = Effect.flatMap(
      Effect.orDieWith(Store.reserveSlots(ledger, sender, block, spacing), toLedgerError("reserve send slots")),
      (wait) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          next = now + Math.max(0, wait)
          left = block
        })
    )
    // Takes the next slot that is not stale (reserving a block when none is left), under the lock; returns it.
    const take: Effect.Effect<number> = lock.withPermits(1)(Effect.suspend(function loop(): Effect.Effect<number> {
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        while (left > 0 && next < now - tolerance) {
          next += spacing
          left--
        }
        if (left === 0) return Effect.zipRight(reserve, Effect.suspend(loop))
        const slot = next
        next += spacing
        left--
        return Effect.succeed(slot)
      })
    }))
    const acquire: Effect.Effect<void> = Effect.flatMap(take, (slot) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        slot > now
          ? Effect.zipRight(
            Effect.sleep(Duration.millis(slot - now)),
            // woken too late: this slot is stale, take another
            Effect.flatMap(Clock.currentTimeMillis, (woke) =>
              woke > slot + tolerance ? acquire : Effect.void)
          )
          : now > slot + tolerance
          ? acquire
          : Effect.void))

    return {
      limiter: (<A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.zipRight(acquire, effect)) as RateLimiter.RateLimiter,
      pushBack: (delay) =>
        Effect.zipRight(
          lock.withPermits(1)(Effect.sync(() => {
            left = 0
          })),
          Effect.ignore(Store.pushBack(ledger, sender, Duration.toMillis(delay)))
        )
    }
  })
