import { KaleyraCallback, type KaleyraEvent, KaleyraEvents } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Logger, Option, Queue, TestClock } from "effect"

/** A v2 envelope carrying several statuses (Meta batches them in one `statuses` array). */
const envelope = (statuses: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) => ({
  meta_object: {
    field: "messages",
    value: { messaging_product: "whatsapp", statuses }
  },
  extra_info: { ref: "campaign-7" },
  ...extra
})

const entry = (id: string, status: string, timestamp = "1722834665") => ({
  id,
  status,
  timestamp,
  recipient_id: "919407000000"
})

/** A flat status callback. */
const flat = (id: string, status: string, timestamp?: number) => ({
  id,
  status,
  mobile: "919407000000",
  ...(timestamp !== undefined ? { timestamp: String(timestamp) } : {})
})

/** Runs `effect` with a logger that keeps every message logged at Warning or above. */
const withWarnings = <A, E, R>(effect: (warnings: Array<string>) => Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const warnings: Array<string> = []
    const logger = Logger.make(({ annotations, logLevel, message }) => {
      if (logLevel._tag !== "Warning" && logLevel._tag !== "Error") return
      const text = Array.isArray(message) ? message.join(" ") : String(message)
      warnings.push(`${text} ${JSON.stringify(Object.fromEntries(annotations))}`)
    })
    return Effect.provide(effect(warnings), Logger.add(logger))
  })

const statusesOf = (events: ReadonlyArray<KaleyraEvent>) =>
  events.map((event) => event._tag === "MessageStatusUpdated" ? `${event.messageId} ${event.status}` : event._tag)

describe("a callback's entries are decoded one by one", () => {
  it("an unknown status word drops only its own entry", () => {
    const body = envelope([entry("m-a", "sent"), entry("m-b", "deleted"), entry("m-c", "read")])
    const decoded = KaleyraCallback.decodeCallbacks(body)
    assert.isTrue(Either.isRight(decoded), JSON.stringify(decoded))
    assert.deepStrictEqual(statusesOf(Either.getOrThrow(decoded)), ["m-a sent", "m-c read"])
  })

  it("a malformed entry (no id, not an object) drops only itself; so does a malformed incoming message", () => {
    const body = envelope([{ status: "sent" }, 42, entry("m-c", "delivered")])
    assert.deepStrictEqual(statusesOf(Either.getOrThrow(KaleyraCallback.decodeCallbacks(body))), ["m-c delivered"])
    const incoming = {
      meta_object: {
        field: "messages",
        value: {
          messages: [
            { from: "919407000000", type: "text", text: { body: "hi" } },
            { type: "text" },
            null
          ]
        }
      }
    }
    assert.deepStrictEqual(statusesOf(Either.getOrThrow(KaleyraCallback.decodeCallbacks(incoming))), [
      "IncomingMessage"
    ])
  })

  it("a callback of which no entry decodes is still a CallbackDecodeError that says why", () => {
    const decoded = KaleyraCallback.decodeCallbacks(envelope([entry("m-b", "deleted")]))
    assert.isTrue(Either.isLeft(decoded))
    if (Either.isLeft(decoded)) assert.include(decoded.left.reason, `unknown status "deleted"`)
  })

  it.effect("ingestPayload publishes the known entries and logs the unknown one at Warning", () =>
    withWarnings((warnings) =>
      Effect.gen(function*() {
        const events = yield* KaleyraEvents
        const queue = yield* events.subscribe
        const body = envelope([entry("m-a", "sent"), entry("m-b", "deleted"), entry("m-c", "read")])
        const ingested = yield* events.ingestPayload(body)
        assert.deepStrictEqual(statusesOf(ingested), ["m-a sent", "m-c read"])
        assert.deepStrictEqual(statusesOf(Chunk.toReadonlyArray(yield* Queue.takeAll(queue))), [
          "m-a sent",
          "m-c read"
        ])
        assert.strictEqual(warnings.length, 1, warnings.join("\n"))
        assert.include(warnings[0], "deleted")
        assert.include(warnings[0], "statuses[1]")
      }).pipe(Effect.scoped, Effect.provide(KaleyraEvents.layer()))
    ))
})

