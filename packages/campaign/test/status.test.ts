import * as KaleyraCallback from "@effect-kaleyra/core/KaleyraCallback"
import * as KaleyraSimulator from "@effect-kaleyra/testing/KaleyraSimulator"
import * as KaleyraTest from "@effect-kaleyra/testing/KaleyraTest"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Campaign from "../src/Campaign.js"
import * as Ledger from "../src/Ledger.js"
import { ledgers, rows } from "./helpers.js"

const unthrottled = { rateLimit: false } as const

const reportOf = (name: string) => Effect.map(Stream.runCollect(Campaign.report(name)), Chunk.toReadonlyArray)

const status = (
  messageId: string,
  value: KaleyraCallback.MessageStatus,
  refs: KaleyraCallback.Refs = {},
  errors: ReadonlyArray<KaleyraCallback.CallbackError> = []
) =>
  new KaleyraCallback.MessageStatusUpdated({
    messageId,
    status: value,
    recipient: undefined,
    timestamp: 1_700_000_000,
    refs,
    errors
  })

describe.each(ledgers)("delivery statuses on $name", ({ layer }) => {
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>, options: KaleyraTest.TestOptions = {}) =>
    effect.pipe(Effect.provide(Layer.merge(layer, KaleyraTest.layer({ callbacks: false, ...options }))))

  it.live("move forward only, whatever order and however often they come", () =>
    provide(Effect.gen(function*() {
      yield* Campaign.create({ name: "c", rows: rows(3) })
      yield* Campaign.run({ name: "c", ...unthrottled })
      const [a, b] = yield* reportOf("c")
      assert.strictEqual(yield* Campaign.recordStatus(status(a.messageId!, "read")), "Applied")
      assert.strictEqual(yield* Campaign.recordStatus(status(a.messageId!, "delivered")), "Stale")
      assert.strictEqual(yield* Campaign.recordStatus(status(a.messageId!, "sent")), "Stale")
      assert.strictEqual(yield* Campaign.recordStatus(status(a.messageId!, "read")), "Stale")
      const failed = status(b.messageId!, "failed", {}, [{ code: 131053, title: "Media upload error" }])
      assert.strictEqual(yield* Campaign.recordStatus(status(b.messageId!, "delivered")), "Applied")
      assert.strictEqual(yield* Campaign.recordStatus(failed), "Applied")
      assert.strictEqual(yield* Campaign.recordStatus(status(b.messageId!, "read")), "Stale", "failed is final")
      assert.strictEqual(yield* Campaign.recordStatus(failed), "Stale")
      const [ra, rb, rc] = yield* reportOf("c")
      assert.deepStrictEqual([ra.delivery, ra.deliveryAt], ["read", 1_700_000_000_000])
      assert.deepStrictEqual([rb.delivery, rb.deliveryError], ["failed", "131053"])
      assert.isUndefined(rc.delivery)
      const counts = (yield* Campaign.status("c")).delivery
      assert.deepStrictEqual(counts, { none: 1, sent: 0, delivered: 0, read: 1, failed: 1 })
    })))

  it.live("a status for an unknown id is kept, and applied when a row gets that id", () =>
    provide(Effect.gen(function*() {
      assert.strictEqual(yield* Campaign.recordStatus(status("wamid.nobody", "sent")), "Unknown")
      yield* Campaign.create({ name: "c", rows: rows(2) })
      // the callback comes before the outcome of the send is committed
      const first = KaleyraSimulator.messageId(1)
      assert.strictEqual(yield* Campaign.recordStatus(status(first, "delivered")), "Unknown")
      yield* Campaign.run({ name: "c", ...unthrottled })
      const [a, b] = yield* reportOf("c")
      assert.strictEqual(a.messageId, first)
      assert.strictEqual(a.delivery, "delivered")
      assert.isUndefined(b.delivery)
      assert.strictEqual(yield* Campaign.recordStatus(status(first, "delivered")), "Stale")
    })))

  it.live("a status carrying an Ambiguous row's ref resolves it to Sent", () =>
    provide(Effect.gen(function*() {
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      yield* Campaign.create({ name: "c", rows: rows(3) })
      // accepted by Kaleyra, but the connection is reset before the answer: the row is Ambiguous
      yield* simulator.injectNext("reset-after-body")
      const summary = yield* Campaign.run({ name: "c", concurrency: 1, ...unthrottled })
      assert.deepStrictEqual([summary.ambiguous, summary.sent], [1, 2])
      const ambiguous = (yield* reportOf("c")).find((r) => r.state === "Ambiguous")!
      const accepted = (yield* simulator.sent).find((m) => m.extraInfo?.ref2 === ambiguous.ref)!
      // a status for another message with the same ref (not this row's send) would be Stale once the row has an id;
      // here the row has none yet: the status's message id becomes the row's
      const callback = status(accepted.messageId, "sent", { ref: "user-0", ref2: ambiguous.ref })
      assert.strictEqual(yield* Campaign.recordStatus(callback), "Applied")
      const resolved = (yield* reportOf("c")).find((r) => r.ref === ambiguous.ref)!
      assert.deepStrictEqual(
        [resolved.state, resolved.messageId, resolved.delivery, resolved.mayHaveReached],
        ["Sent", accepted.messageId, "sent", true]
      )
      const other = status("wamid.other", "read", { ref2: ambiguous.ref })
      assert.strictEqual(yield* Campaign.recordStatus(other), "Stale")
      assert.strictEqual((yield* Campaign.status("c")).states.Ambiguous, 0)
    })))

  it.live("the simulator's callbacks, recorded as they come, give the delivery funnel", () =>
    Effect.gen(function*() {
      const ledger = yield* Ledger.Ledger
      const deliver: KaleyraSimulator.DeliverCallback = (_url, body) =>
        Campaign.recordCallback(body).pipe(Effect.provideService(Ledger.Ledger, ledger))
      yield* Effect.gen(function*() {
        const simulator = yield* KaleyraSimulator.KaleyraSimulator
        yield* Campaign.create({
          name: "c",
          rows: [...rows(5), { input: { to: "+919876500009", type: "image", image: { link: "https://e.x/404" } } }]
        })
        yield* Campaign.run({ name: "c", ...unthrottled })
        yield* simulator.awaitCallbacks
        assert.strictEqual(yield* simulator.callbackFailures, 0)
        const counts = (yield* Campaign.status("c")).delivery
        assert.deepStrictEqual(counts, { none: 0, sent: 0, delivered: 0, read: 5, failed: 1 })
      }).pipe(
        Effect.provide(KaleyraTest.layer({ callbacks: { deliver, delays: { sent: 5, delivered: 10, read: 15 } } }))
      )
    }).pipe(Effect.provide(layer)))
})
