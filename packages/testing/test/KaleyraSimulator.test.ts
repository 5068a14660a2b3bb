import { KaleyraSimulator } from "@effect-kaleyra/testing"
import { HttpApp } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck, TestClock } from "effect"
import { seed, seedCodes } from "./seed.js"

const SID = "HXAP16XXXXXX97IN"
const PATH = `/v2/${SID}/whatsapp/919999999999/messages`
const encoder = new TextEncoder()

const validWire = {
  messaging_object: {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: "+919876543210",
    type: "image",
    image: { link: "https://example.com/a.png", caption: "Hello" }
  },
  extra_info: { ref: "customer1", ref1: "marketing", ref2: "dictionary", wa_source: "api" }
}

interface PostOptions {
  readonly path?: string
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly raw?: Uint8Array
}

const post = (sim: KaleyraSimulator.Simulator, body: unknown = validWire, options: PostOptions = {}) =>
  sim.handle({
    method: options.method ?? "POST",
    path: options.path ?? PATH,
    headers: options.headers ?? { "content-type": "application/json", "api-key": "sim-api-key" },
    body: options.raw ?? encoder.encode(typeof body === "string" ? body : JSON.stringify(body))
  })

const withMessagingObject = (patch: Record<string, unknown>) => ({
  ...validWire,
  messaging_object: { ...validWire.messaging_object, ...patch }
})

const acceptedBody = (id: string) =>
  `{"code":"WA202","message":"Request Accepted","data":{"message_id":"${id}"},"error":{}}`

