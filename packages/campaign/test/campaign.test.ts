import * as KaleyraSimulator from "@effect-kaleyra/testing/KaleyraSimulator"
import * as KaleyraTest from "@effect-kaleyra/testing/KaleyraTest"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Campaign from "../src/Campaign.js"
import * as Ledger from "../src/Ledger.js"
import { acceptedRefs, ledgers, rows, sendRequests } from "./helpers.js"

const unthrottled = { rateLimit: false } as const

describe.each(ledgers)("Campaign on $name", ({ layer }) => {
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>, options: KaleyraTest.TestOptions = {}) =>
    effect.pipe(Effect.provide(Layer.merge(layer, KaleyraTest.layer({ callbacks: false, ...options }))))

  it.live("a rate limit core's pacer refuses is refused before anything is sent (a NaN limit paced nothing)", () =>
    provide(Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      yield* Campaign.create({ name: "c", rows: rows(5) })
      for (const rateLimit of [{ limit: Number.NaN }, { limit: 0 }, { limit: 10, interval: "-1 second" }] as const) {
        const exit = yield* Effect.exit(Campaign.run({ name: "c", rateLimit }))
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), JSON.stringify(rateLimit))
        const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        assert.isTrue(Cause.isIllegalArgumentException(defect), String(defect))
        assert.include(String(defect), "Campaign.run: rateLimit.")
      }
      assert.strictEqual(yield* sendRequests(simulator), 0)
      assert.strictEqual((yield* Campaign.status("c")).states.Pending, 5)
    })))

  it.live("stores every row, sends each once, reports them in order", () =>
    provide(Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      const info = yield* Campaign.create({ name: "c", rows: rows(50), fingerprint: "f1" })
      assert.strictEqual(info.total, 50)
      assert.isTrue(info.imported)
      assert.strictEqual(yield* sendRequests(simulator), 0, "nothing is sent by create")
      const summary = yield* Campaign.run({ name: "c", concurrency: 8, ...unthrottled })
      assert.deepStrictEqual(
        { sent: summary.sent, pending: summary.pending, attempted: summary.attempted, paused: summary.paused },
        { sent: 50, pending: 0, attempted: 50, paused: undefined }
      )
      const refs = yield* acceptedRefs(simulator)
      assert.strictEqual(refs.size, 50)
      assert.isTrue([...refs.values()].every((n) => n === 1))
      const report = Chunk.toReadonlyArray(yield* Stream.runCollect(Campaign.report("c")))
      assert.deepStrictEqual(report.map((r) => r.line), Array.from({ length: 50 }, (_, i) => i + 1))
      assert.isTrue(report.every((r) => r.state === "Sent" && r.messageId !== undefined && refs.get(r.ref) === 1))
      // the user's own ref is kept
      const sent = yield* simulator.sent
      assert.isTrue(sent.every((m) => m.extraInfo?.ref?.startsWith("user-") === true))
      const status = yield* Campaign.status("c")
      assert.strictEqual(status.states.Sent, 50)
      assert.strictEqual(status.delivery.none, 50)
      // running again sends nothing
      yield* Campaign.run({ name: "c", ...unthrottled })
      assert.strictEqual(yield* sendRequests(simulator), 50)
    })))

  it.live("the same name: the same rows continue, other rows are refused, ref2 is reserved", () =>
    provide(Effect.gen(function*() {
      yield* Campaign.create({ name: "c", rows: rows(3), fingerprint: "f1" })
      const again = yield* Campaign.create({ name: "c", rows: rows(3), fingerprint: "f1" })
      assert.isFalse(again.imported)
      const other = yield* Effect.flip(Campaign.create({ name: "c", rows: rows(4), fingerprint: "f2" }))
      assert.strictEqual(other._tag, "CampaignMismatch")
      const reserved = yield* Effect.flip(Campaign.create({
        name: "d",
        rows: [{
          line: 7,
          input: {
            to: "+919876543210",
            type: "image",
            image: { link: "https://e.x/a.png" },
            extraInfo: { ref2: "mine" }
          }
        }]
      }))
      assert.strictEqual(reserved._tag, "InvalidRow")
      const missing = yield* Effect.flip(Campaign.run({ name: "nope" }))
      assert.strictEqual(missing._tag, "CampaignNotFound")
      assert.deepStrictEqual(yield* Campaign.list, ["c", "d"])
    })))

  it.live("resume sends exactly the Pending rows", () =>
    provide(Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      yield* Campaign.create({ name: "c", rows: rows(40) })
      const stop = yield* Deferred.make<void>()
      let outcomes = 0
      const first = yield* Campaign.run({
        name: "c",
        concurrency: 4,
        ...unthrottled,
        stop: Deferred.await(stop),
        onOutcome: () => ++outcomes === 10 ? Deferred.succeed(stop, undefined) : Effect.void
      })
      assert.isAtLeast(first.sent, 10)
      assert.isBelow(first.sent, 40)
      assert.strictEqual(first.sent + first.pending, 40)
      const sentBefore = new Set((yield* acceptedRefs(simulator)).keys())
      const pendingRefs = Chunk.toReadonlyArray(yield* Stream.runCollect(Campaign.report("c")))
        .filter((r) => r.state === "Pending").map((r) => r.ref)
      yield* Campaign.run({ name: "c", concurrency: 4, ...unthrottled })
      const after = yield* acceptedRefs(simulator)
      const newRefs = [...after.keys()].filter((ref) => !sentBefore.has(ref)).sort()
      assert.deepStrictEqual(newRefs, [...pendingRefs].sort())
      assert.isTrue([...after.values()].every((n) => n === 1))
      assert.strictEqual(yield* sendRequests(simulator), 40)
    })))

  it.live("an interrupted run leaves its Sending rows Ambiguous and its claimed rows Pending, and loses none", () =>
    provide(Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      yield* Campaign.create({ name: "c", rows: rows(30) })
      const reached = yield* Deferred.make<ReadonlyArray<number>>()
      // the first intents are committed, then the run is interrupted before their requests are written
      const fiber = yield* Effect.fork(Campaign.run({
        name: "c",
        concurrency: 4,
        ...unthrottled,
        hooks: { afterIntent: (seqs) => Effect.zipRight(Deferred.succeed(reached, seqs), Effect.never) }
      }))
      const intended = yield* Deferred.await(reached)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* sendRequests(simulator), 0)
      const report = Chunk.toReadonlyArray(yield* Stream.runCollect(Campaign.report("c")))
      assert.deepStrictEqual(
        report.filter((r) => r.state === "Ambiguous").map((r) => r.seq),
        [...intended],
        "the rows whose intent was committed may have been sent: Ambiguous"
      )
      assert.isTrue(report.every((r) => r.state === "Ambiguous" ? r.errorTag === "Interrupted" : r.state === "Pending"))
      // a new run sends the others, never the Ambiguous ones
      const summary = yield* Campaign.run({ name: "c", ...unthrottled })
      assert.deepStrictEqual([summary.sent, summary.ambiguous], [30 - intended.length, intended.length])
      assert.strictEqual(yield* sendRequests(simulator), 30 - intended.length)
    })))
})

describe("refs", () => {
  it("rowRef and parseRowRef agree", () => {
    assert.deepStrictEqual(Ledger.parseRowRef(Ledger.rowRef("kc0123456789", 42)), { token: "kc0123456789", seq: 42 })
    assert.isUndefined(Ledger.parseRowRef("kc0123456789-01"))
    assert.isUndefined(Ledger.parseRowRef("order-42"))
  })
})
