import { Batch, type KaleyraClient, type MediaMessage, sendMediaBatch } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Deferred, Effect, Exit, Fiber, type Layer, Option, Queue, Stream, TestClock } from "effect"
import type * as RateLimiter from "effect/RateLimiter"
import { collect, defectsOf, fail, fakeKaleyra, type Hit, message, ok, range } from "./batchUtils.js"

/** The recipients of `message(0)` to `message(29)`. */
const inputs30 = Array.from({ length: 30 }, (_, i) => message(i).to)

/**
 * Runs a batch to its end on the TestClock, recording the index of each result as it comes: its exit, the indices,
 * and the indices of the `NotAttempted` results.
 */
const runRecording = <E>(
  batch: Stream.Stream<{ readonly index: number; readonly _tag: string }, E, KaleyraClient>,
  layer: Layer.Layer<KaleyraClient, unknown>
) =>
  Effect.gen(function*() {
    const seen: Array<number> = []
    const notAttempted: Array<number> = []
    const fiber = yield* batch.pipe(
      Stream.runForEach((result) =>
        Effect.sync(() => {
          seen.push(result.index)
          if (result._tag === "NotAttempted") notAttempted.push(result.index)
        })
      ),
      Effect.exit,
      Effect.provide(layer),
      Effect.fork
    )
    for (let i = 0; i < 1000 && fiber.unsafePoll() === null; i++) {
      yield* Effect.yieldNow()
      yield* TestClock.adjust("100 millis")
    }
    return { exit: yield* Fiber.join(fiber), seen, notAttempted }
  })

/**
 * Whatever was sent (of `message(0)` to `message(29)`) has its result, and so has every other input but `except`
 * (`NotAttempted`); nothing is reported twice, nothing that was not sent is reported sent.
 */
const assertOneResultPerInput = (
  recorded: { readonly seen: ReadonlyArray<number>; readonly notAttempted: ReadonlyArray<number> },
  hits: ReadonlyArray<Hit>,
  except: number,
  label: string
) => {
  const sent = hits.map((hit) => inputs30.indexOf(hit.to)).sort((a, b) => a - b)
  assert.deepStrictEqual([...recorded.seen].sort((a, b) => a - b), range(30).filter((i) => i !== except), label)
  assert.deepStrictEqual(
    [...recorded.notAttempted].sort((a, b) => a - b),
    range(30).filter((i) => i !== except && !sent.includes(i)),
    label
  )
}

/** A `key` function that throws `error` at input `at`. */
const keyThrowingAt = (at: number, error: Error) => (_: unknown, index: number): number => {
  if (index === at) throw error
  return index
}

