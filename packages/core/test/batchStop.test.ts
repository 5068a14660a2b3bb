import { type Batch, KaleyraClient, KaleyraEvents, type MediaMessage, sendMediaBatch } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Duration, Effect, Fiber, Layer, Queue, Stream, TestClock } from "effect"
import { fail, fakeKaleyra, message, ok, range } from "./batchUtils.js"
import { baseOptions, httpLayer } from "./utils.js"

type Result = Batch.BatchResult<MediaMessage.SendMediaInput, number>

const tooManyRequests = (retryAfter?: number) => ({
  status: 429,
  body: JSON.stringify({ message: "Too Many Requests" }),
  ...(retryAfter === undefined ? {} : { headers: { "retry-after": String(retryAfter) } })
})

/** Runs a batch in a fiber, recording its results as they come. */
const start = (batch: Stream.Stream<Result, never, KaleyraClient>, layer: Layer.Layer<KaleyraClient, unknown>) =>
  Effect.gen(function*() {
    const results: Array<Result> = []
    const fiber = yield* batch.pipe(
      Stream.runForEach((result) => Effect.sync(() => results.push(result))),
      Effect.provide(layer),
      Effect.fork
    )
    return { fiber, results }
  })

/** Advances the TestClock by `step` until the fiber is done, at most `times` times: whether it is done. */
const advanceUntilDone = (fiber: Fiber.RuntimeFiber<unknown, unknown>, step: Duration.DurationInput, times: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < times && fiber.unsafePoll() === null; i++) {
      yield* Effect.yieldNow()
      yield* TestClock.adjust(step)
    }
    for (let i = 0; i < 20 && fiber.unsafePoll() === null; i++) yield* Effect.yieldNow()
    return fiber.unsafePoll() !== null
  })

