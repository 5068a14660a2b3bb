import { sendMedia } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Fiber, TestClock } from "effect"
import { accepted, clientLayer, imageByLink, type Reply, seedFailures } from "./utils.js"

const wa500 = { status: 500, body: JSON.stringify(seedFailures.WA500.body) }
const systemError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code, ...extra })
const transportFailure = (cause: unknown): Reply => ({
  fail: new (class extends Error {
    readonly _tag = "RequestError"
    readonly reason = "Transport"
    override readonly cause = cause
  })()
})

/** Advances the TestClock, then lets woken fibers run. */
const advance = (duration: Duration.DurationInput) =>
  Effect.zipRight(TestClock.adjust(duration), Effect.repeatN(Effect.yieldNow(), 50))

/** Runs a send in a fiber and advances the TestClock until it is done. */
const runWithClock = <A, E>(effect: Effect.Effect<A, E>, step: Duration.DurationInput = "1 second", max = 600) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.exit(effect))
    for (let i = 0; i < max; i++) {
      yield* Effect.yieldNow()
      const done = yield* Fiber.poll(fiber)
      if (done._tag === "Some") break
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

describe("retries never send twice by accident", () => {
  it.effect("WA500 then success is retried", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([wa500, accepted("m-2")])
      const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      assert.strictEqual(exit._tag, "Success")
      if (exit._tag === "Success") {
        assert.strictEqual(exit.value.messageId, "m-2")
        assert.strictEqual(exit.value.attempts, 2)
      }
      assert.strictEqual(seen.length, 2)
      assert.strictEqual(seen[0].body, seen[1].body, "the retry sends the same body")
    }))

  it.effect("WA500 is retried maxRetries times, then returned", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([wa500], { maxRetries: 3 })
      const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      assert.strictEqual(
        exit._tag === "Failure" && exit.cause._tag === "Fail" && exit.cause.error._tag,
        "KaleyraServerError"
      )
      assert.strictEqual(seen.length, 4)
    }))

  it.effect("maxRetries: 0 turns retries off", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([wa500], { maxRetries: 0 })
      yield* Effect.flip(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      assert.strictEqual(seen.length, 1)
    }))

  for (const [name, failure] of Object.entries(seedFailures).filter(([name]) => name !== "WA500")) {
    it.effect(`4xx ${name} is never retried`, () =>
      Effect.gen(function*() {
        const { layer, seen } = clientLayer([
          { status: failure.status, body: JSON.stringify(failure.body) },
          accepted()
        ])
        const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)))
        assert.strictEqual(exit._tag, "Failure")
        assert.strictEqual(seen.length, 1)
      }))
  }

  it.effect("a timeout after the request was sent is returned, not repeated", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([{ hang: true }, accepted()], { timeout: "5 seconds" })
      const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      assert.strictEqual(exit._tag, "Failure")
      if (exit._tag === "Failure" && exit.cause._tag === "Fail") {
        const error = exit.cause.error
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag === "TransportError") {
          assert.strictEqual(error.reason, "Timeout")
          assert.isTrue(error.mayHaveReachedKaleyra)
        }
      }
      assert.strictEqual(seen.length, 1)
    }))

  it.effect("a reset after the request was written is returned, not repeated", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([transportFailure(systemError("ECONNRESET")), accepted()])
      const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      assert.strictEqual(
        exit._tag === "Failure" && exit.cause._tag === "Fail" && exit.cause.error._tag,
        "TransportError"
      )
      assert.strictEqual(seen.length, 1)
    }))

  it.effect("a connection that never opened is retried", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([transportFailure(systemError("ECONNREFUSED")), accepted("m-3")])
      const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      assert.strictEqual(exit._tag === "Success" && exit.value.messageId, "m-3")
      assert.strictEqual(seen.length, 2)
    }))

  it.effect("a transport that says the request was not sent (requestSent: false) is retried", () =>
    Effect.gen(function*() {
      const cause = systemError("ECONNRESET", { requestSent: false })
      const { layer, seen } = clientLayer([transportFailure(cause), accepted("m-4")])
      const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      assert.strictEqual(exit._tag === "Success" && exit.value.messageId, "m-4")
      assert.strictEqual(seen.length, 2)
    }))

  it.effect("the transport's account (requestSent) wins over any code: written, then UND_ERR_DESTROYED, is not retried", () =>
    Effect.gen(function*() {
      for (const code of ["UND_ERR_DESTROYED", "UND_ERR_CLOSED", "ECONNREFUSED", "ENOTFOUND"]) {
        const cause = systemError(code, { requestSent: true })
        const { layer, seen } = clientLayer([transportFailure(cause), accepted()])
        const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)))
        const error = exit._tag === "Failure" && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual(error?._tag === "TransportError" && error.mayHaveReachedKaleyra, true, code)
        assert.strictEqual(seen.length, 1, code)
      }
    }))

  it.effect("without requestSent, only codes that prove nothing was written are retried", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, unknown>, boolean]> = [
        // a dispatcher can be destroyed or closed under a request it had written
        [{ code: "UND_ERR_DESTROYED" }, false],
        [{ code: "UND_ERR_CLOSED" }, false],
        // an established connection reports an unreachable host too; only `connect` proves nothing was written
        [{ code: "EHOSTUNREACH", syscall: "read" }, false],
        [{ code: "EHOSTUNREACH", syscall: "connect" }, true],
        [{ code: "ENETUNREACH", syscall: "connect" }, true],
        [{ code: "ETIMEDOUT", syscall: "connect" }, true],
        [{ code: "ENOTFOUND", syscall: "getaddrinfo" }, true]
      ]
      for (const [facts, retried] of cases) {
        const cause = Object.assign(new Error(`failed ${facts.code}`), facts)
        const { layer, seen } = clientLayer([transportFailure(cause), accepted()])
        const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)))
        assert.strictEqual(exit._tag, retried ? "Success" : "Failure", JSON.stringify(facts))
        assert.strictEqual(seen.length, retried ? 2 : 1, JSON.stringify(facts))
      }
    }))

  it.effect("an HTML 503 is retried, a 502 or 504 is not", () =>
    Effect.gen(function*() {
      const page = (status: number): Reply => ({
        status,
        body: "<html>busy</html>",
        headers: { "content-type": "text/html" }
      })
      const a = clientLayer([page(503), accepted("m-5")])
      const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(a.layer)))
      assert.strictEqual(exit._tag === "Success" && exit.value.messageId, "m-5")
      for (const status of [502, 504]) {
        const b = clientLayer([page(status), accepted()])
        yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(b.layer)))
        assert.strictEqual(b.seen.length, 1)
      }
    }))

  it.effect("Retry-After is honoured to the second", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([{ status: 429, body: "", headers: { "retry-after": "7" } }, accepted("m-6")])
      const fiber = yield* Effect.fork(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      yield* advance("6999 millis")
      assert.strictEqual(seen.length, 1, "no retry before Retry-After")
      yield* advance("1 millis")
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.messageId, "m-6")
      assert.strictEqual(seen.length, 2)
    }))

  it.effect("Retry-After as an HTTP date is honoured", () =>
    Effect.gen(function*() {
      const at = new Date(10_000).toUTCString()
      const { layer, seen } = clientLayer([{ status: 429, body: "", headers: { "retry-after": at } }, accepted("m-7")])
      const fiber = yield* Effect.fork(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      yield* advance("9 seconds")
      assert.strictEqual(seen.length, 1)
      yield* advance("1 second")
      assert.strictEqual((yield* Fiber.join(fiber)).messageId, "m-7")
    }))

  it.effect("Retry-After in RFC 9110's obsolete date forms (rfc850, asctime) is honoured", () =>
    Effect.gen(function*() {
      // The TestClock starts at 1970-01-01T00:00:00Z; each date is 10 s after the previous one.
      for (const at of ["Thursday, 01-Jan-70 00:00:10 GMT", "Thu Jan  1 00:00:20 1970"]) {
        const { layer, seen } = clientLayer([{ status: 429, body: "", headers: { "retry-after": at } }, accepted()])
        const fiber = yield* Effect.fork(sendMedia(imageByLink).pipe(Effect.provide(layer)))
        yield* advance("9999 millis")
        assert.strictEqual(seen.length, 1, at)
        yield* advance("1 millis")
        yield* Fiber.join(fiber)
        assert.strictEqual(seen.length, 2, at)
      }
    }))

  it.effect("a Retry-After that is neither digits nor an HTTP-date is ignored: the normal backoff applies", () =>
    Effect.gen(function*() {
      // Each of these was read by `Date.parse` as a date in 2001.
      const values = [
        "-1",
        "1.5",
        "+5",
        "1 2",
        "2, 3",
        "5s",
        "Thu, 01 Jan 1970 00:00:10 GMT, Thu, 01 Jan 1970 00:00:10 GMT",
        "Thu, 01 Jan 1970 00:00:10 UTC",
        "Sat, 31 Feb 1970 00:00:10 GMT",
        "1970-01-01T00:00:10Z"
      ]
      for (const value of values) {
        const once = clientLayer([{ status: 429, body: "", headers: { "retry-after": value } }], { maxRetries: 0 })
        const error = yield* Effect.flip(sendMedia(imageByLink).pipe(Effect.provide(once.layer)))
        assert.strictEqual(error._tag, "RateLimited", value)
        assert.isUndefined(error._tag === "RateLimited" ? error.retryAfter : "not rate limited", value)
        // With retries: retried after the backoff (1 s +-50 %), neither at once nor never.
        const { layer, seen } = clientLayer(
          [{ status: 429, body: "", headers: { "retry-after": value } }, accepted()],
          {
            retryBaseDelay: "1 second"
          }
        )
        const fiber = yield* Effect.fork(sendMedia(imageByLink).pipe(Effect.provide(layer)))
        yield* advance("499 millis")
        assert.strictEqual(seen.length, 1, value)
        yield* advance("1001 millis")
        assert.strictEqual((yield* Fiber.join(fiber)).attempts, 2, value)
      }
    }))

  it.effect("a Retry-After longer than maxRetryAfter is returned to the caller at once", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([{ status: 429, body: "", headers: { "retry-after": "3600" } }, accepted()])
      const error = yield* Effect.flip(sendMedia(imageByLink).pipe(Effect.provide(layer)))
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(seen.length, 1)
    }))

  it.effect("backoff grows exponentially, with jitter", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([wa500, wa500, accepted("m-8")], { retryBaseDelay: "1 second" })
      const exit = yield* runWithClock(sendMedia(imageByLink).pipe(Effect.provide(layer)), "10 millis")
      assert.strictEqual(exit._tag === "Success" && exit.value.attempts, 3)
      const first = seen[1].at - seen[0].at
      const second = seen[2].at - seen[1].at
      assert.isTrue(first >= 500 && first <= 1510, `first delay ${first}`) // 1 s +-50 %
      assert.isTrue(second >= 1000 && second <= 3010, `second delay ${second}`) // 2 s +-50 %
    }))
})
