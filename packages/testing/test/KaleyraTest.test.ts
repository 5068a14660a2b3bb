import {
  KaleyraEvents,
  MediaMessage,
  sendMedia,
  type SendMediaInput,
  SendMediaRequest,
  uploadMedia
} from "@effect-kaleyra/core"
import { Arbitraries, KaleyraSimulator, KaleyraTest } from "@effect-kaleyra/testing"
import { HttpBody, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Chunk, Duration, Effect, Either, Exit, Layer, Queue, Redacted, Stream } from "effect"
import { seed, type SeedCode } from "./seed.js"

const image: SendMediaInput = {
  to: "+919876543210",
  type: "image",
  image: { link: "https://example.com/a.png", caption: "Hello" },
  extraInfo: { ref: "customer1", ref1: "marketing", ref2: "dictionary", waSource: "api" }
}

const PATH = "/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/messages"

const cases: ReadonlyArray<readonly [SeedCode, string]> = [
  ["RBC001", "IncorrectCredentials"],
  ["WA401", "PhoneNumberNotFound"],
  ["WA400", "IncorrectPayload"],
  ["E110", "LowBalance"],
  ["WA-401-account", "ApiNotAvailable"],
  ["WA-401-phone_number", "PhoneNumberVersionMismatch"],
  ["WA500", "KaleyraServerError"]
]

