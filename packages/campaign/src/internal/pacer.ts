/**
 * The rate limit of a sender number, kept in the ledger (a pacer row per sender number: the time of its next free
 * send slot) so that it holds across every worker, process and restart.
 *
 * The slots of a chunk's first attempts are reserved in the transaction that commits the chunk's intents (no extra
 * commit); a retry reserves its own. A slot found more than `tolerance` in the past when its turn comes (the worker
 * was busy, the event loop late) is dropped and the next one taken: sends are never early and at most `tolerance`
 * late. Slots are spaced `(1 + MARGIN) * interval / limit` apart, so any `limit + 1` consecutive slots span
 * `(1 + MARGIN) * interval`: with sends at most `MARGIN * interval` late, no window of `interval` holds more than
 * `limit` sends (the tolerance is 80% of that bound).
 */
import * as CorePacer from "@effect-kaleyra/core/Pacer"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as RateLimiter from "effect/RateLimiter"
import type { LedgerError } from "../CampaignError.js"
import type * as Ledger from "../Ledger.js"
import { toLedgerError } from "./errors.js"
import * as Store from "./store.js"

/** How much slower than the limit the slots are spaced (3%: a send may then be 24 ms late in a 1-second window). */
const MARGIN = 0.03

export interface Pacer {
  /** What `Store.commitIntents` reserves slots with. */
  readonly reservation: { readonly sender: string; readonly spacing: number }
  /** Slots reserved with a chunk's intents: `count` slots from the local time `first`. */
  readonly add: (first: number, count: number) => Effect.Effect<void>
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
    // The rates core's pacer refuses are refused here too, with the same message (a NaN limit would pace nothing).
    const checked = CorePacer.spacing(rate, "Campaign.run: rateLimit.")
    if (Either.isLeft(checked)) return yield* Effect.die(checked.left)
    yield* Effect.mapError(Store.ensurePacer(ledger, sender), toLedgerError("create the sender's pacer"))
    const interval = Duration.toMillis(rate.interval)
    const spacing = checked.right * (1 + MARGIN)
    const tolerance = interval * MARGIN * 0.8
    const minimumBlock = Math.max(1, Math.ceil(rate.limit / 20))
    // The slots reserved and not used yet, in local time, earliest first.
    let slots: Array<number> = []

    // Sends waiting for a slot: when none is held here (a retry, a slot missed, or after a 429 dropped them), one
    // reservation for all of them, made by one of them while the others wait for it.
    let waiting = 0
    const lock = Effect.unsafeMakeSemaphore(1)
    const addFrom = (first: number, count: number) =>
      Effect.sync(() => {
        for (let i = 0; i < count; i++) slots.push(first + i * spacing)
        slots.sort((a, b) => a - b)
      })
    const addSlots = (wait: number, count: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => addFrom(now + Math.max(0, wait), count))
    const take: Effect.Effect<number> = lock.withPermits(1)(Effect.suspend(function next(): Effect.Effect<number> {
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        let stale = 0
        while (stale < slots.length && slots[stale] < now - tolerance) stale++
        if (stale > 0) slots = slots.slice(stale)
        const slot = slots.shift()
        if (slot !== undefined) return Effect.succeed(slot)
        // at least a twentieth of the limit: a late wake-up (an event loop held by a commit) then costs no commit
        const count = Math.max(minimumBlock, waiting)
        return Effect.zipRight(
          Effect.flatMap(
            Effect.orDieWith(Store.reserveSlots(ledger, sender, count, spacing), toLedgerError("reserve send slots")),
            (wait) => addSlots(wait, count)
          ),
          Effect.suspend(next)
        )
      })
    }))
    const acquire: Effect.Effect<void> = Effect.flatMap(
      Effect.acquireUseRelease(
        Effect.sync(() => {
          waiting++
        }),
        () => take,
        () =>
          Effect.sync(() => {
            waiting--
          })
      ),
      (slot) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          if (slot > now) {
            return Effect.zipRight(
              Effect.sleep(Duration.millis(slot - now)),
              // woken too late: this slot is stale, take another
              Effect.flatMap(Clock.currentTimeMillis, (woke) => woke > slot + tolerance ? acquire : Effect.void)
            )
          }
          return now > slot + tolerance ? acquire : Effect.void
        })
    )

    return {
      reservation: { sender, spacing },
      add: addFrom,
      limiter: (<A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.zipRight(acquire, effect)) as RateLimiter.RateLimiter,
      pushBack: (delay) =>
        Effect.zipRight(
          Effect.sync(() => {
            // the slots held here are before the pause: drop them (the rows take new ones after it)
            slots = []
          }),
          Effect.ignore(Store.pushBack(ledger, sender, Duration.toMillis(delay)))
        )
    }
  })
