import * as KaleyraSimulator from "@effect-kaleyra/testing/KaleyraSimulator"
import * as KaleyraTest from "@effect-kaleyra/testing/KaleyraTest"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Campaign from "../src/Campaign.js"
import { maxInWindow } from "./helpers.js"
import { acceptedRefs, ledgers, rows } from "./helpers.js"

describe.each(ledgers)("the sender's rate limit on $name", ({ layer }) => {
  it.live("holds in every window for two workers and a run after them, and a 429 holds back both", () => {
    const sends: Array<number> = []
    const client = KaleyraTest.layer({
      callbacks: false,
      retryBaseDelay: "10 millis",
      transformClient: HttpClient.tapRequest(() => Effect.sync(() => sends.push(Date.now())))
    })
    return Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      yield* Campaign.create({ name: "c", rows: rows(45) })
      const rateLimit = { limit: 15, interval: "1 second" } as const
      const stop = Effect.sleep("1200 millis")
      yield* simulator.injectNext("429", { times: 2 })
      const [a, b] = yield* Effect.all([
        Campaign.run({ name: "c", workerId: "a", concurrency: 6, rateLimit, stop }),
        Campaign.run({ name: "c", workerId: "b", concurrency: 6, rateLimit, stop })
      ], { concurrency: 2 })
      assert.isAbove(a.attempted, 0)
      assert.isAbove(b.attempted, 0)
      // a third run right after: the pacer is in the ledger, so its first sends wait for the slots of the others
      const c = yield* Campaign.run({ name: "c", workerId: "c", concurrency: 6, rateLimit })
      assert.strictEqual(c.sent, 45)
      // The times are taken at the request, after the slot: a process descheduled between the two (the test command
      // loads both cores) shifts one request later than its slot, which no pacer can prevent. So the window allows
      // 50 ms of that: 15 per 950 ms still fails a pacer one send per second too fast (16 evenly spaced per second put
      // 16 in 950 ms), let alone an unpaced one.
      assert.isAtMost(maxInWindow(sends, 950), 15)
      const refs = yield* acceptedRefs(simulator)
      assert.isTrue(refs.size === 45 && [...refs.values()].every((n) => n === 1))
    }).pipe(Effect.provide(Layer.merge(layer, client)))
  }, 60_000)
})