describe("KaleyraTest", () => {
  describe("the specification's failures, through core's sendMedia", () => {
    for (const [code, tag] of cases) {
      it.effect(`${code} fails with ${tag}`, () =>
        Effect.gen(function*() {
          yield* KaleyraTest.failNext(code)
          const error = yield* Effect.flip(sendMedia(image))
          assert.strictEqual(error._tag, tag)
          if (error._tag !== tag || !("error" in error)) return assert.fail("not a Kaleyra response error")
          assert.strictEqual(error.status, seed[code].status)
          assert.strictEqual(error.code, seed[code].body.code)
          assert.strictEqual(error.message, seed[code].body.message)
          assert.deepStrictEqual(error.error, seed[code].body.error)
          assert.strictEqual((yield* KaleyraTest.requests).length, 1)
          assert.strictEqual((yield* KaleyraTest.sent).length, 0)
        }).pipe(Effect.provide(KaleyraTest.layer({ maxRetries: 0 }))))
    }

    it.effect("WAV2101 fails with DailyLimitReached", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.failNext("WAV2101")
        const error = yield* Effect.flip(sendMedia(image))
        if (error._tag !== "DailyLimitReached") return assert.fail(error._tag)
        assert.strictEqual(error.status, 403)
        assert.strictEqual(error.code, "WAV2101")
      }).pipe(Effect.provide(KaleyraTest.layer())))

    it.live("WA500 then success: retried, accepted on the second attempt", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.failNext("WA500")
        const result = yield* sendMedia(image)
        assert.strictEqual(result.attempts, 2)
        assert.strictEqual(result.messageId, KaleyraSimulator.messageId(1))
        assert.deepStrictEqual((yield* KaleyraTest.requests).map((r) => r.status), [500, 202])
        assert.strictEqual((yield* KaleyraTest.sent).length, 1)
      }).pipe(Effect.provide(KaleyraTest.layer({ retryBaseDelay: "1 millis" }))))

    it.live("WA500 every time: retried maxRetries times, then KaleyraServerError", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.failNext("WA500", { times: 10 })
        const error = yield* Effect.flip(sendMedia(image))
        assert.strictEqual(error._tag, "KaleyraServerError")
        assert.strictEqual((yield* KaleyraTest.requests).length, 3)
      }).pipe(Effect.provide(KaleyraTest.layer({ retryBaseDelay: "1 millis", maxRetries: 2 }))))

    it.effect("429 fails with RateLimited and its Retry-After", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.failNext("429", { retryAfter: 7 })
        const error = yield* Effect.flip(sendMedia(image))
        if (error._tag !== "RateLimited") return assert.fail(error._tag)
        assert.strictEqual(error.status, 429)
        assert.isDefined(error.retryAfter)
        assert.strictEqual(Duration.toSeconds(error.retryAfter!), 7)
      }).pipe(Effect.provide(KaleyraTest.layer({ maxRetries: 0 }))))

    it.live("429 with Retry-After 0 is retried and succeeds", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.failNext("429", { retryAfter: 0 })
        const result = yield* sendMedia(image)
        assert.strictEqual(result.attempts, 2)
      }).pipe(Effect.provide(KaleyraTest.layer())))

    it.effect("an HTML 503 page fails with UnexpectedResponse", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.failNext("503-html")
        const error = yield* Effect.flip(sendMedia(image))
        if (error._tag !== "UnexpectedResponse") return assert.fail(error._tag)
        assert.strictEqual(error.status, 503)
        assert.strictEqual(error.reason, "InvalidJson")
        assert.strictEqual(error.contentType, "text/html")
        assert.include(error.excerpt, "503 Service Temporarily Unavailable")
      }).pipe(Effect.provide(KaleyraTest.layer({ maxRetries: 0 }))))

    it.live("an HTML 503 page is retried; a 502 page is not", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.failNext("503-html")
        assert.strictEqual((yield* sendMedia(image)).attempts, 2)
        yield* KaleyraTest.failNext("502-html")
        const error = yield* Effect.flip(sendMedia(image))
        if (error._tag !== "UnexpectedResponse") return assert.fail(error._tag)
        assert.strictEqual(error.status, 502)
        assert.deepStrictEqual((yield* KaleyraTest.requests).map((r) => r.status), [503, 202, 502])
      }).pipe(Effect.provide(KaleyraTest.layer({ retryBaseDelay: "1 millis" }))))

    it.effect("a truncated or empty 2xx body fails with UnexpectedResponse, accepted, and is not retried", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.failNext("invalid-json")
        yield* KaleyraTest.failNext("empty-body")
        const first = yield* Effect.flip(sendMedia(image))
        const second = yield* Effect.flip(sendMedia(image))
        if (first._tag !== "UnexpectedResponse" || second._tag !== "UnexpectedResponse") return assert.fail()
        assert.deepStrictEqual([first.status, first.reason, first.accepted], [200, "InvalidJson", true])
        assert.deepStrictEqual([second.status, second.reason, second.accepted], [202, "EmptyBody", true])
        assert.strictEqual((yield* KaleyraTest.requests).length, 2)
        assert.strictEqual((yield* KaleyraTest.sent).length, 2, "the simulator accepted both messages")
      }).pipe(Effect.provide(KaleyraTest.layer())))

    it.effect("setScenario: sends to one recipient fail", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.setScenario("+919876543210", "E110")
        const error = yield* Effect.flip(sendMedia(image))
        assert.strictEqual(error._tag, "LowBalance")
        const ok = yield* sendMedia({ ...image, to: "+14155550123" })
        assert.strictEqual(ok.messageId, KaleyraSimulator.messageId(1))
      }).pipe(Effect.provide(KaleyraTest.layer())))
  })

  describe("state", () => {
    it.effect("balance 2: the third send fails with LowBalance", () =>
      Effect.gen(function*() {
        yield* sendMedia(image)
        yield* sendMedia(image)
        const error = yield* Effect.flip(sendMedia(image))
        assert.strictEqual(error._tag, "LowBalance")
        assert.strictEqual(yield* KaleyraTest.balance, 0)
      }).pipe(Effect.provide(KaleyraTest.layer({ balance: 2 }))))

    it.effect("a two-recipient send spends 2", () =>
      Effect.gen(function*() {
        const result = yield* sendMedia({ ...image, to: ["+919876543210", "+14155550123"] })
        assert.deepStrictEqual(result.recipients, ["+919876543210", "+14155550123"])
        assert.strictEqual(yield* KaleyraTest.balance, 3)
        yield* KaleyraTest.setBalance(1)
        const error = yield* Effect.flip(sendMedia({ ...image, to: ["+919876543210", "+14155550123"] }))
        assert.strictEqual(error._tag, "LowBalance")
      }).pipe(Effect.provide(KaleyraTest.layer({ balance: 5 }))))

    it.effect("a wrong API key in the client: IncorrectCredentials", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(sendMedia(image))
        assert.strictEqual(error._tag, "IncorrectCredentials")
      }).pipe(Effect.provide(KaleyraTest.layer({ client: { apiKey: Redacted.make("wrong") } }))))

    it.effect("a wrong SID in the client: IncorrectCredentials", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(sendMedia(image))
        assert.strictEqual(error._tag, "IncorrectCredentials")
      }).pipe(Effect.provide(KaleyraTest.layer({ client: { sid: "OTHER" } }))))

    it.effect("an unregistered sender number: PhoneNumberNotFound", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(sendMedia(image))
        assert.strictEqual(error._tag, "PhoneNumberNotFound")
      }).pipe(Effect.provide(KaleyraTest.layer({ client: { senderNumber: "+91 88888 88888" } }))))

    it.effect("a sender number on another API version: PhoneNumberVersionMismatch", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(sendMedia(image))
        assert.strictEqual(error._tag, "PhoneNumberVersionMismatch")
      }).pipe(
        Effect.provide(KaleyraTest.layer({ senderNumbers: ["918000000000"], otherVersionNumbers: ["918000000000"] }))
      ))

    it.effect("an unavailable account: ApiNotAvailable", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(sendMedia(image))
        assert.strictEqual(error._tag, "ApiNotAvailable")
      }).pipe(Effect.provide(KaleyraTest.layer({ account: "unavailable" }))))

    it.effect("a daily limit: DailyLimitReached", () =>
      Effect.gen(function*() {
        yield* sendMedia(image)
        const error = yield* Effect.flip(sendMedia(image))
        assert.strictEqual(error._tag, "DailyLimitReached")
      }).pipe(Effect.provide(KaleyraTest.layer({ dailyLimit: 1 }))))

    it.effect("the simulator's own SID, key and sender configure the client", () =>
      Effect.gen(function*() {
        const result = yield* sendMedia(image)
        assert.strictEqual(result.status, 202)
        const [request] = yield* KaleyraTest.requests
        assert.strictEqual(request.path, "/v2/ACME1/whatsapp/14155550100/messages")
      }).pipe(Effect.provide(KaleyraTest.layer({ sid: "ACME1", apiKey: "k", senderNumbers: ["14155550100"] }))))

    it.effect("two fresh layers give the same ids for the same sends", () =>
      Effect.gen(function*() {
        const run = Effect.gen(function*() {
          const ids: Array<string> = []
          for (let i = 0; i < 3; i++) ids.push((yield* sendMedia(image)).messageId)
          return ids
        })
        const first = yield* Effect.provide(run, KaleyraTest.layer())
        const second = yield* Effect.provide(run, KaleyraTest.layer())
        assert.deepStrictEqual(first, second)
        assert.deepStrictEqual(first, [1, 2, 3].map(KaleyraSimulator.messageId))
      }))

    it.effect("the request on the wire: path, headers (key redacted), the encoded body", () =>
      Effect.gen(function*() {
        const result = yield* sendMedia(image)
        const [request] = yield* KaleyraTest.requests
        assert.strictEqual(request.method, "POST")
        assert.strictEqual(request.path, PATH)
        assert.strictEqual(request.status, 202)
        assert.strictEqual(request.headers["api-key"], "<redacted>")
        assert.strictEqual(request.headers["content-type"], "application/json")
        const message = Either.getOrThrow(MediaMessage.validate(image))
        assert.deepStrictEqual(JSON.parse(request.body), SendMediaRequest.toWire(message))
        const [sent] = yield* KaleyraTest.sent
        assert.strictEqual(sent.messageId, result.messageId)
        assert.deepStrictEqual(sent.message, message)
        assert.deepStrictEqual(sent.extraInfo, image.extraInfo)
      }).pipe(Effect.provide(KaleyraTest.layer())))

    it.effect("transformClient is applied", () =>
      Effect.gen(function*() {
        yield* sendMedia(image)
        const [request] = yield* KaleyraTest.requests
        assert.strictEqual(request.headers["x-trace"], "t1")
      }).pipe(Effect.provide(KaleyraTest.layer({
        transformClient: HttpClient.mapRequest(HttpClientRequest.setHeader("x-trace", "t1"))
      }))))

    it.effect("reset through the accessor", () =>
      Effect.gen(function*() {
        yield* sendMedia(image)
        yield* KaleyraTest.reset
        assert.strictEqual((yield* sendMedia(image)).messageId, KaleyraSimulator.messageId(1))
        const simulator = yield* KaleyraSimulator.KaleyraSimulator
        assert.strictEqual(simulator.options.sid, "HXAP16XXXXXX97IN")
      }).pipe(Effect.provide(KaleyraTest.layer())))
  })

  describe("status callbacks", () => {
    it.scoped("with KaleyraEvents provided, the client publishes its events", () =>
      Effect.gen(function*() {
        const events = yield* KaleyraEvents
        const queue = yield* events.subscribe
        yield* KaleyraTest.failNext("E110")
        yield* Effect.flip(sendMedia(image))
        const result = yield* sendMedia(image)
        const published = yield* Queue.takeAll(queue)
        assert.deepStrictEqual(Chunk.toReadonlyArray(published).map((e) => e._tag), ["SendFailed", "SendAccepted"])
        const accepted = Chunk.unsafeGet(published, 1)
        assert.strictEqual(accepted._tag === "SendAccepted" && accepted.messageId, result.messageId)
      }).pipe(Effect.provide(KaleyraTest.layer().pipe(Layer.provideMerge(KaleyraEvents.layer())))))

    it.effect("statusCallback builds the v2 payload core decodes, with the message's refs", () =>
      Effect.gen(function*() {
        const result = yield* sendMedia({ ...image, to: ["+919876543210", "+14155550123"] })
        const [sent] = yield* KaleyraTest.sent
        const events = yield* KaleyraEvents
        const delivered = yield* events.ingestPayload(
          KaleyraSimulator.statusCallback(sent, "delivered", { recipient: "+14155550123", timestamp: 1_722_834_665 })
        )
        assert.strictEqual(delivered.length, 1)
        const [event] = delivered
        if (event._tag !== "MessageStatusUpdated") return assert.fail(event._tag)
        assert.strictEqual(event.messageId, result.messageId)
        assert.strictEqual(event.status, "delivered")
        // the send result's format, so that results and events join as they are
        assert.strictEqual(event.recipient, result.recipients[1])
        assert.strictEqual(event.rawRecipient, "14155550123")
        assert.strictEqual(event.timestamp, 1_722_834_665)
        assert.deepStrictEqual(event.refs, { ref: "customer1", ref1: "marketing", ref2: "dictionary" })
        const failed = yield* events.ingestPayload(KaleyraSimulator.statusCallback(sent, "failed"))
        const [failure] = failed
        if (failure._tag !== "MessageStatusUpdated") return assert.fail(failure._tag)
        assert.strictEqual(failure.status, "failed")
        assert.strictEqual(failure.errors[0]?.code, 131053)
        const wait = yield* Effect.flip(events.awaitStatus(result.messageId, "read"))
        assert.strictEqual(wait._tag, "MessageFailed")
      }).pipe(Effect.provide(KaleyraTest.layer().pipe(Layer.provideMerge(KaleyraEvents.layer())))))
  })

  describe("uploads", () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82])
    const pdf = new TextEncoder().encode("%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n<<>>\nendobj\n")

    it.effect("uploadMedia returns the simulator's deterministic media id, usable to send", () =>
      Effect.gen(function*() {
        const first = yield* uploadMedia({ data: png, filename: "photo.png" })
        const second = yield* uploadMedia({ data: new Blob([pdf]), filename: "invoice.pdf" })
        assert.strictEqual(first.id, KaleyraSimulator.mediaId(1))
        assert.strictEqual(second.id, KaleyraSimulator.mediaId(2))
        const uploads = yield* KaleyraTest.uploads
        assert.deepStrictEqual(
          uploads.map((u) => [u.filename, u.mimeType, u.mediaType, u.size]),
          [["photo.png", "image/png", "image", png.length], ["invoice.pdf", "application/pdf", "document", pdf.length]]
        )
        assert.deepStrictEqual([...uploads[0].data], [...png])
        const sent = yield* sendMedia(
          MediaMessage.document({ to: "+919876543210", id: second.id, filename: "invoice.pdf" })
        )
        assert.strictEqual(sent.messageId, KaleyraSimulator.messageId(1))
        assert.strictEqual(yield* KaleyraTest.balance, 1_000_000 - 1, "uploads cost nothing")
        const [request] = yield* KaleyraTest.requests
        assert.strictEqual(request.path, "/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/media")
        assert.strictEqual(request.headers["api-key"], "<redacted>")
      }).pipe(Effect.provide(KaleyraTest.layer())))

    it.effect("a prepaid account cannot upload: ApiNotAvailable (sending still works)", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(uploadMedia({ data: png, filename: "photo.png" }))
        assert.strictEqual(error._tag, "ApiNotAvailable")
        yield* sendMedia(image)
      }).pipe(Effect.provide(KaleyraTest.layer({ account: "prepaid" }))))

    it.effect("scripted failures apply to uploads", () =>
      Effect.gen(function*() {
        yield* KaleyraTest.failNext("WA500")
        const error = yield* Effect.flip(uploadMedia({ data: png, filename: "photo.png" }))
        assert.strictEqual(error._tag, "KaleyraServerError")
        assert.strictEqual((yield* KaleyraTest.uploads).length, 0)
      }).pipe(Effect.provide(KaleyraTest.layer({ maxRetries: 0 }))))

    it.effect("the simulator refuses uploads Kaleyra would refuse", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        const client = KaleyraTest.makeHttpClient(sim.handle)
        const upload = (fields: ReadonlyArray<readonly [string, string | Blob]>) => {
          const form = new FormData()
          for (const [name, value] of fields) form.append(name, value)
          return Effect.map(
            client.execute(
              HttpClientRequest.post("/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/media").pipe(
                HttpClientRequest.setHeader("api-key", "sim-api-key"),
                HttpClientRequest.bodyFormData(form)
              )
            ),
            (r) => r.status
          )
        }
        const file = new Blob([png])
        assert.strictEqual(yield* upload([["file", file], ["type", "image/png"]]), 200)
        assert.strictEqual(yield* upload([["file", file]]), 400)
        assert.strictEqual(yield* upload([["type", "image/png"]]), 400)
        assert.strictEqual(yield* upload([["file", "not a file"], ["type", "image/png"]]), 400)
        assert.strictEqual(yield* upload([["file", file], ["type", "image/gif"]]), 400)
        assert.strictEqual(yield* upload([["file", new Blob([])], ["type", "image/png"]]), 400)
        assert.strictEqual(yield* upload([["file", new Blob([new Uint8Array(100_001)])], ["type", "video/webm"]]), 400)
        assert.strictEqual(
          yield* upload([["file", new Blob([new Uint8Array(5_000_001)])], ["type", "image/jpeg"]]),
          400
        )
        const json = yield* client.execute(
          HttpClientRequest.post("/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/media").pipe(
            HttpClientRequest.setHeader("api-key", "sim-api-key"),
            HttpClientRequest.bodyUnsafeJson({ file: "x", type: "image/png" })
          )
        )
        assert.strictEqual(json.status, 400)
        assert.deepStrictEqual((yield* sim.uploads).map((u) => u.id), [KaleyraSimulator.mediaId(1)])
      }))
  })

  describe("properties", () => {
    it.effect.prop(
      "every valid message is accepted, and the simulator decodes exactly what core validated",
      [Arbitraries.validMessage],
      ([input]) =>
        Effect.gen(function*() {
          const result = yield* sendMedia(input)
          const expected = Either.getOrThrow(MediaMessage.validate(input))
          const sent = yield* KaleyraTest.sent
          assert.strictEqual(sent.length, 1)
          assert.strictEqual(sent[0].messageId, result.messageId)
          assert.deepStrictEqual(sent[0].message, expected)
          assert.deepStrictEqual(sent[0].recipients, expected.to)
          assert.deepStrictEqual(sent[0].extraInfo, expected.extraInfo)
          assert.strictEqual(yield* KaleyraTest.balance, 1_000_000 - expected.to.length)
        }).pipe(Effect.provide(KaleyraTest.layer())),
      { fastCheck: { numRuns: 300 } }
    )

    it.effect.prop(
      "every invalid message fails with InvalidMessage on its field, and nothing is sent",
      [Arbitraries.invalidMessage],
      ([{ field, input }]) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(sendMedia(input as SendMediaInput))
          if (error._tag !== "InvalidMessage") return assert.fail(error._tag)
          assert.strictEqual(error.field, field, error.reason)
          assert.strictEqual((yield* KaleyraTest.requests).length, 0)
        }).pipe(Effect.provide(KaleyraTest.layer())),
      { fastCheck: { numRuns: 500 } }
    )
  })

  describe("the in-memory HttpClient", () => {
    const withClient = <A, E>(
      f: (client: HttpClient.HttpClient, sim: KaleyraSimulator.Simulator) => Effect.Effect<A, E>
    ) => Effect.flatMap(KaleyraSimulator.make(), (sim) => f(KaleyraTest.makeHttpClient(sim.handle), sim))

    it.effect("a full response object: status, headers with content-length, text, json, bytes, stream", () =>
      withClient((client) =>
        Effect.gen(function*() {
          const response = yield* client.execute(
            HttpClientRequest.post("http://anywhere.example/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/messages").pipe(
              HttpClientRequest.setHeader("api-key", "sim-api-key"),
              HttpClientRequest.bodyUnsafeJson({
                messaging_object: {
                  messaging_product: "whatsapp",
                  to: "+919876543210",
                  type: "audio",
                  audio: { id: "1" }
                }
              })
            )
          )
          const expected = `{"code":"WA202","message":"Request Accepted","data":{"message_id":"${
            KaleyraSimulator.messageId(1)
          }"},"error":{}}`
          assert.strictEqual(response.status, 202)
          assert.strictEqual(response.headers["content-type"], "application/json")
          assert.strictEqual(response.headers["content-length"], String(expected.length))
          assert.strictEqual(yield* response.text, expected)
          assert.deepStrictEqual(yield* response.json, JSON.parse(expected))
          assert.strictEqual(new TextDecoder().decode(yield* response.arrayBuffer), expected)
          const chunks = yield* Stream.runCollect(response.stream)
          assert.strictEqual(new TextDecoder().decode(Chunk.unsafeGet(chunks, 0)), expected)
          assert.strictEqual(response.request.method, "POST")
          assert.include(String(response), "202")
        })
      ))

    it.effect("content-length counts UTF-8 bytes", () =>
      Effect.gen(function*() {
        const client = KaleyraTest.makeHttpClient(() =>
          Effect.succeed({ status: 200, headers: { "content-type": "text/plain" }, body: "é😀a" })
        )
        const response = yield* client.get("http://x/")
        assert.strictEqual(response.headers["content-length"], "7")
        const bad = yield* Effect.flip(response.json)
        assert.strictEqual(bad.reason, "Decode")
      }))

    it.effect("FormData bodies arrive as multipart with their boundary; string, stream and empty bodies too", () =>
      withClient((client, sim) =>
        Effect.gen(function*() {
          const form = new FormData()
          form.append("type", "image/png")
          form.append("file", new Blob([new Uint8Array([1, 2, 3])], { type: "image/png" }), "a.png")
          const multipart = yield* client.execute(
            HttpClientRequest.post("http://kaleyra.test/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/media").pipe(
              HttpClientRequest.setHeader("api-key", "sim-api-key"),
              HttpClientRequest.bodyFormData(form)
            )
          )
          assert.strictEqual(multipart.status, 200)
          assert.deepStrictEqual(yield* multipart.json, { id: KaleyraSimulator.mediaId(1) })
          const [uploaded] = yield* sim.uploads
          assert.deepStrictEqual([uploaded.filename, uploaded.mimeType, [...uploaded.data]], ["a.png", "image/png", [
            1,
            2,
            3
          ]])
          yield* client.execute(
            HttpClientRequest.post("/raw").pipe(HttpClientRequest.setBody(HttpBody.raw("raw text")))
          )
          yield* client.execute(
            HttpClientRequest.post("/stream").pipe(
              HttpClientRequest.setBody(
                HttpBody.stream(Stream.make(new Uint8Array([104, 105]), new Uint8Array([33])), "text/plain")
              )
            )
          )
          yield* client.execute(HttpClientRequest.get("http://kaleyra.test/query", { urlParams: { a: "1", b: "x y" } }))
          const requests = yield* sim.requests
          assert.match(requests[0].headers["content-type"], /^multipart\/form-data; boundary=/)
          assert.include(requests[0].body, "name=\"file\"; filename=\"a.png\"")
          assert.include(requests[0].body, "image/png")
          assert.deepStrictEqual(requests.slice(1).map((r) => [r.path, r.body]), [
            ["/raw", "raw text"],
            ["/stream", "hi!"],
            ["/query?a=1&b=x+y", ""]
          ])
        })
      ))
  })
})