describe("sendMediaBatch: 429 pauses and stops", () => {
  it.effect("a Retry-After beyond maxRetryAfter stops the batch at once: the rest NotAttempted with the 429", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to) => to === message(3).to ? tooManyRequests(86_400) : ok(to))
      const { fiber, results } = yield* start(
        sendMediaBatch(range(30).map(message), { concurrency: 2, rateLimit: { limit: 10 } }),
        layer
      )
      // before: the batch paused every send for a day
      assert.isTrue(yield* advanceUntilDone(fiber, "100 millis", 50), "the batch ended within 5 seconds")
      assert.deepStrictEqual(results.map((r) => r.index), range(30))
      const refused = results[3]
      assert.strictEqual(refused._tag === "Failed" && refused.error._tag, "RateLimited")
      const rest = results.filter((r) => r._tag === "NotAttempted")
      assert.isAbove(rest.length, 20)
      for (const r of rest) {
        assert.isAbove(r.index, 3)
        assert.strictEqual(r._tag === "NotAttempted" && r.reason?._tag, "RateLimited")
        if (r._tag === "NotAttempted" && r.reason?._tag === "RateLimited" && refused._tag === "Failed") {
          assert.strictEqual(r.reason.error, refused.error)
          assert.deepStrictEqual(r.reason.error.retryAfter, Duration.seconds(86_400))
        }
      }
      assert.strictEqual(hits.length, 30 - rest.length, "nothing that is NotAttempted was sent")
      const before = hits.length
      yield* TestClock.adjust("2 days")
      assert.strictEqual(hits.length, before)
    }))

  it.effect("a pause never exceeds maxRetryAfter (a 429 without Retry-After, retried after a long backoff)", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra(
        (to, hit) => to === message(3).to && hit === 1 ? tooManyRequests() : ok(to),
        undefined,
        { maxRetryAfter: "2 seconds", retryBaseDelay: "20 seconds" }
      )
      const { fiber, results } = yield* start(
        sendMediaBatch(range(20).map(message), { concurrency: 2, rateLimit: { limit: 10 } }),
        layer
      )
      assert.isTrue(yield* advanceUntilDone(fiber, "100 millis", 600))
      assert.isTrue(results.every((r) => r._tag === "Sent"))
      const refusedAt = hits.find((h) => h.to === message(3).to)!.at
      const resumed = hits.find((h) => h.at > refusedAt)!.at
      // before: the whole batch waited out the client's backoff (10 to 30 seconds)
      assert.isAtLeast(resumed - refusedAt, 2000)
      assert.isAtMost(resumed - refusedAt, 2100)
    }))

  it.effect("stop ends a pause at once: the send waiting to retry reports its 429, the rest are NotAttempted", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to, hit) => to === message(3).to && hit === 1 ? tooManyRequests(50) : ok(to))
      const stop = yield* Deferred.make<void>()
      const { fiber, results } = yield* start(
        sendMediaBatch(range(30).map(message), {
          concurrency: 2,
          rateLimit: { limit: 10 },
          stop: Deferred.await(stop)
        }),
        layer
      )
      yield* TestClock.adjust("1 second")
      assert.strictEqual(hits.length, 4, "paused after the 429 of input 3")
      yield* Deferred.succeed(stop, undefined)
      // before: the batch waited out the 50 seconds of the pause
      assert.isTrue(yield* advanceUntilDone(fiber, "10 millis", 10), "the batch ended at once")
      assert.deepStrictEqual(results.map((r) => r.index), range(30))
      const refused = results[3]
      assert.strictEqual(refused._tag === "Failed" && refused.error._tag, "RateLimited")
      assert.deepStrictEqual(
        results.slice(4).map((r) => r._tag === "NotAttempted" && r.reason?._tag),
        range(26).map(() => "Stopped" as const)
      )
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(hits.length, 4, "no retry, no send after the stop")
    }))

  it.effect("stop ends a long wait for a rate-limit slot at once too (0.5 per second)", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to) => ok(to))
      const stop = yield* Deferred.make<void>()
      const { fiber, results } = yield* start(
        sendMediaBatch(range(10).map(message), {
          concurrency: 4,
          rateLimit: { limit: 0.5 },
          stop: Deferred.await(stop)
        }),
        layer
      )
      yield* TestClock.adjust("100 millis")
      assert.strictEqual(hits.length, 1)
      yield* Deferred.succeed(stop, undefined)
      // before: the three other workers slept until their slots, 2, 4 and 6 seconds on
      assert.isTrue(yield* advanceUntilDone(fiber, "10 millis", 10), "the batch ended at once")
      assert.deepStrictEqual(
        results.map((r): string | undefined => r._tag === "NotAttempted" ? r.reason?._tag : r._tag),
        [
          "Sent",
          ...range(9).map(() => "Stopped")
        ]
      )
    }))

  it.effect("interrupting the consumer ends a pause at once", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to, hit) => to === message(3).to && hit === 1 ? tooManyRequests(50) : ok(to))
      const { fiber } = yield* start(
        sendMediaBatch(range(30).map(message), { concurrency: 2, rateLimit: { limit: 10 } }),
        layer
      )
      yield* TestClock.adjust("1 second")
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      assert.isTrue(yield* advanceUntilDone(interrupting, "10 millis", 10))
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(hits.length, 4)
    }))
})

/** The fake Kaleyra's client with `KaleyraEvents` (subscribed to in the test's scope). */
const withEvents = (fake: ReturnType<typeof fakeKaleyra>, options: Partial<typeof baseOptions> = {}) =>
  KaleyraClient.layer({ ...baseOptions, ...options }).pipe(
    Layer.provide(httpLayer(fake.client)),
    Layer.provideMerge(KaleyraEvents.layer())
  )

/** The send outcomes published so far. */
const outcomes = (queue: Queue.Dequeue<{ readonly _tag: string }>) =>
  Effect.map(Queue.takeAll(queue), (events) => Chunk.toReadonlyArray(events).filter((e) => e._tag !== "RetryScheduled"))

/** Starts a batch of 8 sends, subscribed to the events, and interrupts its consumer once all 8 requests are out. */
const interruptedInFlight = (
  fake: ReturnType<typeof fakeKaleyra>,
  batchOptions: { readonly interruptGrace?: Duration.DurationInput } = {},
  clientOptions: Partial<typeof baseOptions> = {}
) =>
  Effect.gen(function*() {
    const layer = withEvents(fake, clientOptions)
    const context = yield* Layer.build(layer)
    const events = yield* Effect.provide(KaleyraEvents, context)
    const queue = yield* events.subscribe
    const fiber = yield* sendMediaBatch(range(8).map(message), { concurrency: 8, rateLimit: false, ...batchOptions })
      .pipe(Stream.runDrain, Effect.provide(context), Effect.fork)
    yield* TestClock.adjust("100 millis")
    assert.strictEqual(fake.hits.length, 8, "every request is out")
    const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
    return { interrupting, queue }
  })