describe("KaleyraSimulator", () => {
  describe("success", () => {
    it.effect("answers 202 with exactly the specification's body, and deterministic ids", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        const first = yield* post(sim)
        const second = yield* post(sim)
        assert.strictEqual(first.status, 202)
        assert.strictEqual(first.headers["content-type"], "application/json")
        assert.strictEqual(first.body, acceptedBody("wamid.SIM00000000000000000001"))
        assert.strictEqual(second.body, acceptedBody("wamid.SIM00000000000000000002"))
        assert.strictEqual(KaleyraSimulator.messageId(2), "wamid.SIM00000000000000000002")
        assert.deepStrictEqual(JSON.parse(first.body), {
          code: "WA202",
          message: "Request Accepted",
          data: { message_id: "wamid.SIM00000000000000000001" },
          error: {}
        })
      }))

    it.effect("records the accepted message, its recipients and extra_info", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* post(sim, withMessagingObject({ to: "+919876543210, 14155550123" }))
        const [sent] = yield* sim.sent
        assert.strictEqual(sent.messageId, "wamid.SIM00000000000000000001")
        assert.strictEqual(sent.senderNumber, "919999999999")
        assert.deepStrictEqual(sent.recipients, ["+919876543210", "+14155550123"])
        assert.strictEqual(sent.type, "image")
        assert.deepStrictEqual(sent.extraInfo, {
          ref: "customer1",
          ref1: "marketing",
          ref2: "dictionary",
          waSource: "api"
        })
        assert.deepStrictEqual(sent.body, withMessagingObject({ to: "+919876543210, 14155550123" }))
        assert.strictEqual(yield* sim.balance, 1_000_000 - 2)
      }))

    it.effect("decodes the accepted body with core's wire schema", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* post(sim, withMessagingObject({ context: { message_id: "wamid.abc" } }))
        const [sent] = yield* sim.sent
        assert.deepStrictEqual(sent.message, {
          type: "image",
          to: ["+919876543210"],
          image: { link: "https://example.com/a.png", caption: "Hello" },
          replyTo: "wamid.abc",
          extraInfo: { ref: "customer1", ref1: "marketing", ref2: "dictionary", waSource: "api" }
        })
      }))

    it.effect("stores extra_info as Kaleyra does: refs truncated to 255 characters, unknown wa_source becomes api", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        const long = "😀".repeat(300)
        const response = yield* post(sim, {
          ...validWire,
          extra_info: { ref: long, ref1: "x".repeat(256), ref2: "short", wa_source: "whatsapp-web" }
        })
        assert.strictEqual(response.status, 202)
        const [sent] = yield* sim.sent
        assert.deepStrictEqual(sent.extraInfo, {
          ref: "😀".repeat(255),
          ref1: "x".repeat(255),
          ref2: "short",
          waSource: "api"
        })
        // Core's schema refuses refs over 255 characters, so the body does not decode into a MediaMessage.
        assert.strictEqual(sent.message, undefined)
      }))

    it.effect("accepts what Kaleyra and Meta accept", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        const bodies: ReadonlyArray<unknown> = [
          {
            messaging_object: { messaging_product: "whatsapp", to: "919876543210", type: "audio", audio: { id: "1" } }
          },
          withMessagingObject({ recipient_type: undefined }),
          withMessagingObject({ type: "document", image: undefined, document: { id: "1", filename: "a.pdf" } }),
          withMessagingObject({ type: "video", image: undefined, video: { link: "HTTP://EXAMPLE.COM/v.mp4" } }),
          withMessagingObject({ type: "sticker", image: undefined, sticker: { link: "https://example.com/s.webp" } }),
          withMessagingObject({ image: { id: "10xxxxxxxxxxxx91", caption: "😀".repeat(1024) } }),
          withMessagingObject({ biz_opaque_callback_data: "tracking" }),
          { ...validWire, extra_info: {} },
          { messaging_object: validWire.messaging_object }
        ]
        for (const body of bodies) {
          const response = yield* post(sim, body)
          assert.strictEqual(response.status, 202, JSON.stringify(body))
        }
        const charset = yield* post(sim, validWire, {
          headers: { "content-type": "Application/JSON; charset=utf-8", "api-key": "sim-api-key" }
        })
        assert.strictEqual(charset.status, 202)
      }))
  })

  describe("failures", () => {
    for (const code of seedCodes) {
      it.effect(`failNext("${code}") answers the specification's ${code} exactly`, () =>
        Effect.gen(function*() {
          const sim = yield* KaleyraSimulator.make()
          yield* sim.failNext(code)
          const response = yield* post(sim)
          assert.strictEqual(response.status, seed[code].status)
          assert.strictEqual(response.headers["content-type"], "application/json")
          assert.deepStrictEqual(JSON.parse(response.body), seed[code].body)
          assert.strictEqual((yield* post(sim)).status, 202, "only the next request fails")
          assert.strictEqual((yield* sim.sent).length, 1)
        }))
    }

    it("RBC001 has data [] and the others data {}", () => {
      assert.include(KaleyraSimulator.responses.RBC001.body, `"data":[]`)
      for (const code of ["WA401", "WA400", "WA500", "E110", "WA-401-account", "WA-401-phone_number"] as const) {
        assert.include(KaleyraSimulator.responses[code].body, `"data":{}`)
      }
    })

    it.effect("WAV2101 answers 403 with a Kaleyra-shaped body", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* sim.failNext("WAV2101")
        const response = yield* post(sim)
        assert.strictEqual(response.status, 403)
        const body = JSON.parse(response.body)
        assert.strictEqual(body.code, "WAV2101")
        assert.deepStrictEqual(body.data, {})
        assert.isString(body.message)
      }))

    it.effect("429 carries Retry-After when given", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* sim.failNext("429", { retryAfter: 7 })
        yield* sim.failNext("429")
        const first = yield* post(sim)
        const second = yield* post(sim)
        assert.strictEqual(first.status, 429)
        assert.strictEqual(first.headers["retry-after"], "7")
        assert.strictEqual(second.status, 429)
        assert.strictEqual(second.headers["retry-after"], undefined)
      }))

    it.effect("HTML gateway pages for 502 and 503", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* sim.failNext("503-html")
        yield* sim.failNext("502-html")
        const first = yield* post(sim)
        const second = yield* post(sim)
        assert.strictEqual(first.status, 503)
        assert.strictEqual(first.headers["content-type"], "text/html")
        assert.include(first.body, "<title>503 Service Temporarily Unavailable</title>")
        assert.strictEqual(second.status, 502)
        assert.include(second.body, "502 Bad Gateway")
        assert.strictEqual((yield* sim.sent).length, 0)
      }))

    it.effect("invalid-json and empty-body mangle the answer of an accepted message", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* sim.failNext("invalid-json")
        yield* sim.failNext("empty-body")
        const first = yield* post(sim)
        const second = yield* post(sim)
        assert.deepStrictEqual([first.status, first.body], [200, `{"code":"WA202",`])
        assert.deepStrictEqual([second.status, second.body], [202, ""])
        assert.deepStrictEqual((yield* sim.sent).map((s) => s.messageId), [
          KaleyraSimulator.messageId(1),
          KaleyraSimulator.messageId(2)
        ])
        assert.strictEqual(yield* sim.balance, 1_000_000 - 2)
        // An invalid payload still answers WA400.
        yield* sim.failNext("empty-body")
        assert.strictEqual((yield* post(sim, { nope: true })).status, 400)
      }))

    it.effect("failNext: times, and queued codes in order", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* sim.failNext("WA500", { times: 2 })
        yield* sim.failNext("E110")
        const statuses: Array<number> = []
        for (let i = 0; i < 4; i++) statuses.push((yield* post(sim)).status)
        assert.deepStrictEqual(statuses, [500, 500, 400, 202])
      }))

    it.effect("scripted failures come after the route, credential and sender checks", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* sim.failNext("WA500")
        const wrongKey = yield* post(sim, validWire, {
          headers: { "content-type": "application/json", "api-key": "x" }
        })
        assert.strictEqual(wrongKey.status, 401)
        assert.strictEqual((yield* post(sim)).status, 500, "the script was not used up by the 401")
      }))

    it.effect("setScenario: every send to a recipient fails, whatever the other recipients", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* sim.setScenario("91 98765 43210", "E110")
        yield* sim.setScenario("+14155550123", "invalid-json")
        const blocked = yield* post(sim, withMessagingObject({ to: "+918888888888,919876543210" }))
        assert.strictEqual(blocked.status, 400)
        assert.strictEqual(JSON.parse(blocked.body).code, "E110")
        assert.strictEqual((yield* post(sim, withMessagingObject({ to: "+918888888888" }))).status, 202)
        assert.strictEqual((yield* post(sim, withMessagingObject({ to: "+14155550123" }))).status, 200)
        yield* sim.clearScenario("+919876543210")
        assert.strictEqual((yield* post(sim)).status, 202)
      }))
  })

  describe("state", () => {
    it.effect("wrong or missing api-key, or a wrong SID: 401 RBC001", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make({ apiKey: "secret" })
        const cases = [
          post(sim, validWire, { headers: { "content-type": "application/json", "api-key": "sim-api-key" } }),
          post(sim, validWire, { headers: { "content-type": "application/json" } }),
          post(sim, validWire, {
            headers: { "content-type": "application/json", "api-key": "secret" },
            path: "/v2/OTHERSID/whatsapp/919999999999/messages"
          })
        ]
        for (const request of cases) {
          const response = yield* request
          assert.strictEqual(response.status, 401)
          assert.deepStrictEqual(JSON.parse(response.body), seed.RBC001.body)
        }
        const ok = yield* post(sim, validWire, { headers: { "content-type": "application/json", "api-key": "secret" } })
        assert.strictEqual(ok.status, 202)
      }))

    it.effect("sender numbers: registered (with or without +, percent-encoded), unknown, other API version", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make({
          senderNumbers: ["919999999999", "+14155550100"],
          otherVersionNumbers: ["918000000000"]
        })
        const statusAt = (sender: string) =>
          Effect.map(post(sim, validWire, { path: `/v2/${SID}/whatsapp/${sender}/messages` }), (r) => r.status)
        assert.strictEqual(yield* statusAt("919999999999"), 202)
        assert.strictEqual(yield* statusAt("+919999999999"), 202)
        assert.strictEqual(yield* statusAt("%2B919999999999"), 202)
        assert.strictEqual(yield* statusAt("14155550100"), 202)
        const unknown = yield* post(sim, validWire, { path: `/v2/${SID}/whatsapp/917777777777/messages` })
        assert.strictEqual(unknown.status, 401)
        assert.deepStrictEqual(JSON.parse(unknown.body), seed.WA401.body)
        const bad = yield* post(sim, validWire, { path: `/v2/${SID}/whatsapp/%E0%A4%A/messages` })
        assert.strictEqual(bad.status, 401)
        const other = yield* post(sim, validWire, { path: `/v2/${SID}/whatsapp/918000000000/messages` })
        assert.strictEqual(other.status, 401)
        assert.deepStrictEqual(JSON.parse(other.body), seed["WA-401-phone_number"].body)
      }))

    it.effect("an unavailable account answers WA-401 account to every call", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make({ account: "unavailable" })
        const response = yield* post(sim, validWire, { path: `/v2/${SID}/whatsapp/917777777777/messages` })
        assert.strictEqual(response.status, 401)
        assert.deepStrictEqual(JSON.parse(response.body), seed["WA-401-account"].body)
      }))

    it.effect("unknown routes 404, other methods 405, both before the credentials", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        for (
          const path of [
            "/",
            "/v1/HXAP16XXXXXX97IN/messages",
            `/v2/${SID}/whatsapp/919999999999/message`,
            `/v2/${SID}/whatsapp/919999999999/messages/extra`,
            `/v2//whatsapp/919999999999/messages`,
            `/v2/${SID}/sms/919999999999/messages`
          ]
        ) {
          const response = yield* post(sim, validWire, { path, headers: {} })
          assert.strictEqual(response.status, 404, path)
          assert.strictEqual(response.headers["content-type"], "application/json")
        }
        const query = yield* post(sim, validWire, { path: `${PATH}?trace=1` })
        assert.strictEqual(query.status, 202)
        const get = yield* post(sim, validWire, { method: "GET", headers: {} })
        assert.strictEqual(get.status, 405)
        assert.strictEqual(get.headers.allow, "POST")
      }))

    it.effect("balance: each accepted message spends one per recipient; not enough is E110", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make({ balance: 3 })
        assert.strictEqual((yield* post(sim, withMessagingObject({ to: "+919876543210,+919876543211" }))).status, 202)
        assert.strictEqual(yield* sim.balance, 1)
        const low = yield* post(sim, withMessagingObject({ to: "+919876543210,+919876543211" }))
        assert.deepStrictEqual(JSON.parse(low.body), seed.E110.body)
        assert.strictEqual((yield* post(sim)).status, 202)
        assert.strictEqual((yield* post(sim)).status, 400)
        yield* sim.setBalance(10)
        assert.strictEqual((yield* post(sim)).status, 202)
        assert.strictEqual(yield* sim.balance, 9)
      }))

    it.effect("daily limit: WAV2101 once the day's messages are used, fresh again the next day (Clock)", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make({ dailyLimit: 2 })
        assert.strictEqual((yield* post(sim)).status, 202)
        assert.strictEqual((yield* post(sim)).status, 202)
        const limited = yield* post(sim)
        assert.strictEqual(limited.status, 403)
        assert.strictEqual(JSON.parse(limited.body).code, "WAV2101")
        yield* TestClock.adjust("1 day")
        assert.strictEqual((yield* post(sim)).status, 202)
      }))

    it.effect("requests: every request in order, the api-key redacted", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* post(sim, validWire, { path: "/nowhere" })
        yield* post(sim, "{not json")
        yield* post(sim)
        const requests = yield* sim.requests
        assert.deepStrictEqual(requests.map((r) => [r.path, r.status]), [["/nowhere", 404], [PATH, 400], [PATH, 202]])
        assert.strictEqual(requests[0].headers["api-key"], "<redacted>")
        assert.strictEqual(requests[1].body, "{not json")
        assert.deepStrictEqual(JSON.parse(requests[2].body), validWire)
        assert.notInclude(JSON.stringify(requests), "sim-api-key")
      }))

    it.effect("history keeps the most recent entries", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make({ historyLimit: 3 })
        for (let i = 0; i < 10; i++) yield* post(sim)
        assert.deepStrictEqual((yield* sim.sent).map((s) => s.messageId), [8, 9, 10].map(KaleyraSimulator.messageId))
        assert.strictEqual((yield* sim.requests).length, 3)
      }))

    it.effect("historyLimit 0 keeps nothing, and still answers", () =>
      Effect.gen(function*() {
        const sim = KaleyraSimulator.unsafeMake({ historyLimit: 0 })
        assert.strictEqual((yield* post(sim)).body, acceptedBody(KaleyraSimulator.messageId(1)))
        assert.strictEqual((yield* post(sim)).body, acceptedBody(KaleyraSimulator.messageId(2)))
        assert.deepStrictEqual(yield* sim.sent, [])
        assert.deepStrictEqual(yield* sim.requests, [])
      }))

    it.effect("failNext with times: Infinity fails until reset", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* sim.failNext("WA500", { times: Infinity })
        for (let i = 0; i < 20; i++) assert.strictEqual((yield* post(sim)).status, 500)
        yield* sim.reset
        assert.strictEqual((yield* post(sim)).status, 202)
      }))

    it.effect("the daily limit counts recipients", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make({ dailyLimit: 3 })
        assert.strictEqual((yield* post(sim, withMessagingObject({ to: "+919876543210,+919876543211" }))).status, 202)
        assert.strictEqual((yield* post(sim, withMessagingObject({ to: "+919876543210,+919876543211" }))).status, 403)
        assert.strictEqual((yield* post(sim)).status, 202)
        assert.strictEqual(yield* sim.balance, 1_000_000 - 3)
      }))

    it.effect("concurrent requests get distinct, sequential ids", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        yield* Effect.forEach(Array.from({ length: 200 }), () => post(sim), { concurrency: 50 })
        const ids = (yield* sim.sent).map((s) => s.messageId)
        assert.deepStrictEqual(ids, Array.from({ length: 200 }, (_, i) => KaleyraSimulator.messageId(i + 1)))
      }))

    it.effect("reset: balance, ids, history, scripts and scenarios back to the start", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make({ balance: 5 })
        yield* post(sim)
        yield* sim.failNext("WA500")
        yield* sim.setScenario("+919876543210", "E110")
        yield* sim.reset
        assert.strictEqual(yield* sim.balance, 5)
        assert.strictEqual((yield* sim.sent).length, 0)
        assert.strictEqual((yield* sim.requests).length, 0)
        const response = yield* post(sim)
        assert.strictEqual(response.body, acceptedBody(KaleyraSimulator.messageId(1)))
      }))

    it.effect("two fresh simulators issue the same ids", () =>
      Effect.gen(function*() {
        const ids = (sim: KaleyraSimulator.Simulator) =>
          Effect.gen(function*() {
            for (let i = 0; i < 5; i++) yield* post(sim)
            return (yield* sim.sent).map((s) => s.messageId)
          })
        assert.deepStrictEqual(yield* ids(yield* KaleyraSimulator.make()), yield* ids(yield* KaleyraSimulator.make()))
      }))
  })

  describe("payload validation", () => {
    const hostile: ReadonlyArray<readonly [string, unknown]> = [
      ["empty body", ""],
      ["not JSON", "{\"messaging_object\":"],
      ["null", "null"],
      ["an array", "[]"],
      ["a string", "\"hello\""],
      ["an empty object", "{}"],
      ["messaging_object null", { messaging_object: null }],
      ["messaging_object an array", { messaging_object: [] }],
      ["no messaging_object", { extra_info: validWire.extra_info }],
      ["unknown top-level key", { ...validWire, callback_url: "https://example.com" }],
      ["__proto__ key", "{\"__proto__\":{\"admin\":true}," + JSON.stringify(validWire).slice(1)],
      ["messaging_product missing", withMessagingObject({ messaging_product: undefined })],
      ["messaging_product sms", withMessagingObject({ messaging_product: "sms" })],
      ["recipient_type group", withMessagingObject({ recipient_type: "group" })],
      ["type text", withMessagingObject({ type: "text", text: { body: "hi" } })],
      ["type missing", withMessagingObject({ type: undefined })],
      ["type without its object", withMessagingObject({ type: "video" })],
      ["two media objects", withMessagingObject({ video: { id: "1" } })],
      ["to missing", withMessagingObject({ to: undefined })],
      ["to empty", withMessagingObject({ to: "" })],
      ["to without country code", withMessagingObject({ to: "9876543" })],
      ["to with letters", withMessagingObject({ to: "+91abc6543210" })],
      ["to with leading 0", withMessagingObject({ to: "+0919876543210" })],
      ["to too long", withMessagingObject({ to: "+9198765432101234" })],
      ["to with an empty entry", withMessagingObject({ to: "+919876543210," })],
      ["to a number", withMessagingObject({ to: 919876543210 })],
      ["to an array", withMessagingObject({ to: ["+919876543210"] })],
      ["both id and link", withMessagingObject({ image: { id: "1", link: "https://example.com/a.png" } })],
      ["neither id nor link", withMessagingObject({ image: { caption: "x" } })],
      ["media object a string", withMessagingObject({ image: "https://example.com/a.png" })],
      ["id empty", withMessagingObject({ image: { id: "" } })],
      ["id a number", withMessagingObject({ image: { id: 1012345678901291 } })],
      ["link ftp", withMessagingObject({ image: { link: "ftp://example.com/a.png" } })],
      ["link relative", withMessagingObject({ image: { link: "/a.png" } })],
      ["link without host", withMessagingObject({ image: { link: "https:///a.png" } })],
      ["link with a space", withMessagingObject({ image: { link: "https://example.com/a b.png" } })],
      ["link javascript", withMessagingObject({ image: { link: "javascript:alert(1)" } })],
      ["caption too long", withMessagingObject({ image: { id: "1", caption: "x".repeat(1025) } })],
      ["caption not a string", withMessagingObject({ image: { id: "1", caption: 5 } })],
      [
        "caption with a lone surrogate",
        "{\"messaging_object\":{\"messaging_product\":\"whatsapp\",\"to\":\"+919876543210\"," +
        "\"type\":\"image\",\"image\":{\"id\":\"1\",\"caption\":\"\\ud800\"}}}"
      ],
      ["caption on audio", withMessagingObject({ type: "audio", image: undefined, audio: { id: "1", caption: "x" } })],
      [
        "caption on sticker",
        withMessagingObject({ type: "sticker", image: undefined, sticker: { id: "1", caption: "x" } })
      ],
      ["filename on image", withMessagingObject({ image: { id: "1", filename: "a.png" } })],
      [
        "filename empty",
        withMessagingObject({ type: "document", image: undefined, document: { id: "1", filename: "" } })
      ],
      ["unknown media key", withMessagingObject({ image: { id: "1", mime_type: "image/png" } })],
      ["context without message_id", withMessagingObject({ context: {} })],
      ["context.message_id a number", withMessagingObject({ context: { message_id: 5 } })],
      ["context with another key", withMessagingObject({ context: { message_id: "wamid.x", from: "91" } })],
      ["extra_info null", { ...validWire, extra_info: null }],
      ["extra_info an array", { ...validWire, extra_info: [] }],
      ["ref a number", { ...validWire, extra_info: { ref: 5 } }],
      ["wa_source null", { ...validWire, extra_info: { wa_source: null } }],
      ["unknown extra_info key", { ...validWire, extra_info: { waSource: "api" } }],
      ["deeply nested", "[".repeat(100_000) + "]".repeat(100_000)]
    ]

    it.effect("hostile bodies answer WA400", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        for (const [name, body] of hostile) {
          const response = yield* post(sim, body)
          assert.strictEqual(response.status, 400, name)
          assert.deepStrictEqual(JSON.parse(response.body), seed.WA400.body, name)
        }
        assert.strictEqual((yield* sim.sent).length, 0)
        assert.strictEqual(yield* sim.balance, 1_000_000)
      }))

    it.effect("a wrong content type, or a body that is not UTF-8, answers WA400", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        for (const contentType of [undefined, "text/plain", "application/jsonp", "application/x-www-form-urlencoded"]) {
          const headers: Record<string, string> = { "api-key": "sim-api-key" }
          if (contentType !== undefined) headers["content-type"] = contentType
          assert.strictEqual((yield* post(sim, validWire, { headers })).status, 400, String(contentType))
        }
        const invalidUtf8 = new Uint8Array([...encoder.encode(JSON.stringify(validWire)).slice(0, -2), 0xff, 0x7d])
        assert.strictEqual((yield* post(sim, undefined, { raw: invalidUtf8 })).status, 400)
      }))

    it.effect.prop(
      "random JSON is a WA400, never a 5xx or a defect",
      [FastCheck.jsonValue()],
      ([value]) =>
        Effect.gen(function*() {
          const sim = yield* KaleyraSimulator.make()
          for (
            const body of [
              value,
              { messaging_object: value },
              withMessagingObject({ image: value }),
              withMessagingObject({ to: value }),
              { ...validWire, extra_info: value }
            ]
          ) {
            const response = yield* post(sim, body)
            assert.isTrue(response.status === 400 || response.status === 202, JSON.stringify(body))
            if (response.status === 400) assert.deepStrictEqual(JSON.parse(response.body), seed.WA400.body)
          }
        }),
      { fastCheck: { numRuns: 300 } }
    )

    it.effect.prop(
      "random bytes are a WA400",
      [FastCheck.uint8Array({ maxLength: 200 })],
      ([bytes]) =>
        Effect.gen(function*() {
          const sim = yield* KaleyraSimulator.make()
          const response = yield* post(sim, undefined, { raw: bytes })
          assert.strictEqual(response.status, 400)
        }),
      { fastCheck: { numRuns: 200 } }
    )
  })

  describe("app", () => {
    it.effect("serves the same behaviour as an HttpApp", () =>
      Effect.gen(function*() {
        const sim = yield* KaleyraSimulator.make()
        const handler = HttpApp.toWebHandler(sim.app)
        const send = (init: RequestInit, path = PATH) =>
          Effect.promise(async () => {
            const response = await handler(new Request(`http://localhost${path}`, init))
            return { status: response.status, headers: response.headers, body: await response.text() }
          })
        const accepted = yield* send({
          method: "POST",
          headers: { "content-type": "application/json", "api-key": "sim-api-key" },
          body: JSON.stringify(validWire)
        })
        assert.strictEqual(accepted.status, 202)
        assert.strictEqual(accepted.body, acceptedBody(KaleyraSimulator.messageId(1)))
        assert.include(accepted.headers.get("content-type") ?? "", "application/json")

        yield* sim.failNext("429", { retryAfter: 3 })
        const limited = yield* send({
          method: "POST",
          headers: { "content-type": "application/json", "api-key": "sim-api-key" },
          body: JSON.stringify(validWire)
        })
        assert.strictEqual(limited.status, 429)
        assert.strictEqual(limited.headers.get("retry-after"), "3")

        const unauthorized = yield* send({ method: "POST", body: "{}" })
        assert.strictEqual(unauthorized.status, 401)
        assert.deepStrictEqual(JSON.parse(unauthorized.body), seed.RBC001.body)

        const missing = yield* send({ method: "GET" }, "/v2/x")
        assert.strictEqual(missing.status, 404)

        yield* sim.failNext("503-html")
        const html = yield* send({
          method: "POST",
          headers: { "content-type": "application/json", "api-key": "sim-api-key" },
          body: JSON.stringify(validWire)
        })
        assert.strictEqual(html.status, 503)
        assert.include(html.headers.get("content-type") ?? "", "text/html")
        assert.strictEqual((yield* sim.requests)[0].path, PATH)
      }))
  })
})
