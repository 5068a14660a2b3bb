import {
  awaitStatus,
  type KaleyraEvent,
  KaleyraEvents,
  MediaMessage,
  sendMedia,
  type SendMediaInput,
  uploadMedia
} from "@effect-kaleyra/core"
import { KaleyraSimulator, KaleyraTest } from "@effect-kaleyra/testing"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Option, Queue, Scope, TestClock } from "effect"
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

const TO = "+919876543210"

const image: SendMediaInput = {
  to: TO,
  type: "image",
  image: { link: "https://example.com/a.png", caption: "Hello" },
  extraInfo: { ref: "customer1", ref1: "marketing", ref2: "dictionary", waSource: "api" }
}

const statusesOf = (events: Chunk.Chunk<KaleyraEvent>) =>
  Chunk.toReadonlyArray(events).map((event) =>
    event._tag === "MessageStatusUpdated" ? `${event.status} ${event.recipient}` : event._tag
  )

describe("simulator status callbacks, in memory (KaleyraTest.layer)", () => {
  it.scoped("send, adjust the TestClock: sent at 50 ms, delivered at 100 ms, read at 150 ms", () =>
    Effect.gen(function*() {
      const events = yield* KaleyraEvents
      const queue = yield* events.subscribe
      const { messageId } = yield* sendMedia(image)
      const waiting = yield* Effect.fork(awaitStatus(messageId, "read"))
      yield* TestClock.adjust("49 millis")
      assert.deepStrictEqual(statusesOf(yield* Queue.takeAll(queue)), ["SendAccepted"])
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(statusesOf(yield* Queue.takeAll(queue)), [`sent ${TO}`])
      yield* TestClock.adjust("50 millis")
      assert.deepStrictEqual(statusesOf(yield* Queue.takeAll(queue)), [`delivered ${TO}`])
      yield* TestClock.adjust("50 millis")
      const read = yield* Fiber.join(waiting)
      assert.strictEqual(read.status, "read")
      assert.strictEqual(read.messageId, messageId)
      assert.deepStrictEqual(read.refs, { ref: "customer1", ref1: "marketing", ref2: "dictionary" })
      assert.strictEqual(read.timestamp, 0, "the TestClock's time, in seconds")
      assert.deepStrictEqual(statusesOf(yield* Queue.takeAll(queue)), [`read ${TO}`])
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      assert.strictEqual(yield* simulator.callbacksDelivered, 3)
      assert.strictEqual(yield* simulator.callbackFailures, 0)
    }).pipe(Effect.provide(KaleyraTest.layer())))

  it.effect("one callback per recipient and status", () =>
    Effect.gen(function*() {
      const { messageId } = yield* sendMedia({ ...image, to: [TO, "+14155550123"] })
      yield* TestClock.adjust("1 second")
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      assert.strictEqual(yield* simulator.callbacksDelivered, 6)
      const status = yield* Effect.flatMap(KaleyraEvents, (events) => events.status(messageId))
      assert.strictEqual(Option.getOrThrow(status).status, "read")
    }).pipe(Effect.provide(KaleyraTest.layer())))

  it.effect("an unknown media id: sent, then failed with 131053", () =>
    Effect.gen(function*() {
      const events = yield* KaleyraEvents
      const { messageId } = yield* sendMedia(MediaMessage.audio({ to: TO, id: "1013859600285441" }))
      const waiting = yield* Effect.fork(Effect.flip(awaitStatus(messageId, "delivered")))
      yield* TestClock.adjust("50 millis")
      assert.strictEqual(Option.getOrThrow(yield* events.status(messageId)).status, "sent")
      yield* TestClock.adjust("50 millis")
      const error = yield* Fiber.join(waiting)
      assert.strictEqual(error._tag, "MessageFailed")
      if (error._tag !== "MessageFailed") return
      assert.deepStrictEqual(error.errors[0], {
        code: 131053,
        title: "Media upload error",
        message: "Media upload error",
        details: "Media id 1013859600285441 was not found: it was never uploaded"
      })
      // Failed is final: nothing follows.
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.callbacksDelivered), 2)
    }).pipe(Effect.provide(KaleyraTest.layer())))

  it.effect("a media id uploaded to this simulator is known; a link ending in /404 fails", () =>
    Effect.gen(function*() {
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82])
      const { id } = yield* uploadMedia({ data: png, filename: "photo.png" })
      assert.strictEqual(id, KaleyraSimulator.mediaId(1))
      const known = yield* sendMedia(MediaMessage.image({ to: TO, id }))
      const notYet = yield* sendMedia(MediaMessage.image({ to: TO, id: KaleyraSimulator.mediaId(2) }))
      const missing = yield* sendMedia(MediaMessage.document({ to: TO, link: "https://example.com/files/404" }))
      const withQuery = yield* sendMedia(MediaMessage.video({ to: TO, link: "https://example.com/404?x=1" }))
      const fine = yield* sendMedia(MediaMessage.video({ to: TO, link: "https://example.com/4040" }))
      yield* TestClock.adjust("1 second")
      const events = yield* KaleyraEvents
      const statusOf = (messageId: string) => Effect.map(events.status(messageId), (s) => Option.getOrThrow(s).status)
      assert.strictEqual(yield* statusOf(known.messageId), "read")
      assert.strictEqual(yield* statusOf(notYet.messageId), "failed")
      assert.strictEqual(yield* statusOf(missing.messageId), "failed")
      assert.strictEqual(yield* statusOf(withQuery.messageId), "failed")
      assert.strictEqual(yield* statusOf(fine.messageId), "read")
      const failed = Option.getOrThrow(yield* events.status(missing.messageId))
      assert.include(failed.errors[0]?.details, "http code 404")
    }).pipe(Effect.provide(KaleyraTest.layer())))

  it.effect("a garbled answer: the send fails, yet Kaleyra accepted it and the callbacks tell", () =>
    Effect.gen(function*() {
      yield* KaleyraTest.failNext("invalid-json")
      const error = yield* Effect.flip(sendMedia(image))
      assert.strictEqual(error._tag, "UnexpectedResponse")
      const [sent] = yield* KaleyraTest.sent
      const waiting = yield* Effect.fork(awaitStatus(sent.messageId, "delivered"))
      yield* TestClock.adjust("100 millis")
      assert.strictEqual((yield* Fiber.join(waiting)).status, "delivered")
    }).pipe(Effect.provide(KaleyraTest.layer({ maxRetries: 0 }))))

  it.effect("custom delays", () =>
    Effect.gen(function*() {
      const { messageId } = yield* sendMedia(image)
      const waiting = yield* Effect.fork(awaitStatus(messageId, "read", { timeout: "1 hour" }))
      yield* TestClock.adjust("59 seconds")
      const events = yield* KaleyraEvents
      assert.strictEqual(Option.getOrThrow(yield* events.status(messageId)).status, "delivered")
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(waiting)).status, "read")
    }).pipe(Effect.provide(
      KaleyraTest.layer({ callbacks: { delays: { sent: "1 second", delivered: "2 seconds", read: "1 minute" } } })
    )))

  it.effect("callbacks: false sends none", () =>
    Effect.gen(function*() {
      const { messageId } = yield* sendMedia(image)
      const waiting = yield* Effect.fork(Effect.flip(awaitStatus(messageId, "sent", { timeout: "10 seconds" })))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(waiting)
      assert.strictEqual(error._tag, "AwaitStatusTimeout")
      assert.strictEqual(yield* Effect.flatMap(KaleyraSimulator.KaleyraSimulator, (s) => s.callbacksDelivered), 0)
    }).pipe(Effect.provide(KaleyraTest.layer({ callbacks: false }))))

  it.effect("a KaleyraEvents already in context is the one used", () =>
    Effect.gen(function*() {
      const outer = yield* KaleyraEvents
      const { messageId } = yield* sendMedia(image)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(Option.getOrThrow(yield* outer.status(messageId)).status, "read")
    }).pipe(
      Effect.provide(KaleyraTest.layer()),
      Effect.provide(KaleyraEvents.layer())
    ))

  it.effect("reset cancels the pending callbacks", () =>
    Effect.gen(function*() {
      yield* sendMedia(image)
      yield* TestClock.adjust("50 millis")
      const simulator = yield* KaleyraSimulator.KaleyraSimulator
      assert.strictEqual(yield* simulator.callbacksDelivered, 1)
      yield* simulator.reset
      assert.strictEqual(yield* simulator.callbacksDelivered, 0)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* simulator.callbacksDelivered, 0)
    }).pipe(Effect.provide(KaleyraTest.layer())))
})