describe("status order past the tracker's memory", () => {
  it.scoped("a late status of a forgotten message says its order could not be checked", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10_000_000) // 10 000 s: the callbacks below arrived after they were made
      const events = yield* KaleyraEvents
      const queue = yield* events.subscribe
      const published = Effect.map(Queue.take(queue), (event) => event._tag === "MessageStatusUpdated" && event)
      yield* events.ingestPayload(flat("m-0", "read", 1_000))
      // two newer messages push m-0 out of a tracker of 2
      yield* events.ingestPayload(flat("m-1", "sent", 2_000))
      yield* events.ingestPayload(flat("m-2", "sent", 2_001))
      yield* Queue.takeAll(queue)
      assert.isTrue(Option.isNone(yield* events.status("m-0")))

      yield* events.ingestPayload(flat("m-0", "sent", 900))
      const late = yield* published
      assert.strictEqual(late && `${late.status} ${late.orderUnchecked}`, "sent true")
      assert.strictEqual(Option.getOrThrow(yield* events.status("m-0")).orderUnchecked, true)

      // newer than anything forgotten: its order is known (nothing forgotten can be later)
      yield* events.ingestPayload(flat("m-3", "sent", 3_000))
      const fresh = yield* published
      assert.strictEqual(fresh && `${fresh.messageId} ${fresh.orderUnchecked}`, "m-3 undefined")
      // no timestamp: it cannot be placed after what was forgotten
      yield* events.ingestPayload(flat("m-4", "delivered"))
      const undated = yield* published
      assert.strictEqual(undated && `${undated.messageId} ${undated.orderUnchecked}`, "m-4 true")
      // failed ranks highest: it can never be a step backwards
      yield* events.ingestPayload(flat("m-5", "failed"))
      const failed = yield* published
      assert.strictEqual(failed && `${failed.messageId} ${failed.orderUnchecked}`, "m-5 undefined")
    }).pipe(Effect.provide(KaleyraEvents.layer({ trackedMessages: 2 }))))

  it.scoped("a timestamp far past the arrival time cannot flag every later status", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10_000_000)
      const events = yield* KaleyraEvents
      const queue = yield* events.subscribe
      // milliseconds given as seconds: year 56 000
      yield* events.ingestPayload(flat("m-0", "read", 1_722_834_665_000))
      yield* events.ingestPayload(flat("m-1", "sent", 9_000))
      yield* events.ingestPayload(flat("m-2", "sent", 9_001)) // m-0 forgotten
      yield* Queue.takeAll(queue)
      yield* TestClock.adjust("10 minutes")
      yield* events.ingestPayload(flat("m-3", "sent", 10_500))
      const fresh = yield* Queue.take(queue)
      assert.strictEqual(
        fresh._tag === "MessageStatusUpdated" && `${fresh.messageId} ${fresh.orderUnchecked}`,
        "m-3 undefined"
      )
    }).pipe(Effect.provide(KaleyraEvents.layer({ trackedMessages: 2 }))))

  it.effect("before anything is forgotten, no event is flagged; a remembered message never goes backwards", () =>
    Effect.gen(function*() {
      const events = yield* KaleyraEvents
      yield* events.ingestPayload(flat("m-0", "read"))
      assert.strictEqual(Option.getOrThrow(yield* events.status("m-0")).orderUnchecked, undefined)
      assert.isFalse(
        yield* events.ingest(Either.getOrThrow(KaleyraCallback.decodeCallbacks(flat("m-0", "sent", 1)))[0])
      )
      assert.strictEqual(Option.getOrThrow(yield* events.status("m-0")).status, "read")
    }).pipe(Effect.provide(KaleyraEvents.layer({ trackedMessages: 2 }))))
})

describe("one phone number format in results and events", () => {
  const first = (body: unknown) => Either.getOrThrow(KaleyraCallback.decodeCallbacks(body))[0]

  it("a status event's recipient is E.164 with +, as in send results; the raw value is kept", () => {
    const v2 = first(envelope([entry("m-a", "sent")]))
    assert.deepStrictEqual(
      v2._tag === "MessageStatusUpdated" && [v2.recipient, v2.rawRecipient],
      ["+919407000000", "919407000000"]
    )
    const spaced = first({ id: "m-b", status: "read", mobile: "+91 94070-00000" })
    assert.deepStrictEqual(
      spaced._tag === "MessageStatusUpdated" && [spaced.recipient, spaced.rawRecipient],
      ["+919407000000", "+91 94070-00000"]
    )
    // not a phone number: kept as it came
    const masked = first({ id: "m-c", status: "read", mobile: "919407XXXXXX" })
    assert.deepStrictEqual(
      masked._tag === "MessageStatusUpdated" && [masked.recipient, masked.rawRecipient],
      ["919407XXXXXX", "919407XXXXXX"]
    )
  })

  it("an incoming message's sender is E.164 with +; the raw value is kept", () => {
    const v2 = first({
      meta_object: {
        field: "messages",
        value: { messages: [{ from: "14155550123", type: "text", text: { body: "hi" } }] }
      }
    })
    assert.deepStrictEqual(v2._tag === "IncomingMessage" && [v2.from, v2.rawFrom], ["+14155550123", "14155550123"])
    const flatIncoming = first({ from: "919407000000", body: "hi" })
    assert.deepStrictEqual(
      flatIncoming._tag === "IncomingMessage" && [flatIncoming.from, flatIncoming.rawFrom],
      ["+919407000000", "919407000000"]
    )
  })
})