describe("sendMediaBatch: interrupted with sends in flight", () => {
  it.scoped("every request that was written reports its outcome as an event (answered within the grace)", () =>
    Effect.gen(function*() {
      const fake = fakeKaleyra((to) => ok(to), () => "1 second")
      const { interrupting, queue } = yield* interruptedInFlight(fake)
      // before: the 8 sends were aborted; Kaleyra had them all, and no result nor event said so
      assert.isTrue(yield* advanceUntilDone(interrupting, "100 millis", 20))
      const events = yield* outcomes(queue)
      assert.deepStrictEqual(events.map((e) => e._tag), range(8).map(() => "SendAccepted"))
    }))

  it.scoped("past the grace period, a send still waiting for its answer is an ambiguous TransportError event", () =>
    Effect.gen(function*() {
      const fake = fakeKaleyra((to) => ok(to), () => "50 seconds")
      const { interrupting, queue } = yield* interruptedInFlight(fake, { interruptGrace: "2 seconds" })
      yield* TestClock.adjust("1900 millis")
      assert.isNull(interrupting.unsafePoll(), "waits for the grace period")
      assert.isTrue(yield* advanceUntilDone(interrupting, "100 millis", 5))
      const events = yield* outcomes(queue)
      assert.strictEqual(events.length, 8)
      for (const event of events) {
        assert.strictEqual(event._tag, "SendFailed")
        if (event._tag !== "SendFailed") continue
        const error = (event as unknown as { error: { _tag: string; mayHaveReachedKaleyra?: boolean } }).error
        assert.strictEqual(error._tag, "TransportError")
        assert.isTrue(error.mayHaveReachedKaleyra)
      }
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* outcomes(queue)).length, 0, "one outcome per send")
    }))

  it.scoped("a send waiting to retry reports its last error at once; nothing is sent again", () =>
    Effect.gen(function*() {
      const fake = fakeKaleyra(() => fail("WA500"))
      const { interrupting, queue } = yield* interruptedInFlight(fake, {}, { retryBaseDelay: "10 seconds" })
      assert.isTrue(yield* advanceUntilDone(interrupting, "1 millis", 5))
      const events = yield* outcomes(queue)
      assert.deepStrictEqual(
        events.map((e) => e._tag === "SendFailed" && (e as unknown as { error: { _tag: string } }).error._tag),
        range(8).map(() => "KaleyraServerError")
      )
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(fake.hits.length, 8)
    }))

  it.scoped("a consumer done early (Stream.take): the sends in flight still report their outcome", () =>
    Effect.gen(function*() {
      const fake = fakeKaleyra((to) => ok(to), (to) => to === message(0).to ? undefined : "1 second")
      const context = yield* Layer.build(withEvents(fake))
      const events = yield* Effect.provide(KaleyraEvents, context)
      const queue = yield* events.subscribe
      const fiber = yield* sendMediaBatch(range(8).map(message), { concurrency: 8, rateLimit: false }).pipe(
        Stream.take(1),
        Stream.runCollect,
        Effect.provide(context),
        Effect.fork
      )
      assert.isTrue(yield* advanceUntilDone(fiber, "100 millis", 20))
      assert.isAbove(fake.hits.length, 1, "sends were in flight when the consumer was done")
      const published = yield* outcomes(queue)
      assert.deepStrictEqual(published.map((e) => e._tag), fake.hits.map(() => "SendAccepted"))
    }))

  it.scoped("nothing in flight (a consumer that takes no result): the interruption does not wait", () =>
    Effect.gen(function*() {
      const fake = fakeKaleyra((to) => ok(to))
      const context = yield* Layer.build(withEvents(fake))
      const events = yield* Effect.provide(KaleyraEvents, context)
      yield* events.subscribe
      const fiber = yield* sendMediaBatch(range(500).map(message), { concurrency: 4, rateLimit: false }).pipe(
        Stream.runForEach(() => Effect.never),
        Effect.provide(context),
        Effect.fork
      )
      for (let i = 0; i < 50; i++) yield* Effect.yieldNow()
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      assert.isTrue(yield* advanceUntilDone(interrupting, "1 millis", 3))
    }))
})
