/**
 * The simulator's payload oracle, tested directly: the rules it checks one by one, what it stores of `extra_info`, the
 * upload check, and that it stays a second opinion (it agrees with core on valid messages without importing core's
 * validators).
 */
import { MediaMessage, SendMediaRequest } from "@effect-kaleyra/core"
import { Arbitraries } from "@effect-kaleyra/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { readFileSync } from "node:fs"
import * as Oracle from "../src/internal/simulator/oracle.js"

// Meta's own request examples for every media type (facebook/openapi, MIT), as core's wire test reads them.
const examples: {
  readonly examples: ReadonlyArray<{
    readonly name: string
    readonly messaging_object: { readonly type: string; readonly to: string }
  }>
} = JSON.parse(readFileSync(new URL("../../core/test/fixtures/meta-media-examples.json", import.meta.url), "utf8"))

const image = { link: "https://example.com/a.png", caption: "Hello" }

const body = (
  messagingObject: Record<string, unknown> = {},
  extra: Record<string, unknown> | undefined = undefined
): Record<string, unknown> => ({
  messaging_object: {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: "+919876543210",
    type: "image",
    image,
    ...messagingObject
  },
  ...(extra === undefined ? {} : { extra_info: extra })
})

/** A body with one field of `messaging_object` removed. */
const without = (key: string): Record<string, unknown> => {
  const { [key]: _, ...rest } = body().messaging_object as Record<string, unknown>
  return { messaging_object: rest }
}

