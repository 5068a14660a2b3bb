import { sendMedia } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { accepted, clientLayer, imageByLink, seedFailures } from "./utils.js"

const failWith = (reply: Parameters<typeof clientLayer>[0][number], options = { maxRetries: 0 }) => {
  const { layer, seen } = clientLayer([reply], options)
  return Effect.flip(sendMedia(imageByLink)).pipe(Effect.provide(layer), Effect.map((error) => ({ error, seen })))
}

describe("Kaleyra outcomes map to one tagged error each", () => {
  for (const [name, failure] of Object.entries(seedFailures)) {
    it.effect(`seed ${name} -> ${failure.tag}`, () =>
      Effect.gen(function*() {
        const { error, seen } = yield* failWith({ status: failure.status, body: JSON.stringify(failure.body) })
        assert.strictEqual(error._tag, failure.tag)
        assert.strictEqual(seen.length, 1)
        if (!("code" in error) || error._tag === "RateLimited") {
          return assert.fail("expected a Kaleyra response error")
        }
        assert.strictEqual(error.status, failure.status)
        assert.strictEqual(error.code, failure.body.code)
        assert.strictEqual(error.message, failure.body.message)
        assert.deepStrictEqual(error.error, failure.body.error)
      }))
  }

  it.effect("WAV2101 -> DailyLimitReached", () =>
    Effect.gen(function*() {
      const body = { code: "WAV2101", message: "Daily limit reached", data: {}, error: { account: "limit" } }
      const { error } = yield* failWith({ status: 400, body: JSON.stringify(body) })
      assert.strictEqual(error._tag, "DailyLimitReached")
    }))

  it.effect("codes are matched case- and space-insensitively, WA401 and WA-401 stay distinct", () =>
    Effect.gen(function*() {
      const a = yield* failWith({ status: 401, body: JSON.stringify({ code: " e110 ", message: "m", error: {} }) })
      assert.strictEqual(a.error._tag, "LowBalance")
      const b = yield* failWith({
        status: 401,
        body: JSON.stringify({ code: "WA-401", message: "m", error: { x: 1 } })
      })
      assert.strictEqual(b.error._tag, "UnknownKaleyraError")
    }))

  it.effect("an unknown Kaleyra code is kept whole in UnknownKaleyraError", () =>
    Effect.gen(function*() {
      const body = { code: "WA999", message: "Something new", data: {}, error: { thing: "detail" } }
      const { error } = yield* failWith({ status: 418, body: JSON.stringify(body) })
      assert.strictEqual(error._tag, "UnknownKaleyraError")
      if (error._tag !== "UnknownKaleyraError") return
      assert.deepStrictEqual([error.status, error.code, error.message, error.error], [418, "WA999", "Something new", {
        thing: "detail"
      }])
    }))

  it.effect("429 -> RateLimited with retryAfter", () =>
    Effect.gen(function*() {
      const { error } = yield* failWith({ status: 429, body: "Too Many Requests", headers: { "retry-after": "7" } })
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag !== "RateLimited") return
      assert.deepStrictEqual(error.retryAfter, Duration.seconds(7))
    }))

  it.effect("an HTML gateway page -> UnexpectedResponse with status and excerpt", () =>
    Effect.gen(function*() {
      const html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
      const { error, seen } = yield* failWith(
        { status: 502, body: html, headers: { "content-type": "text/html" } },
        { maxRetries: 2 }
      )
      assert.strictEqual(error._tag, "UnexpectedResponse")
      if (error._tag !== "UnexpectedResponse") return
      assert.strictEqual(error.status, 502)
      assert.strictEqual(error.reason, "InvalidJson")
      assert.strictEqual(error.contentType, "text/html")
      assert.strictEqual(error.excerpt, html)
      assert.strictEqual(seen.length, 1, "a 502 is ambiguous and is not retried")
    }))

  it.effect("empty body, non-Kaleyra JSON, huge body", () =>
    Effect.gen(function*() {
      const empty = yield* failWith({ status: 500, body: "" })
      assert.strictEqual(empty.error._tag === "UnexpectedResponse" && empty.error.reason, "EmptyBody")
      const other = yield* failWith({ status: 500, body: JSON.stringify({ oops: true }) })
      assert.strictEqual(other.error._tag === "UnexpectedResponse" && other.error.reason, "NotKaleyra")
      const huge = yield* failWith({ status: 500, body: "x".repeat(2 * 1024 * 1024) })
      assert.strictEqual(huge.error._tag === "UnexpectedResponse" && huge.error.reason, "TooLarge")
      if (huge.error._tag === "UnexpectedResponse") assert.isAtMost(huge.error.excerpt.length, 513)
    }))

  it.effect("a 2xx is a success whatever else its body holds; Meta's messages[0].id is accepted", () =>
    Effect.gen(function*() {
      const kaleyra = yield* sendMedia(imageByLink).pipe(Effect.provide(
        clientLayer([{
          status: 202,
          body: JSON.stringify({
            code: "WA202",
            message: "Request Accepted",
            data: { message_id: "m-1" },
            error: { note: "x" }
          })
        }]).layer
      ))
      assert.strictEqual(kaleyra.messageId, "m-1")
      assert.strictEqual(kaleyra.code, "WA202")
      assert.deepStrictEqual(kaleyra.recipients, ["+919876543210"])
      const meta = yield* sendMedia(imageByLink).pipe(Effect.provide(
        clientLayer([{
          status: 200,
          body: JSON.stringify({ messaging_product: "whatsapp", messages: [{ id: "wamid.ABC" }] })
        }]).layer
      ))
      assert.strictEqual(meta.messageId, "wamid.ABC")
      assert.strictEqual(meta.attempts, 1)
    }))

  it.effect("a 2xx without a message id is an accepted UnexpectedResponse, never retried", () =>
    Effect.gen(function*() {
      const { error, seen } = yield* failWith({ status: 202, body: JSON.stringify({ code: "WA202" }) }, {
        maxRetries: 2
      })
      assert.strictEqual(error._tag, "UnexpectedResponse")
      if (error._tag !== "UnexpectedResponse") return
      assert.strictEqual(error.reason, "MissingId")
      assert.isTrue(error.accepted)
      assert.match(error.message, /do not send it again/)
      assert.strictEqual(seen.length, 1)
    }))

  it.effect("the request is Kaleyra's: path, headers, JSON body", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([accepted()])
      yield* sendMedia(imageByLink).pipe(Effect.provide(layer))
      assert.strictEqual(seen[0].method, "POST")
      assert.strictEqual(seen[0].url, "http://kaleyra.test/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/messages")
      assert.strictEqual(seen[0].headers["content-type"], "application/json")
      assert.strictEqual(seen[0].headers["api-key"], "sk-LIVE-9f8e7d6c5b4a-secret")
      assert.strictEqual(seen[0].headers["cache-control"], "no-cache")
      assert.isUndefined(seen[0].headers["traceparent"], "no trace headers are sent to a third party")
      assert.deepStrictEqual(JSON.parse(seen[0].body), {
        messaging_object: {
          messaging_product: "whatsapp",
          recipient_type: "individual",
          to: "+919876543210",
          type: "image",
          image: { link: "https://example.com/a.png", caption: "Hello" }
        },
        extra_info: { ref: "customer1", ref1: "marketing", ref2: "dictionary", wa_source: "api" }
      })
    }))
})