describe("failNext as the seed writes codes", () => {
  it.effect("WA-401 alone is the account variant; an unknown code is a clear defect", () =>
    Effect.gen(function*() {
      yield* KaleyraTest.failNext("WA-401")
      const error = yield* Effect.flip(
        sendMedia(MediaMessage.image({ to: "+919876543210", link: "https://example.com/a.png" }))
      )
      assert.strictEqual(error._tag, "ApiNotAvailable")
      const unknown = yield* Effect.exit(KaleyraTest.failNext("WA999" as never))
      assert.isTrue(Exit.isFailure(unknown) && Cause.isDie(unknown.cause))
      assert.include(Cause.pretty(Exit.isFailure(unknown) ? unknown.cause : Cause.empty), "unknown fail code")
    }).pipe(Effect.provide(KaleyraTest.layer())))

  it.effect("a body the in-memory HttpClient cannot encode never reached the simulator: requestSent false", () =>
    Effect.gen(function*() {
      const sim = yield* KaleyraSimulator.make()
      const request = HttpClientRequest.post("http://kaleyra.test/messages").pipe(
        HttpClientRequest.bodyStream(Stream.fail(new Error("the source failed")))
      )
      const error = yield* Effect.flip(KaleyraTest.makeHttpClient(sim.handle).execute(request))
      assert.strictEqual(error._tag, "RequestError")
      assert.isFalse((error.cause as { readonly requestSent?: boolean }).requestSent)
      assert.strictEqual((yield* sim.requests).length, 0)
    }))
})