describe("sendMediaBatch", () => {
  it.effect("exactly one result per input, in order, with keys, for mixed outcomes", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to) =>
        to.endsWith("1") ? fail("E110") : to.endsWith("2") ? fail("WA400") : ok(to)
      )
      const inputs = Array.from(
        { length: 300 },
        (_, i) => i % 7 === 3 ? { ...message(i), to: "bad" } as MediaMessage.SendMediaInput : message(i)
      )
      const results = yield* collect(
        sendMediaBatch(inputs, { concurrency: 8, rateLimit: false, key: (input, i) => `row-${i}` }).pipe(
          Stream.provideLayer(layer)
        )
      )
      assert.strictEqual(results.length, 300)
      results.forEach((r, i) => {
        assert.strictEqual(r.index, i)
        assert.strictEqual(r.key, `row-${i}`)
        const to = (inputs[i] as { to: string }).to
        const expected = to === "bad"
          ? "InvalidMessage"
          : to.endsWith("1")
          ? "LowBalance"
          : to.endsWith("2")
          ? "IncorrectPayload"
          : "Sent"
        assert.strictEqual(r._tag === "Failed" ? r.error._tag : r._tag, expected, `row ${i}`)
      })
      const summary = results.reduce(Batch.summarize, Batch.emptySummary)
      assert.strictEqual(summary.sent + summary.failed, 300)
      assert.strictEqual(hits.length, 300 - inputs.filter((i) => (i as { to: string }).to === "bad").length)
      assert.strictEqual(new Set(hits.map((h) => h.to)).size, hits.length, "no recipient got the message twice")
    }))

  it.effect("a 429 pauses the whole batch for its Retry-After", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to, n) =>
        to === "+919876500000" && n === 1
          ? { status: 429, body: "{}", headers: { "retry-after": "10" } }
          : ok(to)
      )
      const results = yield* collect(
        sendMediaBatch(Array.from({ length: 40 }, (_, i) => message(i)), { concurrency: 4, rateLimit: false }).pipe(
          Stream.provideLayer(layer)
        )
      )
      assert.strictEqual(results.length, 40)
      assert.isTrue(results.every((r) => r._tag === "Sent"))
      const early = hits.filter((h) => h.at < 10_000)
      // the four sends in flight when the 429 came; nothing else until the pause ended
      assert.isAtMost(early.length, 4)
      assert.strictEqual(hits.length, 41)
      assert.isTrue(hits.slice(early.length).every((h) => h.at >= 10_000))
    }))

  it.effect("the rate limit bounds sends per interval", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to) => ok(to))
      const results = yield* collect(
        sendMediaBatch(Array.from({ length: 50 }, (_, i) => message(i)), {
          concurrency: 16,
          rateLimit: { limit: 10, interval: "1 second" }
        }).pipe(Stream.provideLayer(layer))
      )
      assert.strictEqual(results.length, 50)
      for (const h of hits) {
        const inWindow = hits.filter((x) => x.at >= h.at && x.at < h.at + 1000).length
        assert.isAtMost(inWindow, 10, `window at ${h.at}`)
      }
      assert.isAtLeast(hits[hits.length - 1].at, 4000)
    }))

  it.effect("retries are rate-limited too, and a WA500 retried once yields one result", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to, n) => n === 1 && to.endsWith("3") ? fail("WA500") : ok(to))
      const results = yield* collect(
        sendMediaBatch(Array.from({ length: 20 }, (_, i) => message(i)), { rateLimit: { limit: 5 } }).pipe(
          Stream.provideLayer(layer)
        )
      )
      assert.strictEqual(results.length, 20)
      assert.isTrue(results.every((r) => r._tag === "Sent"))
      assert.strictEqual(hits.length, 22)
      for (const h of hits) assert.isAtMost(hits.filter((x) => x.at >= h.at && x.at < h.at + 1000).length, 5)
    }))

  it.effect("stop: no send starts after it, the rest are NotAttempted, nothing runs afterwards, in order or not", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        const { hits, layer } = fakeKaleyra((to) => ok(to))
        const stop = yield* Deferred.make<void>()
        const results: Array<{ _tag: string; index: number }> = []
        const fiber = yield* sendMediaBatch(Array.from({ length: 100 }, (_, i) => message(i)), {
          concurrency: 2,
          rateLimit: { limit: 10 },
          ordered,
          stop: Deferred.await(stop)
        }).pipe(
          Stream.tap((r) => Effect.sync(() => results.push(r))),
          Stream.runDrain,
          Effect.provide(layer),
          Effect.fork
        )
        yield* TestClock.adjust("1500 millis")
        yield* Deferred.succeed(stop, undefined)
        for (let i = 0; i < 50; i++) {
          yield* Effect.yieldNow()
          yield* TestClock.adjust("100 millis")
        }
        yield* Fiber.join(fiber)
        assert.strictEqual(results.length, 100)
        assert.deepStrictEqual(
          ordered ? results.map((r) => r.index) : results.map((r) => r.index).sort((a, b) => a - b),
          Array.from({ length: 100 }, (_, i) => i)
        )
        const sent = results.filter((r) => r._tag === "Sent").length
        const notAttempted = results.filter((r) => r._tag === "NotAttempted")
        assert.strictEqual(sent + notAttempted.length, 100)
        assert.strictEqual(sent, hits.length, "every request that left has a Sent result")
        assert.isAbove(notAttempted.length, 50)
        const before = hits.length
        yield* TestClock.adjust("1 minute")
        assert.strictEqual(hits.length, before, "nothing is sent after the batch ended")
      }), { discard: true }))

  it.effect("interrupting the consumer stops the batch: no fiber keeps sending, in order or not", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        const { hits, layer } = fakeKaleyra((to) => ok(to))
        const fiber = yield* sendMediaBatch(Array.from({ length: 1000 }, (_, i) => message(i)), {
          rateLimit: { limit: 10 },
          ordered
        }).pipe(Stream.runDrain, Effect.provide(layer), Effect.fork)
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.interrupt(fiber)
        const before = hits.length
        assert.isAbove(before, 0)
        yield* TestClock.adjust("1 minute")
        assert.strictEqual(hits.length, before, `ordered: ${ordered}`)
      }), { discard: true }))

  it.effect("at most `concurrency` sends are in flight at once, and that many are; no empty chunk; in order or not", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        // every answer takes 1 s: the requests arrive in waves of 4
        const { hits, layer } = fakeKaleyra((to) => ok(to), () => "1 second")
        const fiber = yield* sendMediaBatch(Array.from({ length: 10 }, (_, i) => message(i)), {
          concurrency: 4,
          rateLimit: false,
          ordered
        }).pipe(Stream.chunks, Stream.runCollect, Effect.provide(layer), Effect.fork)
        const waves: Array<number> = []
        for (let second = 0; second < 4; second++) {
          for (let i = 0; i < 100; i++) yield* Effect.yieldNow()
          waves.push(hits.length)
          yield* TestClock.adjust("1 second")
        }
        assert.deepStrictEqual(waves, [4, 8, 10, 10], `ordered: ${ordered}`)
        const sizes = Chunk.toReadonlyArray(yield* Fiber.join(fiber)).map(Chunk.size)
        assert.strictEqual(sizes.reduce((a, b) => a + b, 0), 10)
        assert.isTrue(sizes.every((size) => size > 0), `no empty chunk (a consumer may write each one out): ${sizes}`)
      }), { discard: true }))

  it.effect("reads an iterable a group at a time, not thousands of inputs ahead, in order or not", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        const { layer } = fakeKaleyra((to) => ok(to))
        let pulled = 0
        let closed = false
        function* inputs() {
          try {
            for (let i = 0; i < 1000; i++) {
              pulled++
              yield message(i)
            }
          } finally {
            closed = true
          }
        }
        // concurrency 4: groups of 64 inputs
        const first = yield* collect(
          sendMediaBatch(inputs(), { concurrency: 4, rateLimit: { limit: 10 }, ordered }).pipe(
            Stream.take(1),
            Stream.provideLayer(layer)
          )
        )
        assert.strictEqual(first.length, 1)
        assert.isAtMost(pulled, 4 * 64, `ordered: ${ordered}`)
        assert.isTrue(closed, `the generator was closed when the batch ended early (ordered: ${ordered})`)
      }), { discard: true }))

  it.effect("a failing input: every input read before the failure is sent and reported first, in order or not", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        const { hits, layer } = fakeKaleyra((to) => ok(to), () => "1 second")
        // 100 inputs, then the failure: in order, a first group of 64 is full, and 36 wait in the next one
        const inputs = Stream.range(0, 99).pipe(Stream.map(message), Stream.concat(Stream.fail("the input broke")))
        const { exit, seen } = yield* runRecording(
          sendMediaBatch(inputs, { concurrency: 4, rateLimit: false, ordered }),
          layer
        )
        assert.deepStrictEqual(
          Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none(),
          Option.some("the input broke")
        )
        assert.deepStrictEqual([...seen].sort((a, b) => a - b), range(100), `ordered: ${ordered}`)
        assert.strictEqual(hits.length, 100)
      }), { discard: true }))

  it.effect("a send that dies while the input has nothing to give: the defect comes at once, no input is lost", () =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to) => ok(to))
      const boom = new Error("the key function broke")
      const queue = yield* Queue.unbounded<MediaMessage.SendMediaInput>()
      const fiber = yield* runRecording(
        sendMediaBatch(Stream.fromQueue(queue), {
          concurrency: 4,
          rateLimit: false,
          ordered: false,
          key: keyThrowingAt(2, boom)
        }),
        layer
      ).pipe(Effect.fork)
      yield* Queue.offer(queue, message(0))
      yield* TestClock.adjust("100 millis")
      yield* Queue.offerAll(queue, [message(1), message(2)])
      // the input is live: nothing more comes, and the batch must not wait for it
      for (let i = 0; i < 100; i++) yield* Effect.yieldNow()
      const { exit, seen } = yield* Fiber.join(fiber)
      assert.deepStrictEqual(defectsOf(exit), [boom])
      assert.deepStrictEqual([...seen].sort(), [0, 1])
      assert.strictEqual(hits.length, 2)
      yield* Queue.offer(queue, message(3))
      assert.strictEqual(yield* Queue.size(queue), 1, "an input offered afterwards is left in the queue, not taken")
    }))

  it.effect("a send that dies after the input failed: the defect wins, after a result for every other input", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        const { layer } = fakeKaleyra((to) => ok(to))
        const boom = new Error("the key function broke")
        const inputs = Stream.range(0, 99).pipe(Stream.map(message), Stream.concat(Stream.fail("the input broke")))
        const { exit, notAttempted, seen } = yield* runRecording(
          sendMediaBatch(inputs, {
            concurrency: 4,
            rateLimit: false,
            ordered,
            key: keyThrowingAt(70, boom)
          }),
          layer
        )
        assert.deepStrictEqual(
          defectsOf(exit),
          [boom],
          `ordered: ${ordered}`
        )
        // the input (0 to 99) came in one chunk: every input but the one whose key threw has its result, those after it
        // NotAttempted
        assert.deepStrictEqual([...seen].sort((a, b) => a - b), range(100).filter((i) => i !== 70))
        assert.deepStrictEqual([...notAttempted].sort((a, b) => a - b), range(100).filter((i) => i > 70))
      }), { discard: true }))

  it.effect("a send that dies while a worker starts a pull from a live input: the defect still comes at once", () =>
    Effect.gen(function*() {
      // Found by a review: a halt landing while a worker yields (its op budget spent, here 20 ops) between deciding to
      // pull and recording its pull found nothing to interrupt; the batch then waited for the next input.
      const { hits, layer } = fakeKaleyra((to) => ok(to))
      const queue = yield* Queue.unbounded<MediaMessage.SendMediaInput>()
      yield* Queue.offerAll(queue, [message(0), message(1)])
      let calls = 0
      // a user's rate limiter whose first call dies after 3 scheduler turns
      const rateLimiter = (<A, E, R>(task: Effect.Effect<A, E, R>) =>
        Effect.suspend(() =>
          calls++ === 0
            ? Effect.zipRight(
              Effect.zipRight(Effect.yieldNow(), Effect.zipRight(Effect.yieldNow(), Effect.yieldNow())),
              Effect.dieMessage("the limiter broke")
            )
            : task
        )) as RateLimiter.RateLimiter
      const fiber = yield* sendMediaBatch(Stream.fromQueue(queue), { concurrency: 3, rateLimiter, ordered: false })
        .pipe(
          Stream.runDrain,
          Effect.provide(layer),
          Effect.withMaxOpsBeforeYield(20),
          Effect.exit,
          Effect.fork
        )
      for (let i = 0; i < 5000 && fiber.unsafePoll() === null; i++) yield* Effect.yieldNow()
      assert.isNotNull(fiber.unsafePoll(), "the batch ended without waiting for another input")
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      assert.isAtMost(hits.length, 1)
      yield* Queue.offer(queue, message(2))
      assert.strictEqual(yield* Queue.size(queue), 1, "an input offered afterwards is left in the queue")
    }))

  it.effect("a stop that dies stops the batch: every input has its result, then the defect, in order or not", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        const { hits, layer } = fakeKaleyra((to) => ok(to))
        const boom = new Error("the stop signal broke")
        const { exit, seen } = yield* runRecording(
          sendMediaBatch(Array.from({ length: 100 }, (_, i) => message(i)), {
            concurrency: 2,
            rateLimit: { limit: 10 },
            ordered,
            stop: Effect.delay(Effect.die(boom), "1500 millis")
          }),
          layer
        )
        assert.deepStrictEqual(
          defectsOf(exit),
          [boom],
          `ordered: ${ordered}`
        )
        assert.deepStrictEqual([...seen].sort((a, b) => a - b), range(100))
        assert.isAbove(hits.length, 0)
        assert.isBelow(hits.length, 50, "no send starts after the stop")
      }), { discard: true }))

  it.effect("a send that dies (a key function that throws): one result per input read, then the defect", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        // every answer takes 1 s: inputs 0 to 3 are in flight when input 5's key throws
        const { hits, layer } = fakeKaleyra((to) => ok(to), () => "1 second")
        const boom = new Error("the key function broke")
        const recorded = yield* runRecording(
          sendMediaBatch(Array.from({ length: 30 }, (_, i) => message(i)), {
            concurrency: 4,
            rateLimit: false,
            ordered,
            key: keyThrowingAt(5, boom)
          }),
          layer
        )
        const { exit, seen } = recorded
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), `ordered: ${ordered}: the batch dies`)
        assert.deepStrictEqual(defectsOf(exit), [
          boom
        ])
        assert.isAbove(hits.length, 3)
        assert.isBelow(hits.length, 30, "no input is taken after the defect")
        // the 30 inputs were read in one chunk: the sends report, every other input but input 5 is NotAttempted
        assertOneResultPerInput(recorded, hits, 5, `ordered: ${ordered}`)
        if (ordered) assert.deepStrictEqual(seen, range(30).filter((i) => i !== 5), "in input order")
      }), { discard: true }))

  it.effect("a send interrupted from inside (a rate limiter): the batch stops like on a defect, no result is lost", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        // found by a review: the other workers were interrupted mid-send, and the sends that went out had no result
        const { hits, layer } = fakeKaleyra((to) => ok(to), () => "1 second")
        let calls = 0
        const rateLimiter = (<A, E, R>(effect: Effect.Effect<A, E, R>) =>
          Effect.suspend(() => ++calls === 6 ? Effect.interrupt : effect)) as RateLimiter.RateLimiter
        const recorded = yield* runRecording(
          sendMediaBatch(
            Array.from({ length: 30 }, (_, i) =>
              message(i)),
            { concurrency: 4, rateLimiter, ordered }
          ),
          layer
        )
        assert.isTrue(Exit.isFailure(recorded.exit) && Cause.isInterruptedOnly(recorded.exit.cause))
        assert.strictEqual(hits.length, 5, `ordered: ${ordered}`)
        assertOneResultPerInput(recorded, hits, 5, `ordered: ${ordered}`)
      }), { discard: true }))

  it.effect("a send that dies: the inputs read and not started are NotAttempted, no input is read after it", () =>
    Effect.forEach([true, false], (ordered) =>
      Effect.gen(function*() {
        const { hits, layer } = fakeKaleyra((to) => ok(to), () => "1 second")
        const boom = new Error("the key function broke")
        // a generator is read a window (64 inputs here) at a time
        let read = 0
        function* inputs() {
          for (let i = 0; i < 1000; i++) {
            read++
            yield message(i)
          }
        }
        const { exit, notAttempted, seen } = yield* runRecording(
          sendMediaBatch(inputs(), { concurrency: 4, rateLimit: false, ordered, key: keyThrowingAt(100, boom) }),
          layer
        )
        assert.deepStrictEqual(defectsOf(exit), [boom], `ordered: ${ordered}`)
        assert.strictEqual(read, 128, "two windows read, no more")
        assert.deepStrictEqual([...seen].sort((a, b) => a - b), range(128).filter((i) => i !== 100))
        assert.deepStrictEqual(
          [...notAttempted].sort((a, b) => a - b),
          range(128).filter((i) => i > 100 && !hits.some((hit) => hit.to === message(i).to))
        )
        assert.isAbove(notAttempted.length, 20)
        if (ordered) assert.deepStrictEqual(seen, range(128).filter((i) => i !== 100), "in input order")
      }), { discard: true }))

  it.effect("ordered: false emits each result when its send completes: a slow send holds back nothing else", () =>
    Effect.gen(function*() {
      const inputs = Array.from({ length: 20 }, (_, i) => message(i))
      const slow = (to: string) => to === inputs[0].to ? "5 seconds" : undefined
      const indices = Array.from({ length: 20 }, (_, i) => i)

      const unordered = fakeKaleyra((to) => ok(to), slow)
      const results = yield* collect(
        sendMediaBatch(inputs, { concurrency: 4, rateLimit: false, ordered: false, key: (input) => input.to }).pipe(
          Stream.provideLayer(unordered.layer)
        )
      )
      assert.deepStrictEqual(results.map((r) => r.index).sort((a, b) => a - b), indices)
      assert.isTrue(results.every((r) => r._tag === "Sent" && r.key === inputs[r.index].to))
      assert.strictEqual(results[19].index, 0, "the slow send comes last, after everything that started behind it")
      assert.strictEqual(unordered.hits.length, 20)

      // In order (the default), the same slow send holds back every result behind it.
      const ordered = fakeKaleyra((to) => ok(to), slow)
      const inOrder = yield* collect(
        sendMediaBatch(inputs, { concurrency: 4, rateLimit: false }).pipe(Stream.provideLayer(ordered.layer))
      )
      assert.deepStrictEqual(inOrder.map((r) => r.index), indices)
    }))

  it.effect("in order, a slow send lets the next inputs start, up to the window (64 here), then the batch waits", () =>
    Effect.gen(function*() {
      const inputs = Array.from({ length: 200 }, (_, i) => message(i))
      const { hits, layer } = fakeKaleyra((to) => ok(to), (to) => to === inputs[10].to ? "5 seconds" : undefined)
      const seen: Array<number> = []
      const fiber = yield* sendMediaBatch(inputs, { concurrency: 4, rateLimit: false }).pipe(
        Stream.runForEach((result) => Effect.sync(() => seen.push(result.index))),
        Effect.provide(layer),
        Effect.fork
      )
      for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
      yield* TestClock.adjust("4 seconds")
      for (let i = 0; i < 200; i++) yield* Effect.yieldNow()
      // inputs 0 to 9 are out; 10 is slow; 11 to 73 started and wait behind it (a window of 64 from input 10 on)
      assert.deepStrictEqual(seen, range(10))
      assert.strictEqual(hits.length, 74, "the window: 64 inputs started from the slow one on, and no more")
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(seen, range(200))
      assert.strictEqual(hits.length, 200)
    }))

  it.effect("a concurrency that is not a finite number: the stream dies at once, nothing is sent", () =>
    Effect.forEach([Number.NaN, Number.POSITIVE_INFINITY], (concurrency) =>
      Effect.gen(function*() {
        const { hits, layer } = fakeKaleyra((to) => ok(to))
        const exit = yield* sendMediaBatch([message(0), message(1)], { concurrency, rateLimit: false }).pipe(
          Stream.runCollect,
          Effect.provide(layer),
          Effect.exit
        )
        const [defect] = defectsOf(exit)
        assert.instanceOf(defect, Cause.IllegalArgumentException, String(concurrency))
        assert.strictEqual(hits.length, 0)
      }), { discard: true }))

  it.effect("rate-limited: nothing is sent during a 429's pause, in order or not, and one result per input", () =>
    Effect.forEach([true, false], (ordered) => rateLimitedPause(ordered), { discard: true }))

  const rateLimitedPause = (ordered: boolean) =>
    Effect.gen(function*() {
      const { hits, layer } = fakeKaleyra((to, hit) =>
        to.endsWith("7") && hit === 1
          ? {
            status: 429,
            body: JSON.stringify({ code: "WA429", message: "slow down" }),
            headers: { "retry-after": "3" }
          }
          : ok(to)
      )
      const results = yield* collect(
        sendMediaBatch(Array.from({ length: 30 }, (_, i) => message(i)), {
          concurrency: 8,
          rateLimit: { limit: 10, interval: "1 second" },
          ordered
        }).pipe(Stream.provideLayer(layer))
      )
      assert.deepStrictEqual(
        results.map((r) => r.index).sort((a, b) => a - b),
        Array.from({ length: 30 }, (_, i) => i)
      )
      assert.isTrue(results.every((r) => r._tag === "Sent"))
      // 30 first attempts and 3 retries (inputs 7, 17, 27), at most 10 in any second...
      assert.strictEqual(hits.length, 33)
      for (const hit of hits) {
        assert.isAtMost(hits.filter((h) => h.at >= hit.at && h.at < hit.at + 1000).length, 10)
      }
      // ...and nothing sent within 3 seconds after either 429 (inputs 7 and 17, first attempts).
      for (const to of [message(7).to, message(17).to]) {
        const refused = hits.find((h) => h.to === to)!.at
        assert.isFalse(hits.some((h) => h.at > refused && h.at < refused + 3000), `sent during the pause of ${to}`)
      }
      if (ordered) assert.deepStrictEqual(results.map((r) => r.index), Array.from({ length: 30 }, (_, i) => i))
    })

  it.effect("takes a Stream of inputs", () =>
    Effect.gen(function*() {
      const { layer } = fakeKaleyra((to) => ok(to))
      const results = yield* collect(
        sendMediaBatch(Stream.range(0, 49).pipe(Stream.map(message)), { rateLimit: false }).pipe(
          Stream.provideLayer(layer)
        )
      )
      assert.strictEqual(results.length, 50)
    }))
})
