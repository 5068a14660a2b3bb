import { KaleyraClient, MediaMessage, sendMedia } from "@effect-kaleyra/core"
import { KaleyraSimulator } from "@effect-kaleyra/testing/KaleyraSimulator"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import { KaleyraNode } from "../src/index.js"
import { rawRequest } from "./rawClient.js"
import { API_KEY, clientOptions, SENDER, SID } from "./utils.js"

const post = (url: string, path: string, body: string, headers: Record<string, string>) =>
  rawRequest(`${url}${path}`, { body, headers })

const wire = JSON.stringify({
  messaging_object: {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: "+919876543210",
    type: "image",
    image: { link: "https://example.com/a.png" }
  }
})

describe("SimulatorServer", () => {
  it.scopedLive("serves on 127.0.0.1 and an ephemeral port, with exact bodies and content-length", () =>
    Effect.gen(function*() {
      const { port, simulator, url } = yield* SimulatorServer.serve({ simulator: { apiKey: API_KEY } })
      assert.isAbove(port, 0)
      assert.strictEqual(url, `http://127.0.0.1:${port}`)
      const ok = yield* post(url, `/v2/${SID}/whatsapp/${SENDER}/messages`, wire, {
        "content-type": "application/json",
        "api-key": API_KEY
      })
      assert.strictEqual(ok.status, 202)
      assert.strictEqual(ok.headers["content-type"], "application/json")
      assert.strictEqual(ok.headers["content-length"], String(Buffer.byteLength(ok.body)))
      const sent = yield* simulator.sent
      assert.strictEqual(
        ok.body,
        `{"code":"WA202","message":"Request Accepted","data":{"message_id":"${sent[0].messageId}"},"error":{}}`
      )
      const missing = yield* post(url, "/nope", "", {})
      assert.strictEqual(missing.status, 404)
    }))

  it.scopedLive("a taken port is a ServeError with its code", () =>
    Effect.gen(function*() {
      const first = yield* SimulatorServer.serve()
      const error = yield* Effect.flip(SimulatorServer.serve({ port: first.port }))
      assert.strictEqual(error._tag, "ServeError")
      assert.strictEqual(error.code, "EADDRINUSE")
      assert.include(error.message, String(first.port))
      const invalid = yield* Effect.flip(SimulatorServer.serve({ port: 70_000 }))
      assert.strictEqual(invalid._tag, "ServeError")
    }))

  it.scopedLive("closing the scope closes the server and its idle keep-alive sockets", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { url } = yield* Scope.extend(SimulatorServer.serve({ simulator: { apiKey: API_KEY } }), scope)
      // The client outlives the server and keeps its socket alive: the server must close it.
      const client = yield* Layer.build(KaleyraNode.layer(clientOptions(url, { maxRetries: 0 })))
      yield* Effect.provide(sendMedia(MediaMessage.audio({ to: "+919876543210", id: "123" })), client)
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      assert.isBelow(Date.now() - started, 900)
      const refused = yield* Effect.flip(post(url, "/", "", {}))
      assert.strictEqual((refused as { code?: string }).code, "ECONNREFUSED")
      const error = yield* Effect.flip(
        Effect.provide(sendMedia(MediaMessage.audio({ to: "+919876543210", id: "123" })), client)
      )
      assert.strictEqual(error._tag, "TransportError")
    }))

  it.scopedLive("layer provides the server and the simulator; layerClient adds a client pointed at it", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(
        SimulatorServer.layerClient(KaleyraNode.layer, { simulator: { dailyLimit: 1 } })
      )
      const program = Effect.gen(function*() {
        const server = yield* SimulatorServer.SimulatorServer
        const simulator = yield* KaleyraSimulator
        assert.strictEqual(server.simulator, simulator)
        const client = yield* KaleyraClient
        assert.strictEqual(client.config.baseUrl, server.url)
        yield* sendMedia(MediaMessage.sticker({ to: "+919876543210", link: "https://example.com/s.webp" }))
        const error = yield* Effect.flip(
          sendMedia(MediaMessage.sticker({ to: "+919876543210", link: "https://example.com/s.webp" }))
        )
        assert.strictEqual(error._tag, "DailyLimitReached")
      })
      yield* Effect.provide(program, context)
    }))
})
