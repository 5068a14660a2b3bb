/**
 * Hostile input, 10 000 runs per property: whatever `sendMedia`, `uploadMedia` and the callback decoder are given,
 * they never die with a defect, never send an invalid request, and a refusal always names the failing field.
 */
import {
  decodeCallbacks,
  HttpTransport,
  KaleyraClient,
  MediaFile,
  MediaMessage,
  sendMedia,
  uploadMedia
} from "@effect-kaleyra/core"
import { HttpClient, type HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, FastCheck, Layer, ManagedRuntime } from "effect"
import { baseOptions } from "./utils.js"

/** A lean transport that records each request and accepts it (no web Request/Response: 10 000 runs stay fast). */
const recording = () => {
  const seen: Array<HttpClientRequest.HttpClientRequest> = []
  const respond = (request: HttpClientRequest.HttpClientRequest) => {
    seen.push(request)
    const body = request.url.endsWith("/media")
      ? JSON.stringify({ id: "m-1" })
      : JSON.stringify({ code: "WA202", message: "Request Accepted", data: { message_id: "m-1" }, error: {} })
    return {
      request,
      status: 202,
      headers: { "content-type": "application/json", "content-length": String(body.length) },
      text: Effect.succeed(body)
    } as unknown as HttpClientResponse.HttpClientResponse
  }
  const client = HttpTransport.withNativeTimeout(
    HttpClient.makeWith((effect) => Effect.map(effect, respond), Effect.succeed) as HttpClient.HttpClient
  )
  const runtime = ManagedRuntime.make(
    KaleyraClient.layer(baseOptions).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)))
  )
  return { seen, runtime }
}
const bodyText = (request: HttpClientRequest.HttpClientRequest) =>
  request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""

const RUNS = 10_000

const nasty = FastCheck.oneof(
  FastCheck.string({ unit: "binary", maxLength: 300 }),
  FastCheck.string({ unit: FastCheck.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) }),
  FastCheck.constantFrom("", " ", "\u0000", "\ud800", "../../etc/passwd", "a/b", "C:\\x", "%2e%2e", "javascript:x"),
  FastCheck.constant("x".repeat(70_000)),
  FastCheck.constant("😀".repeat(1100))
)
const anything = FastCheck.anything({ maxDepth: 2, maxKeys: 4, withBigInt: true, withNullPrototype: true })
const anyValue = FastCheck.oneof({ weight: 3, arbitrary: anything }, { weight: 2, arbitrary: nasty })
const field = FastCheck.oneof({ weight: 3, arbitrary: anyValue }, {
  weight: 2,
  arbitrary: FastCheck.constant(undefined)
})

const messageLike = FastCheck.record({
  type: FastCheck.oneof(FastCheck.constantFrom(...MediaMessage.mediaTypes), anyValue),
  to: FastCheck.oneof(nasty, FastCheck.array(FastCheck.oneof(nasty, anyValue), { maxLength: 5 }), anyValue),
  image: FastCheck.record({ id: field, link: field, caption: field, filename: field }, { requiredKeys: [] }),
  audio: FastCheck.record({ id: field, link: field, caption: field }, { requiredKeys: [] }),
  document: FastCheck.record({ id: field, link: field, caption: field, filename: field }, { requiredKeys: [] }),
  sticker: FastCheck.oneof(FastCheck.record({ id: field, link: field }, { requiredKeys: [] }), anyValue),
  video: FastCheck.record({ link: field, caption: field }, { requiredKeys: [] }),
  replyTo: field,
  extraInfo: FastCheck.oneof(
    FastCheck.record({ ref: field, ref1: field, ref2: field, waSource: field }, { requiredKeys: [] }),
    anyValue
  )
}, { requiredKeys: [] })

const knownFields =
  /^(input|type|to(\[\d+\])?|(audio|document|image|sticker|video)(\.\w+)?|replyTo|extraInfo(\.\w+)?|\w+)$/

