import { MediaMessage, sendMedia, type SendMediaError, uploadMedia } from "@effect-kaleyra/core"
import type { FailCode } from "@effect-kaleyra/testing/KaleyraSimulator"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigError, ConfigProvider, Duration, Effect, Exit, Fiber, Inspectable, Layer, Redacted } from "effect"
import { createHash } from "node:crypto"
import { leakIn, observed } from "../../core/test/leaks.js"
import { KaleyraNode } from "../src/index.js"
import { closedPort, rawServer, waitUntil } from "./rawServer.js"
import { API_KEY, buildClient, clientOptions, makeCounter, SENDER, SID, stack } from "./utils.js"

const TO = "+919876543210"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

describe("KaleyraNode over a loopback socket", () => {
  describe("successful sends", () => {
    const messages = [
      MediaMessage.image({ to: TO, link: "https://example.com/a.png", caption: "Hello" }),
      MediaMessage.audio({ to: TO, id: "1013859600285441" }),
      MediaMessage.document({ to: TO, id: "1376223850470843", filename: "invoice.pdf", caption: "Your invoice" }),
      MediaMessage.sticker({ to: TO, link: "https://example.com/s.webp" }),
      MediaMessage.video({ to: TO, link: "https://example.com/v.mp4", caption: "Watch" })
    ]
    for (const message of messages) {
      it.scopedLive(`${message.type}`, () =>
        Effect.gen(function*() {
          const { run, simulator } = yield* stack()
          const result = yield* run(sendMedia(message))
          const sent = yield* simulator.sent
          assert.strictEqual(sent.length, 1)
          assert.strictEqual(result.messageId, sent[0].messageId)
          assert.strictEqual(result.status, 202)
          assert.strictEqual(result.attempts, 1)
          assert.strictEqual(sent[0].type, message.type)
          assert.deepStrictEqual(sent[0].recipients, [TO])
          assert.strictEqual(sent[0].senderNumber, SENDER)
          const requests = yield* simulator.requests
          assert.strictEqual(requests[0].path, `/v2/${SID}/whatsapp/${SENDER}/messages`)
          assert.strictEqual(requests[0].headers["api-key"], "<redacted>")
        }))
    }

    it.scopedLive("one message to several recipients, with extra info", () =>
      Effect.gen(function*() {
        const { run, simulator } = yield* stack()
        const to = ["+919876543210", "+14155550123", "+447700900123"] as const
        const result = yield* run(sendMedia({
          to,
          type: "image",
          image: { link: "https://example.com/a.png" },
          extraInfo: { ref: "customer1", ref1: "marketing", ref2: "dictionary", waSource: "api" }
        }))
        assert.deepStrictEqual(result.recipients, to)
        const sent = yield* simulator.sent
        assert.deepStrictEqual(sent[0].recipients, to)
        assert.deepStrictEqual(sent[0].extraInfo, {
          ref: "customer1",
          ref1: "marketing",
          ref2: "dictionary",
          waSource: "api"
        })
      }))

    it.scopedLive("many concurrent sends over the keep-alive agent", () =>
      Effect.gen(function*() {
        const { run, simulator } = yield* stack()
        const results = yield* run(Effect.forEach(
          Array.from({ length: 200 }, (_, i) => i),
          (i) => sendMedia(MediaMessage.image({ to: TO, link: `https://example.com/${i}.png` })),
          { concurrency: 64 }
        ))
        assert.strictEqual(new Set(results.map((r) => r.messageId)).size, 200)
        assert.strictEqual((yield* simulator.sent).length, 200)
      }))
  })

  describe("every seed failure maps to its tag", () => {
    const cases: ReadonlyArray<readonly [FailCode, SendMediaError["_tag"], number]> = [
      ["RBC001", "IncorrectCredentials", 401],
      ["WA401", "PhoneNumberNotFound", 401],
      ["WA400", "IncorrectPayload", 400],
      ["E110", "LowBalance", 400],
      ["WA-401-account", "ApiNotAvailable", 401],
      ["WA-401-phone_number", "PhoneNumberVersionMismatch", 401],
      ["WAV2101", "DailyLimitReached", 403],
      ["WA500", "KaleyraServerError", 500],
      ["429", "RateLimited", 429],
      ["503-html", "UnexpectedResponse", 503]
    ]
    for (const [code, tag, status] of cases) {
      it.scopedLive(`${code} -> ${tag}`, () =>
        Effect.gen(function*() {
          const { counted, run, simulator } = yield* stack({ client: { maxRetries: 0 } })
          yield* simulator.failNext(code, { retryAfter: 7 })
          const error = yield* Effect.flip(run(sendMedia(MediaMessage.image({ to: TO, link: "https://x.io/a.png" }))))
          assert.strictEqual(error._tag, tag)
          assert.strictEqual((error as { status?: number }).status, status)
          assert.strictEqual(counted.attempts, 1)
          if (error._tag === "RateLimited") {
            assert.deepStrictEqual(error.retryAfter, Duration.seconds(7))
          }
          if (error._tag === "LowBalance") {
            assert.strictEqual(error.code, "E110")
            assert.strictEqual(error.message, "Please check your balance, You have a low balance!")
            assert.deepStrictEqual(Object.keys(error.error), ["balance"])
          }
          if (error._tag === "UnexpectedResponse") {
            assert.strictEqual(error.reason, "InvalidJson")
            assert.include(error.excerpt, "503")
          }
        }))
    }

    it.scopedLive("the simulator's own checks: wrong key, unknown sender, no balance", () =>
      Effect.gen(function*() {
        const message = MediaMessage.image({ to: TO, link: "https://x.io/a.png" })
        const wrongKey = yield* stack({ simulator: { apiKey: "another-key" } })
        assert.strictEqual((yield* Effect.flip(wrongKey.run(sendMedia(message))))._tag, "IncorrectCredentials")
        const unknownSender = yield* stack({ simulator: { senderNumbers: ["918888888888"] } })
        assert.strictEqual((yield* Effect.flip(unknownSender.run(sendMedia(message))))._tag, "PhoneNumberNotFound")
        const broke = yield* stack()
        yield* broke.simulator.setBalance(0)
        assert.strictEqual((yield* Effect.flip(broke.run(sendMedia(message))))._tag, "LowBalance")
      }))

    for (const code of ["WA500", "429", "503-html"] as const) {
      it.scopedLive(`${code} is retried, then succeeds`, () =>
        Effect.gen(function*() {
          const { counted, run, simulator } = yield* stack({ client: { maxRetries: 2 } })
          yield* simulator.failNext(code, { times: 2, retryAfter: 0 })
          const result = yield* run(sendMedia(MediaMessage.image({ to: TO, link: "https://x.io/a.png" })))
          assert.strictEqual(result.attempts, 3)
          assert.strictEqual(counted.attempts, 3)
          assert.strictEqual((yield* simulator.requests).length, 3)
          assert.strictEqual((yield* simulator.sent).length, 1)
        }))
    }
  })

  describe("transport faults", () => {
    const message = MediaMessage.image({ to: TO, link: "https://x.io/a.png" })

    it.scopedLive("connection refused: TransportError, did not reach Kaleyra, retried", () =>
      Effect.gen(function*() {
        const port = yield* closedPort
        const counter = makeCounter()
        const context = yield* buildClient(
          clientOptions(`http://127.0.0.1:${port}`, { maxRetries: 2, transformClient: counter.transformClient })
        )
        const error = yield* Effect.flip(Effect.provide(sendMedia(message), context))
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag !== "TransportError") return
        assert.strictEqual(error.reason, "ConnectionRefused")
        assert.isFalse(error.mayHaveReachedKaleyra)
        assert.strictEqual(counter.state.attempts, 3)
      }))

    it.scopedLive("connection refused, then the server comes up: the retry succeeds", () =>
      Effect.gen(function*() {
        const port = yield* closedPort
        const counter = makeCounter()
        const context = yield* buildClient(
          clientOptions(`http://127.0.0.1:${port}`, {
            maxRetries: 5,
            retryBaseDelay: "100 millis",
            transformClient: counter.transformClient
          })
        )
        const fiber = yield* Effect.fork(Effect.provide(sendMedia(message), context))
        yield* waitUntil(() => counter.state.attempts >= 1)
        yield* Effect.sleep("10 millis")
        const { simulator } = yield* SimulatorServer.serve({ port, simulator: { apiKey: API_KEY, sid: SID } })
        const result = yield* Fiber.join(fiber)
        assert.isAtLeast(result.attempts, 2)
        assert.strictEqual((yield* simulator.sent).length, 1)
      }))

    it.scopedLive("a reset after the whole request was read: may have reached Kaleyra, not retried", () =>
      Effect.gen(function*() {
        const server = yield* rawServer((request) => request.socket.destroy())
        const counter = makeCounter()
        const context = yield* buildClient(
          clientOptions(server.url, { maxRetries: 2, transformClient: counter.transformClient })
        )
        const error = yield* Effect.flip(Effect.provide(sendMedia(message), context))
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag !== "TransportError") return
        assert.isTrue(error.mayHaveReachedKaleyra)
        assert.strictEqual(error.reason, "ConnectionReset")
        yield* Effect.sleep("100 millis")
        assert.strictEqual(server.requests.length, 1)
        assert.strictEqual(server.connections.count, 1)
        assert.strictEqual(counter.state.attempts, 1)
        assert.include(server.requests[0].body.toString("utf8"), "\"messaging_object\"")
      }))

    it.scopedLive("no answer within the timeout: TransportError Timeout, not retried", () =>
      Effect.gen(function*() {
        const server = yield* rawServer(() => {
          // never answers
        })
        const counter = makeCounter()
        const context = yield* buildClient(
          clientOptions(server.url, { maxRetries: 2, timeout: "200 millis", transformClient: counter.transformClient })
        )
        const started = Date.now()
        const error = yield* Effect.flip(Effect.provide(sendMedia(message), context))
        assert.isAtLeast(Date.now() - started, 190)
        assert.strictEqual(error._tag, "TransportError")
        if (error._tag !== "TransportError") return
        assert.strictEqual(error.reason, "Timeout")
        assert.isTrue(error.mayHaveReachedKaleyra)
        yield* Effect.sleep("150 millis")
        assert.strictEqual(server.started.count, 1)
        assert.strictEqual(counter.state.attempts, 1)
        // The timed-out request was aborted: its connection is closed.
        yield* waitUntil(() => server.aborted.count === 1)
      }))
  })

  describe("hostile account values cannot change the path", () => {
    const message = MediaMessage.image({ to: TO, link: "https://x.io/a.png" })
    const hostile = ["../../x", "a/b?c#d", "%2e%2e", "..", "x/../../admin", "91999 9999 99/../1", "\r\nHost: evil"]
    for (const value of hostile) {
      for (const field of ["sid", "senderNumber"] as const) {
        it.scopedLive(`${field} = ${JSON.stringify(value)}`, () =>
          Effect.gen(function*() {
            const server = yield* rawServer((_request, response) => {
              response.writeHead(202, { "content-type": "application/json" })
              response.end(`{"code":"WA202","message":"Request Accepted","data":{"message_id":"m1"},"error":{}}`)
            })
            const exit = yield* Effect.exit(buildClient(clientOptions(server.url, { [field]: value })))
            if (Exit.isFailure(exit)) {
              const failure = Cause.failureOption(exit.cause)
              assert.isTrue(failure._tag === "Some" && ConfigError.isConfigError(failure.value))
              return
            }
            yield* Effect.provide(Effect.either(sendMedia(message)), exit.value)
            for (const seen of server.requests) {
              const segments = seen.url.split("/")
              assert.strictEqual(segments.length, 6)
              assert.strictEqual(segments[1], "v2")
              assert.strictEqual(segments[3], "whatsapp")
              assert.strictEqual(segments[5], "messages")
            }
          }))
      }
    }
  })

  describe("the API key never leaks", () => {
    const message = MediaMessage.image({ to: TO, link: "https://x.io/a.png" })
    const printouts = (error: unknown): string =>
      [
        String(error),
        (error as Error).message,
        JSON.stringify(error),
        Inspectable.format(Inspectable.toJSON(error)),
        Cause.pretty(Cause.fail(error)),
        Cause.pretty(Cause.die(error))
      ].join("\n")

    it.scopedLive("in errors from Kaleyra, from the transport and from hostile pages", () =>
      Effect.gen(function*() {
        const errors: Array<unknown> = []
        // Kaleyra-shaped errors.
        const wrongKey = yield* stack({ simulator: { apiKey: "another-key" }, client: { maxRetries: 0 } })
        errors.push(yield* Effect.flip(wrongKey.run(sendMedia(message))))
        yield* wrongKey.simulator.failNext("WA500")
        errors.push(yield* Effect.flip(wrongKey.run(sendMedia(message))))
        // Transport: refused, reset, timeout.
        const port = yield* closedPort
        const refused = yield* buildClient(clientOptions(`http://127.0.0.1:${port}`, { maxRetries: 0 }))
        errors.push(yield* Effect.flip(Effect.provide(sendMedia(message), refused)))
        const resetting = yield* rawServer((request) => request.socket.destroy())
        const reset = yield* buildClient(clientOptions(resetting.url, { maxRetries: 0 }))
        errors.push(yield* Effect.flip(Effect.provide(sendMedia(message), reset)))
        const silent = yield* rawServer(() => {})
        const timeout = yield* buildClient(clientOptions(silent.url, { maxRetries: 0, timeout: "100 millis" }))
        errors.push(yield* Effect.flip(Effect.provide(sendMedia(message), timeout)))
        // A gateway page that quotes the request's headers back.
        const echo = yield* rawServer((request, response) => {
          response.writeHead(503, { "content-type": "text/html" })
          response.end(`<html><pre>api-key: ${request.headers["api-key"]}</pre></html>`)
        })
        const echoing = yield* buildClient(clientOptions(echo.url, { maxRetries: 0 }))
        errors.push(yield* Effect.flip(Effect.provide(sendMedia(message), echoing)))
        assert.strictEqual(errors.length, 6)
        for (const error of errors) {
          const printed = printouts(error)
          assert.notInclude(printed, API_KEY, printed)
        }
      }))

    it.scopedLive("a server echoing the key it received: escaped, cut by the excerpt, as the code, in the content type", () =>
      Effect.gen(function*() {
        // Quote, backslash and a Latin-1 letter: on the wire as Latin-1, read back by Node's server as sent.
        const key = `sk"live\\9f8e7d6c5b4a-clé-${API_KEY}`
        const answers: ReadonlyArray<(key: string) => readonly [number, string, string]> = [
          (echo) => [400, "application/json", JSON.stringify({ note: echo })],
          (echo) => [502, "text/html", `<html>${".".repeat(490)}${echo}</html>`],
          (echo) => [400, "application/json", JSON.stringify({ code: echo, message: "Bad request", error: {} })],
          (echo) => [502, `text/html; charset=${echo}`, "<html>bad gateway</html>"]
        ]
        for (const answer of answers) {
          const echo = yield* rawServer((request, response) => {
            const [status, contentType, body] = answer(String(request.headers["api-key"]))
            response.writeHead(status, { "content-type": contentType })
            response.end(body)
          })
          const client = yield* buildClient(clientOptions(echo.url, { apiKey: Redacted.make(key), maxRetries: 0 }))
          const { exit, outputs } = yield* observed(Effect.provide(sendMedia(message), client))
          assert.isTrue(Exit.isFailure(exit))
          assert.strictEqual(echo.requests[0]?.headers["api-key"], key)
          for (const text of outputs) assert.isUndefined(leakIn(key, text), text)
        }
      }))
  })

  describe("uploads through the lean client", () => {
    it.scopedLive("a multipart upload arrives intact (fields and bytes) and returns the media id", () =>
      Effect.gen(function*() {
        const server = yield* rawServer((_request, response) => {
          response.writeHead(200, { "content-type": "application/json" })
          response.end(`{"id":"1376223850470843"}`)
        })
        const context = yield* buildClient(clientOptions(server.url))
        const bytes = new Uint8Array(300_000)
        bytes.set(new TextEncoder().encode("%PDF-1.7\n"))
        for (let i = 9; i < bytes.length; i++) bytes[i] = (i * 7 + 3) % 256
        const result = yield* Effect.provide(
          uploadMedia({ data: bytes, filename: "invoice.pdf", mimeType: "application/pdf" }),
          context
        )
        assert.strictEqual(result.id, "1376223850470843")
        const seen = server.requests[0]
        assert.strictEqual(seen.url, `/v2/${SID}/whatsapp/${SENDER}/media`)
        const contentType = seen.headers["content-type"] ?? ""
        assert.match(contentType, /^multipart\/form-data; boundary=/)
        const form = yield* Effect.promise(() =>
          new Response(new Uint8Array(seen.body), { headers: { "content-type": contentType } }).formData()
        )
        assert.strictEqual(form.get("type"), "application/pdf")
        const file = form.get("file") as File
        assert.strictEqual(file.name, "invoice.pdf")
        assert.strictEqual(sha256(new Uint8Array(yield* Effect.promise(() => file.arrayBuffer()))), sha256(bytes))
      }))
  })

  /** The KALEYRA_* variables of the test account, Kaleyra at `baseUrl`. */
  const kaleyraEnv = (baseUrl: string) =>
    ConfigProvider.fromMap(
      new Map([
        ["KALEYRA_SID", SID],
        ["KALEYRA_API_KEY", API_KEY],
        ["KALEYRA_SENDER_NUMBER", SENDER],
        ["KALEYRA_BASE_URL", baseUrl]
      ]),
      { pathDelim: "_" }
    )

  describe("other layers", () => {
    it.scopedLive("layerConfig reads KALEYRA_* from the ConfigProvider", () =>
      Effect.gen(function*() {
        const { simulator, url } = yield* SimulatorServer.serve({ simulator: { apiKey: API_KEY, sid: SID } })
        const provider = kaleyraEnv(url)
        const context = yield* Layer.build(
          Layer.provide(KaleyraNode.layerConfig, Layer.setConfigProvider(provider))
        )
        yield* Effect.provide(sendMedia(MediaMessage.image({ to: TO, link: "https://x.io/a.png" })), context)
        assert.strictEqual((yield* simulator.sent).length, 1)
      }))

    it.scopedLive("layerConfig without the variables fails with a ConfigError naming them", () =>
      Effect.gen(function*() {
        const provider = ConfigProvider.fromMap(new Map(), { pathDelim: "_" })
        const error = yield* Effect.flip(
          Layer.build(Layer.provide(KaleyraNode.layerConfig, Layer.setConfigProvider(provider)))
        )
        assert.isTrue(ConfigError.isConfigError(error))
        assert.include(String(error), "KALEYRA")
      }))

    it.scopedLive("a key no header can carry (a control character, above U+00FF) fails every layer, unprinted", () =>
      Effect.gen(function*() {
        const server = yield* rawServer((_request, response) => {
          response.writeHead(202, { "content-type": "application/json" })
          response.end(`{"code":"WA202","message":"Request Accepted","data":{"message_id":"m1"},"error":{}}`)
        })
        for (const key of [`${API_KEY}\t`, `${API_KEY}\u0085x`, `${API_KEY}\u20ac`, `k\u{1F511}${API_KEY}`]) {
          const env = ConfigProvider.fromMap(
            new Map([
              ["KALEYRA_SID", SID],
              ["KALEYRA_API_KEY", key],
              ["KALEYRA_SENDER_NUMBER", SENDER],
              ["KALEYRA_BASE_URL", server.url]
            ]),
            { pathDelim: "_" }
          )
          const options = clientOptions(server.url, { apiKey: Redacted.make(key) })
          const layers = [
            ["apiKey", KaleyraNode.layer(options)],
            ["apiKey", KaleyraNode.layerStock(options)],
            ["KALEYRA.API_KEY", Layer.provide(KaleyraNode.layerConfig, Layer.setConfigProvider(env))],
            ["KALEYRA.API_KEY", Layer.provide(KaleyraNode.layerConfigWith({}), Layer.setConfigProvider(env))]
          ] as const
          for (const [option, layer] of layers) {
            const exit = yield* Effect.exit(Effect.scoped(Layer.build(layer)))
            assert.isTrue(Exit.isFailure(exit))
            if (Exit.isSuccess(exit)) continue
            const failure = Cause.failureOption(exit.cause)
            assert.isTrue(failure._tag === "Some" && ConfigError.isConfigError(failure.value))
            const printed = Cause.pretty(exit.cause, { renderErrorCause: true })
            assert.include(printed, option)
            assert.notInclude(printed, API_KEY)
          }
        }
        assert.strictEqual(server.requests.length, 0)
      }))

    it.scopedLive("layerConfigWith applies overrides over configuration", () =>
      Effect.gen(function*() {
        const { simulator, url } = yield* SimulatorServer.serve({ simulator: { apiKey: API_KEY, sid: SID } })
        const provider = kaleyraEnv("http://127.0.0.1:9")
        const context = yield* Layer.build(
          Layer.provide(KaleyraNode.layerConfigWith({ baseUrl: url }), Layer.setConfigProvider(provider))
        )
        yield* Effect.provide(sendMedia(MediaMessage.image({ to: TO, link: "https://x.io/a.png" })), context)
        assert.strictEqual((yield* simulator.sent).length, 1)
      }))

    it.scopedLive("layerStock sends, and uploads a global FormData intact on Node 20", () =>
      Effect.gen(function*() {
        const { simulator, url } = yield* SimulatorServer.serve({ simulator: { apiKey: API_KEY, sid: SID } })
        const stock = yield* Layer.build(KaleyraNode.layerStock(clientOptions(url)))
        const result = yield* Effect.provide(
          sendMedia(MediaMessage.video({ to: TO, link: "https://x.io/v.mp4" })),
          stock
        )
        assert.strictEqual(result.messageId, (yield* simulator.sent)[0].messageId)

        const server = yield* rawServer((_request, response) => {
          response.writeHead(200, { "content-type": "application/json" })
          response.end(`{"id":"42"}`)
        })
        const uploader = yield* Layer.build(KaleyraNode.layerStock(clientOptions(server.url)))
        const bytes = new Uint8Array(50_000).map((_, i) => i % 251)
        bytes.set([0xff, 0xd8, 0xff, 0xe0])
        const uploaded = yield* Effect.provide(
          uploadMedia({ data: bytes, filename: "photo.jpg", mimeType: "image/jpeg" }),
          uploader
        )
        assert.strictEqual(uploaded.id, "42")
        const seen = server.requests[0]
        const form = yield* Effect.promise(() =>
          new Response(new Uint8Array(seen.body), { headers: { "content-type": seen.headers["content-type"] ?? "" } })
            .formData()
        )
        assert.strictEqual(form.get("type"), "image/jpeg")
        const file = form.get("file") as File
        assert.strictEqual(sha256(new Uint8Array(yield* Effect.promise(() => file.arrayBuffer()))), sha256(bytes))
      }))
  })
})
