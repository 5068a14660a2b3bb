/**
 * The batch's window under every op budget from 100 to 1 000: a file of its own, since its 1 802 batches keep a core
 * busy for seconds and the tests of a file run side by side (next to it, batch.test.ts's tests ran out of time on a
 * loaded machine). Not fewer budgets: with the fix undone (the window not checked again where the worker starts
 * waiting), one budget of these 901 hung the batch, 709, and none of 100 to 199 did.
 */
import { sendMediaBatch } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { fakeKaleyra, message, ok } from "./batchUtils.js"

describe("sendMediaBatch", () => {
  it.effect(
    "a worker that yields right after finding the window full is still woken (any op budget)",
    () =>
      Effect.gen(function*() {
        // Found by a review: the window was checked in one step and waited on in the next; a consumer taking results
        // in between (the worker's op budget spent) woke nobody, and with one worker the batch hung. Results that come
        // without I/O (after `stop`) let the worker run until its budget ends; the sweep makes it end at every step.
        const { layer } = fakeKaleyra((to) => ok(to))
        const hung: Array<string> = []
        for (const ordered of [true, false]) {
          for (let budget = 100; budget <= 1000; budget++) {
            let consumed = 0
            const fiber = yield* sendMediaBatch(Array.from({ length: 300 }, (_, i) => message(i)), {
              concurrency: 1,
              rateLimit: false,
              ordered,
              stop: Effect.void
            }).pipe(
              Stream.runForEachChunk((chunk) => Effect.sync(() => consumed += chunk.length)),
              Effect.provide(layer),
              Effect.withMaxOpsBeforeYield(budget),
              Effect.fork
            )
            for (let i = 0; i < 1000 && fiber.unsafePoll() === null; i++) yield* Effect.yieldNow()
            if (fiber.unsafePoll() === null || consumed !== 300) {
              hung.push(`ordered: ${ordered}, budget ${budget}: ${consumed} of 300 results`)
              yield* Fiber.interrupt(fiber)
            }
          }
        }
        assert.deepStrictEqual(hung, [])
      }),
    120_000
  )
})