describe("the simulator's payload oracle", () => {
  it("accepts every request example of Meta's API, with and without extra_info", () => {
    for (const example of examples.examples) {
      for (const extra of [undefined, { ref: "r", wa_source: "api" }]) {
        const valid = Oracle.validBody({
          messaging_object: example.messaging_object,
          ...(extra === undefined ? {} : { extra_info: extra })
        })
        assert.isDefined(valid, example.name)
        assert.strictEqual(valid!.type, example.messaging_object.type, example.name)
        assert.deepStrictEqual(valid!.recipients, [example.messaging_object.to], example.name)
      }
    }
  })

  it("refuses each rule's violation, and accepts the same body without it", () => {
    const refused: ReadonlyArray<readonly [string, unknown]> = [
      ["not an object", []],
      ["no messaging_object", { extra_info: {} }],
      ["an unknown top-level key", { ...body(), extra: 1 }],
      ["an unknown key in messaging_object", body({ preview_url: true })],
      ["an unknown key in the media", body({ image: { ...image, mime_type: "image/png" } })],
      ["another messaging_product", body({ messaging_product: "sms" })],
      ["an unknown type", body({ type: "text", text: { body: "hi" } })],
      ["the media under another key", body({ type: "video" })],
      ["another recipient_type", body({ recipient_type: "group" })],
      ["both id and link", body({ image: { id: "1012345678901291", link: image.link } })],
      ["neither id nor link", body({ image: { caption: "Hello" } })],
      ["an id with a space", body({ image: { id: "10 12" } })],
      ["a link that is not http(s)", body({ image: { link: "ftp://example.com/a.png" } })],
      ["a link with a space", body({ image: { link: "https://example.com/a b.png" } })],
      ["a caption on audio", body({ type: "audio", image: undefined, audio: { link: image.link, caption: "x" } })],
      [
        "a caption on a sticker",
        body({ type: "sticker", image: undefined, sticker: { link: image.link, caption: "x" } })
      ],
      ["a filename on an image", body({ image: { ...image, filename: "a.png" } })],
      ["an empty filename", body({ type: "document", image: undefined, document: { link: image.link, filename: "" } })],
      ["a caption over 1024 code points", body({ image: { link: image.link, caption: "😀".repeat(1025) } })],
      ["a caption with a lone surrogate", body({ image: { link: image.link, caption: "a\ud800b" } })],
      ["a recipient that is not E.164", body({ to: "09876543210" })],
      ["a recipient too short", body({ to: "+1234567" })],
      ["one bad recipient among good ones", body({ to: "+919876543210,12" })],
      ["a context without message_id", body({ context: {} })],
      ["a context with another key", body({ context: { message_id: "wamid.1", from: "x" } })],
      ["biz_opaque_callback_data over 512", body({ biz_opaque_callback_data: "x".repeat(513) })],
      ["a non-string extra_info value", body({}, { ref: 1 })],
      ["an unknown extra_info key", body({}, { ref3: "x" })],
      ["a ref with a lone surrogate", body({}, { ref: "\udc00" })],
      ["extra_info not an object", { ...body(), extra_info: "ref" }],
      ["no to", without("to")],
      ["no media", without("image")]
    ]
    for (const [name, candidate] of refused) {
      // `undefined` fields written above stand for "absent": JSON drops them, as on the wire.
      const wire = JSON.parse(JSON.stringify(candidate))
      assert.isUndefined(Oracle.validBody(wire), name)
    }
    assert.isDefined(Oracle.validBody(body({ image: { link: image.link, caption: "😀".repeat(1024) } })))
    assert.isDefined(Oracle.validBody(body({ context: { message_id: "wamid.1" }, biz_opaque_callback_data: "x" })))
  })

  it("stores extra_info as Kaleyra does: refs cut to 255 code points, an unknown wa_source becomes api", () => {
    const long = "😀".repeat(300)
    const valid = Oracle.validBody(body({}, { ref: long, ref1: "a", ref2: "b", wa_source: "myapp" }))
    assert.deepStrictEqual(valid?.extraInfo, { ref: "😀".repeat(255), ref1: "a", ref2: "b", waSource: "api" })
    assert.deepStrictEqual(Oracle.validBody(body({}, { wa_source: "moengage" }))?.extraInfo, { waSource: "moengage" })
  })

  it("reads the recipients in E.164, + added, in order", () => {
    assert.deepStrictEqual(Oracle.validBody(body({ to: "919876543210, +14155550100" }))?.recipients, [
      "+919876543210",
      "+14155550100"
    ])
    // For scenarios: the recipients of any body, separators allowed, invalid entries skipped.
    assert.deepStrictEqual(Oracle.recipientsOf(body({ to: "+91 98765-43210,xx" })), ["+919876543210"])
  })

  it("takes JSON content types only", () => {
    for (const type of ["application/json", "Application/JSON; charset=utf-8", " application/json\t;x=y"]) {
      assert.isTrue(Oracle.isJsonContentType(type), type)
    }
    for (const type of [undefined, "application/jsonp", "text/plain", "application/x-json"]) {
      assert.isFalse(Oracle.isJsonContentType(type), String(type))
    }
  })

  it.effect("checks an upload's type and size", () =>
    Effect.gen(function*() {
      const upload = (type: string, bytes: number) => {
        const form = new FormData()
        form.append("file", new Blob([new Uint8Array(bytes).fill(1)]), "file.bin")
        form.append("type", type)
        const request = new Request("http://localhost/", { method: "POST", body: form })
        return Effect.promise(async () =>
          Oracle.parseUpload(new Uint8Array(await request.arrayBuffer()), request.headers.get("content-type")!)
        )
      }
      const png = yield* upload("image/png", 10)
      assert.deepStrictEqual(png && { ...png, data: png.data.length }, {
        mimeType: "image/png",
        mediaType: "image",
        filename: "file.bin",
        size: 10,
        data: 10
      })
      assert.isUndefined(yield* upload("image/gif", 10), "an unsupported type")
      assert.isUndefined(yield* upload("image/png", 0), "an empty file")
      assert.isUndefined(yield* upload("image/png", 5 * 1024 * 1024 + 1), "over the image limit")
      assert.isUndefined(yield* Effect.promise(() => Oracle.parseUpload(new Uint8Array(3), "multipart/form-data; b=x")))
      assert.isFalse(Oracle.isMultipart("application/json"))
    }))

  it.prop("agrees with core on every valid message: core's wire body is accepted as sent", [
    Arbitraries.validMessage
  ], ([input]) => {
    const message = Either.getOrThrow(MediaMessage.validate(input))
    const valid = Oracle.validBody(JSON.parse(SendMediaRequest.toWireJson(message)))
    assert.isDefined(valid)
    assert.strictEqual(valid!.type, message.type)
    assert.deepStrictEqual(valid!.recipients, [...message.to])
  })

  it.prop("agrees with core on every valid template", [Arbitraries.validTemplate], ([input]) => {
    const message = Either.getOrThrow(MediaMessage.validate(input))
    assert.isDefined(Oracle.validBody(JSON.parse(SendMediaRequest.toWireJson(message))))
  })

  it("imports none of core's validators: only its types and its table of upload limits", () => {
    const source = readFileSync(new URL("../src/internal/simulator/oracle.ts", import.meta.url), "utf8")
    const imports = source.match(/^import .*$/gm) ?? []
    const runtime = imports.filter((line) => !line.startsWith("import type"))
    assert.deepStrictEqual(runtime, [`import * as MediaFile from "@effect-kaleyra/core/MediaFile"`])
  })
})
