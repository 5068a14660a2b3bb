import { KaleyraEvents, MediaMessage, MessageFailed, sendMedia } from "@effect-kaleyra/core"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as CallbackReceiver from "../src/CallbackReceiver.js"
import { KaleyraNode } from "../src/index.js"
import { API_KEY } from "./utils.js"

const SECRET = "templates-callback-secret"
const TO = "+919876543210"
const link = "https://example.com/box.png"

describe("templates and the 24-hour window, over sockets (simulator server, Node client, callback receiver)", () => {
  it.scopedLive("free-form outside the window fails with 131047; the same media as a template header is delivered", () =>
    Effect.gen(function*() {
      const events = yield* KaleyraEvents
      const receiver = yield* CallbackReceiver.serve({ secret: Redacted.make(SECRET) })
      const { simulator, url } = yield* SimulatorServer.serve({
        simulator: {
          apiKey: API_KEY,
          window: true,
          templates: [
            { name: "order_shipped", language: "en_US", header: "image", bodyParameters: 2 },
            { name: "summer_sale", language: "en_US", status: "PAUSED" }
          ],
          callbacks: { url: receiver.url, secret: SECRET, delays: { sent: 5, delivered: 10, read: 15 } }
        }
      })
      const client = KaleyraNode.layer({
        sid: simulator.options.sid,
        apiKey: Redacted.make(API_KEY),
        senderNumber: simulator.options.senderNumbers[0],
        baseUrl: url
      })
      const send = (input: MediaMessage.SendMediaInput) => sendMedia(input).pipe(Effect.provide(client))
      const finalStatus = (messageId: string) =>
        Effect.flip(events.awaitStatus(messageId, "read", { timeout: "5 seconds" }))

      const freeForm = yield* send(MediaMessage.image({ to: TO, link }))
      assert.strictEqual(freeForm.status, 202)
      const failed = yield* finalStatus(freeForm.messageId)
      assert.instanceOf(failed, MessageFailed)
      const status = yield* Effect.map(
        events.status(freeForm.messageId),
        (s) => s._tag === "Some" ? s.value : undefined
      )
      assert.strictEqual(status?.failureReason?._tag, "OutsideWindow")
      assert.strictEqual(status?.failureReason?.code, 131047)

      const template = yield* send(MediaMessage.template({
        to: TO,
        name: "order_shipped",
        language: "en_US",
        header: { image: { link } },
        body: ["Ada", "#4711"]
      }))
      const read = yield* events.awaitStatus(template.messageId, "read", { timeout: "5 seconds" })
      assert.strictEqual(read.status, "read")

      const paused = yield* send(MediaMessage.template({ to: TO, name: "summer_sale", language: "en_US" }))
      assert.instanceOf(yield* finalStatus(paused.messageId), MessageFailed)
      const pausedStatus = yield* Effect.map(
        events.status(paused.messageId),
        (s) => s._tag === "Some" ? s.value : undefined
      )
      assert.strictEqual(pausedStatus?.failureReason?._tag, "TemplatePaused")

      // once the recipient writes, free-form media is delivered
      yield* simulator.conversations.receiveFrom(TO)
      const inside = yield* send(MediaMessage.image({ to: TO, link }))
      assert.strictEqual((yield* events.awaitStatus(inside.messageId, "read", { timeout: "5 seconds" })).status, "read")
    }).pipe(Effect.provide(KaleyraEvents.layer())))
})