describe("simulator status callbacks: makeScoped, deliver, failures", () => {
  const wire = (id = "1") =>
    new TextEncoder().encode(JSON.stringify({
      messaging_object: {
        messaging_product: "whatsapp",
        to: TO,
        type: "image",
        image: { link: `https://example.com/${id}.png` }
      },
      extra_info: { ref: "r-1" }
    }))
  const request = (id?: string): KaleyraSimulator.SimRequest => ({
    method: "POST",
    path: "/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/messages",
    headers: { "content-type": "application/json", "api-key": "sim-api-key" },
    body: wire(id)
  })

  it.effect("deliver gets the URL, the v2 body and the secret header; the scope's end cancels what is pending", () =>
    Effect.gen(function*() {
      const seen: Array<{ url: string; body: unknown; headers: Readonly<Record<string, string>> }> = []
      const scope = yield* Scope.make()
      const simulator = yield* Scope.extend(
        KaleyraSimulator.makeScoped({
          callbacks: {
            url: "https://hooks.example/kaleyra",
            secret: "s3cret",
            secretHeader: "X-Token",
            deliver: (url, body, headers) => Effect.sync(() => seen.push({ url, body, headers }))
          }
        }),
        scope
      )
      const response = yield* simulator.handle(request())
      assert.strictEqual(response.status, 202)
      const [sent] = yield* simulator.sent
      yield* TestClock.adjust("100 millis")
      assert.strictEqual(seen.length, 2)
      assert.strictEqual(seen[0].url, "https://hooks.example/kaleyra")
      assert.deepStrictEqual(seen[0].headers, { "content-type": "application/json", "x-token": "s3cret" })
      assert.deepStrictEqual(
        seen[1].body,
        KaleyraSimulator.statusCallback(sent, "delivered", { recipient: TO, timestamp: 0 })
      )
      const body = seen[1].body as { message_id: string; extra_info: { ref: string; message_id: string } }
      assert.strictEqual(body.message_id, sent.messageId)
      assert.strictEqual(body.extra_info.ref, "r-1")
      // A second message, then the scope closes before the first one's read and any of the second's are due.
      yield* simulator.handle(request("2"))
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(seen.length, 2, "the pending callbacks were cancelled")
      assert.strictEqual((yield* simulator.handle(request("3"))).status, 202, "the simulator still answers")
      yield* TestClock.adjust("1 second")
      assert.strictEqual(seen.length, 2, "nothing is scheduled after the scope closed")
    }))

  it.scoped("failed deliveries (errors, defects, throws) are counted and never hurt the simulator", () =>
    Effect.gen(function*() {
      let calls = 0
      const simulator = yield* KaleyraSimulator.makeScoped({
        callbacks: {
          url: "memory://",
          deliver: () => {
            calls++
            if (calls % 3 === 1) return Effect.fail("nope")
            if (calls % 3 === 2) return Effect.die(new Error("boom"))
            throw new Error("thrown")
          }
        }
      })
      for (let i = 0; i < 4; i++) assert.strictEqual((yield* simulator.handle(request(String(i)))).status, 202)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* simulator.callbackFailures, 12)
      assert.strictEqual(yield* simulator.callbacksDelivered, 0)
      assert.strictEqual((yield* simulator.handle(request("5"))).status, 202)
    }))

  it.live("by default, a POST with fetch to the URL; failures (a 401, a closed port) are counted", () =>
    Effect.gen(function*() {
      const received: Array<{ headers: IncomingMessage["headers"]; body: string }> = []
      const server = yield* Effect.acquireRelease(
        Effect.async<ReturnType<typeof createServer>>((resume) => {
          const s = createServer((req, res) => {
            const chunks: Array<Buffer> = []
            req.on("data", (c: Buffer) => chunks.push(c))
            req.on("end", () => {
              received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") })
              res.writeHead(req.headers["x-kaleyra-secret"] === "right" ? 200 : 401).end()
            })
          })
          s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
        }),
        (s) =>
          Effect.async<void>((resume) => {
            s.close(() => resume(Effect.void))
          })
      )
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`
      const fast = { sent: "1 millis", delivered: "2 millis", read: "3 millis" } as const
      const good = yield* KaleyraSimulator.makeScoped({ callbacks: { url, secret: "right", delays: fast } })
      yield* good.handle(request())
      yield* good.awaitCallbacks
      assert.strictEqual(yield* good.callbacksDelivered, 3)
      assert.strictEqual(received.length, 3)
      assert.strictEqual(received[0].headers["content-type"], "application/json")
      const [sent] = yield* good.sent
      assert.deepStrictEqual(JSON.parse(received[2].body).status, "read")
      assert.strictEqual(JSON.parse(received[2].body).message_id, sent.messageId)

      const refused = yield* KaleyraSimulator.makeScoped({ callbacks: { url, secret: "wrong", delays: fast } })
      yield* refused.handle(request())
      yield* refused.awaitCallbacks
      assert.strictEqual(yield* refused.callbackFailures, 3)

      const closed = yield* KaleyraSimulator.makeScoped({
        callbacks: { url: "http://127.0.0.1:1/cb", delays: fast }
      })
      yield* closed.handle(request())
      yield* closed.awaitCallbacks
      assert.strictEqual(yield* closed.callbackFailures, 3)
    }).pipe(Effect.scoped))
})

/** `global.gc`, exposed at run time when node was not started with `--expose-gc`. */
const exposeGc = (): (() => void) | undefined => {
  const existing = (globalThis as { gc?: () => void }).gc
  if (existing !== undefined) return existing
  try {
    setFlagsFromString("--expose-gc")
    return runInNewContext("gc") as () => void
  } catch {
    return undefined
  }
}

describe.sequential("memory", () => {
  it.live(
    "10 000 sends with nobody subscribed: the heap does not grow with the number of sends",
    () =>
      Effect.gen(function*() {
        const gc = exposeGc()
        const message = MediaMessage.image({ to: TO, link: "https://example.com/a.png", extraInfo: { ref: "memory" } })
        const sends = (n: number) =>
          Effect.forEach(Array.from({ length: n }), () => sendMedia(message), { discard: true })
        const heap = Effect.sync(() => {
          gc?.()
          gc?.()
          return process.memoryUsage().heapUsed
        })
        yield* sends(2_000)
        const before = yield* heap
        yield* sends(10_000)
        const after = yield* heap
        const simulator = yield* KaleyraSimulator.KaleyraSimulator
        assert.strictEqual(yield* simulator.balance, 1_000_000 - 12_000)
        const growth = after - before
        // With gc: a few MB at most. Without it, garbage is still on the heap: a generous bound.
        assert.isBelow(growth, gc !== undefined ? 4 * 1024 * 1024 : 64 * 1024 * 1024, `grew ${growth} bytes`)
      }).pipe(Effect.provide(KaleyraTest.layer({ callbacks: false, historyLimit: 500 }))),
    60_000
  )
})