describe("hostile input", () => {
  it("sendMedia", async () => {
    const { runtime, seen } = recording()
    await FastCheck.assert(
      FastCheck.asyncProperty(FastCheck.oneof(anyValue, messageLike), async (input) => {
        seen.length = 0
        const exit = await runtime.runPromiseExit(sendMedia(input as MediaMessage.SendMediaInput))
        if (Exit.isSuccess(exit)) {
          // only a valid request left, and it is exactly the validated message
          assert.strictEqual(seen.length, 1)
          const wire = MediaMessage.fromWireBody(JSON.parse(bodyText(seen[0])))
          assert.isTrue(Either.isRight(wire))
          assert.deepStrictEqual(Either.getOrThrow(wire), Either.getOrThrow(MediaMessage.validate(input)))
          return
        }
        assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
        const error = Cause.squash(exit.cause) as { _tag: string; field: string; reason: string }
        assert.strictEqual(error._tag, "InvalidMessage")
        assert.match(error.field, knownFields)
        assert.isAbove(error.reason.length, 0)
        assert.strictEqual(seen.length, 0)
      }),
      { numRuns: RUNS }
    )
    await runtime.dispose()
  }, 300_000)

  const bytes = FastCheck.oneof(
    FastCheck.uint8Array({ maxLength: 64 }),
    FastCheck.constantFrom(
      new Uint8Array(0),
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
      new Uint8Array([0xff, 0xd8, 0xff, 0xe0]),
      new TextEncoder().encode("%PDF-1.7 hello"),
      new TextEncoder().encode("plain text")
    )
  )
  const uploadLike = FastCheck.record({
    data: FastCheck.oneof(bytes, bytes.map((b) => new Blob([b as Uint8Array<ArrayBuffer>])), anyValue),
    filename: FastCheck.oneof(nasty, FastCheck.constantFrom("a.png", "a.jpg", "a.pdf", "a.txt", "a.webp"), anyValue),
    mimeType: FastCheck.oneof(
      FastCheck.constant(undefined),
      FastCheck.constantFrom(...MediaFile.supportedTypes.map((t) => t.mimeType), "image/gif", "IMAGE/PNG; q=1"),
      nasty,
      anyValue
    )
  }, { requiredKeys: [] })

  it("uploadMedia", async () => {
    const { runtime, seen } = recording()
    await FastCheck.assert(
      FastCheck.asyncProperty(FastCheck.oneof(anyValue, uploadLike), async (input) => {
        seen.length = 0
        const exit = await runtime.runPromiseExit(uploadMedia(input as Parameters<typeof uploadMedia>[0]))
        if (Exit.isSuccess(exit)) {
          assert.strictEqual(seen.length, 1)
          const body = seen[0].body
          assert.strictEqual(body._tag, "FormData")
          if (body._tag !== "FormData") return
          const file = body.formData.get("file") as File
          assert.isTrue(MediaFile.supportedTypes.some((t) => t.mimeType === body.formData.get("type")))
          assert.isAbove(file.size, 0)
          // eslint-disable-next-line no-control-regex
          assert.notMatch(file.name, /[/\\\u0000-\u001f]/)
          return
        }
        assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
        const error = Cause.squash(exit.cause) as MediaFile.InvalidMedia
        assert.strictEqual(error._tag, "InvalidMedia")
        assert.include(["input", "data", "filename", "mimeType"], error.field)
        assert.isAbove(error.reason.length, 0)
        assert.strictEqual(seen.length, 0)
      }),
      { numRuns: RUNS }
    )
    await runtime.dispose()
  }, 300_000)

  const callbackLike = FastCheck.oneof(
    anyValue,
    FastCheck.record({ id: field, status: field, mobile: field, error_code: field, from: field, type: field }, {
      requiredKeys: []
    }),
    FastCheck.record({
      meta_object: FastCheck.oneof(
        anyValue,
        FastCheck.record({
          value: FastCheck.oneof(
            anyValue,
            FastCheck.record({
              statuses: FastCheck.oneof(
                anyValue,
                FastCheck.array(FastCheck.record({ id: field, status: field, errors: field }, { requiredKeys: [] }))
              ),
              messages: FastCheck.oneof(anyValue, FastCheck.array(FastCheck.record({ from: field, type: field })))
            }, { requiredKeys: [] })
          )
        }, { requiredKeys: [] })
      ),
      extra_info: field,
      message_id: field,
      status: field
    }, { requiredKeys: [] })
  )

  it.prop("the callback decoder", [callbackLike], ([body]) => {
    const decoded = decodeCallbacks(body)
    if (Either.isLeft(decoded)) {
      assert.strictEqual(decoded.left._tag, "CallbackDecodeError")
      assert.isAbove(decoded.left.reason.length, 0)
    } else {
      assert.isAbove(decoded.right.length, 0)
      for (const event of decoded.right) {
        if (event._tag === "MessageStatusUpdated") {
          assert.include(["sent", "delivered", "read", "failed"], event.status)
          assert.isString(event.messageId)
        } else assert.isString(event.from)
      }
    }
  }, { timeout: 300_000, fastCheck: { numRuns: RUNS } })
})
