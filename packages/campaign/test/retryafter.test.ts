import * as KaleyraSimulator from "@effect-kaleyra/testing/KaleyraSimulator"
import * as KaleyraTest from "@effect-kaleyra/testing/KaleyraTest"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Campaign from "../src/Campaign.js"
import { acceptedRefs, rows, sendRequests, sqliteLedger } from "./helpers.js"

describe("a 429 whose Retry-After is longer than maxRetryAfter", () => {
  it.live(
    "pauses the campaign (reason RateLimited) instead of pushing the shared rate limit back by a day",
    () =>
      Effect.gen(function*() {
        const simulator = yield* KaleyraSimulator.KaleyraSimulator
        yield* Campaign.create({ name: "c", rows: rows(20) })
        // the first request (the run starts with one row) is answered 429 with `Retry-After: 86400`
        yield* simulator.injectNext("429-retry-after", { retryAfter: 86400 })
        const paused = yield* Campaign.run({ name: "c", concurrency: 4 })
        assert.strictEqual(paused.paused?.reason, "RateLimited")
        assert.match(paused.paused?.message ?? "", /maxRetryAfter/)
        assert.strictEqual(paused.sent, 0)
        assert.strictEqual(paused.failed, 0, "a 429 fails no row")
        assert.strictEqual(paused.pending, 20)
        assert.strictEqual(yield* sendRequests(simulator), 1)
        const report = Chunk.toReadonlyArray(yield* Stream.runCollect(Campaign.report("c")))
        assert.strictEqual(report[0].state, "Pending")
        assert.strictEqual(report[0].errorTag, "RateLimited")
        const status = yield* Campaign.status("c")
        assert.strictEqual(status.paused?.reason, "RateLimited")
        assert.strictEqual(status.states.Pending, 20)

        // running again later resumes at once (the shared pacer was not pushed back by the day): every row sent once
        const resumed = yield* Campaign.run({ name: "c", concurrency: 4 })
        assert.strictEqual(resumed.sent, 20)
        assert.isUndefined(resumed.paused)
        const refs = yield* acceptedRefs(simulator)
        assert.strictEqual(refs.size, 20)
        assert.isTrue([...refs.values()].every((n) => n === 1))
      }).pipe(Effect.provide(Layer.merge(sqliteLedger, KaleyraTest.layer({ callbacks: false })))),
    15_000
  )
})
