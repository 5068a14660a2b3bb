/**
 * The retry policy is a `Schedule` (internal/retry.ts), and the client's hand loop steps it: held equal here. For any
 * sequence of attempt failures, the loop (`retrying`) and `Effect.retry` over the same `Schedule`, with the same
 * random draws, make the same attempts after the same delays and end with the same error.
 */
import { KaleyraConfig, KaleyraServerError, LowBalance, RateLimited, TransportError } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, FastCheck, Fiber, Random, Schedule, TestClock } from "effect"
import { type AttemptError, delayOf, policy, retrying } from "../src/internal/retry.js"
import { baseOptions } from "./utils.js"

const fields = { status: 500, code: "WA500", message: "", error: {} }

const attemptError: FastCheck.Arbitrary<AttemptError> = FastCheck.oneof(
  FastCheck.constant(new KaleyraServerError(fields)),
  FastCheck.constant(new LowBalance({ ...fields, status: 402, code: "E110" })),
  FastCheck.boolean().map((sent) =>
    new TransportError({ reason: "ConnectionReset", mayHaveReachedKaleyra: sent, detail: "reset" })
  ),
  FastCheck.option(FastCheck.integer({ min: 0, max: 120 }), { nil: undefined }).map((seconds) =>
    new RateLimited({
      status: 429,
      message: "slow down",
      ...(seconds !== undefined ? { retryAfter: Duration.seconds(seconds) } : {})
    })
  )
)

/** Runs `effect` to its end on the `TestClock`, however long its sleeps. */
const settle = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    yield* TestClock.adjust("1 day")
    return yield* Fiber.await(fiber)
  })

describe("the retry policy", () => {
  it.effect.prop(
    "the hand loop decides as Effect.retry over the policy's Schedule",
    [
      FastCheck.array(attemptError, { minLength: 1, maxLength: 6 }),
      FastCheck.integer({ min: 0, max: 5 }),
      FastCheck.integer({ min: 1, max: 2_000 }),
      FastCheck.integer({ min: 1, max: 90 }),
      FastCheck.integer()
    ],
    ([errors, maxRetries, baseMillis, maxRetryAfterSeconds, seed]) =>
      Effect.gen(function*() {
        const config = yield* KaleyraConfig.resolve({
          ...baseOptions,
          maxRetries,
          retryBaseDelay: Duration.millis(baseMillis),
          maxRetryAfter: Duration.seconds(maxRetryAfterSeconds)
        })
        const schedule = policy(config)
        // Each attempt fails with the next error (the last one repeating).
        const scripted = () => {
          let attempts = 0
          const once = Effect.suspend(() => Effect.fail(errors[Math.min(attempts++, errors.length - 1)]))
          return { once, attempts: () => attempts }
        }

        const loop = scripted()
        const loopDelays: Array<number> = []
        const byLoop = yield* settle(
          retrying(
            schedule,
            loop.once,
            { toError: (e) => e, defect: () => assert.fail("no defect"), classify: () => undefined },
            { onRetry: (_, __, delay) => Effect.sync(() => loopDelays.push(Duration.toMillis(delay))) },
            { onSuccess: () => Effect.succeed(0), onFailure: (_, error) => Effect.fail(error) },
            undefined
          ).pipe(Effect.withRandom(Random.make(seed)))
        )

        const reference = scripted()
        const referenceDelays: Array<number> = []
        const byRetry = yield* settle(
          Effect.retry(
            reference.once,
            Schedule.tapOutput(schedule, (delay) => Effect.sync(() => referenceDelays.push(Duration.toMillis(delay))))
          ).pipe(Effect.withRandom(Random.make(seed)))
        )

        assert.strictEqual(loop.attempts(), reference.attempts())
        // `Effect.retry` steps the schedule once more on the last failure, which ends it: that step outputs no delay.
        assert.deepStrictEqual(loopDelays, referenceDelays.slice(0, loopDelays.length))
        assert.strictEqual(referenceDelays.length - loopDelays.length <= 1, true)
        assert.isTrue(Exit.isFailure(byLoop) && Exit.isFailure(byRetry))
        assert.deepStrictEqual(Exit.causeOption(byLoop), Exit.causeOption(byRetry))
      }),
    { fastCheck: { numRuns: 200 } }
  )

  it.effect("its delays: Retry-After up to maxRetryAfter, else exponential backoff with ±50% jitter, capped", () =>
    Effect.gen(function*() {
      const config = yield* KaleyraConfig.resolve({ ...baseOptions, retryBaseDelay: "500 millis" })
      const server = new KaleyraServerError(fields)
      assert.strictEqual(Duration.toMillis(delayOf(config, server, 1, 0.5)!), 500)
      assert.strictEqual(Duration.toMillis(delayOf(config, server, 3, 0)!), 1_000)
      assert.strictEqual(Duration.toMillis(delayOf(config, server, 20, 0.999)!), Math.round(30_000 * 1.499))
      const later = (seconds: number) =>
        new RateLimited({ status: 429, message: "", retryAfter: Duration.seconds(seconds) })
      assert.strictEqual(Duration.toMillis(delayOf(config, later(60), 1, 0.9)!), 60_000)
      assert.isUndefined(delayOf(config, later(61), 1, 0.9))
    }))
})
