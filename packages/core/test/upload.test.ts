import { MediaFile, MediaMessage, sendMedia, uploadMedia } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Fiber, TestClock } from "effect"
import { files } from "./files.js"
import { accepted, clientLayer, seedFailures } from "./utils.js"

const uploaded = (body: unknown = { id: "1012345678901291" }) => ({ status: 200, body: JSON.stringify(body) })

const limits: ReadonlyArray<readonly [string, (size: number) => Uint8Array, string, string, number]> = [
  ["image/jpeg", files.jpeg, "a.jpg", "image", 5_000_000],
  ["image/png", files.png, "a.png", "image", 5_000_000],
  ["audio/aac", files.aac, "a.aac", "audio", 16_000_000],
  ["audio/amr", files.amr, "a.amr", "audio", 16_000_000],
  ["audio/mpeg", files.mp3, "a.mp3", "audio", 16_000_000],
  ["audio/mp4", files.m4a, "a.m4a", "audio", 16_000_000],
  ["audio/ogg", files.ogg, "a.ogg", "audio", 16_000_000],
  ["video/mp4", files.mp4, "a.mp4", "video", 16_000_000],
  ["video/3gpp", files.threeGp, "a.3gp", "video", 16_000_000],
  ["application/pdf", files.pdf, "a.pdf", "document", 100_000_000],
  ["text/plain", files.text, "a.txt", "document", 100_000_000],
  ["application/msword", files.doc, "a.doc", "document", 100_000_000],
  [
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    files.docx,
    "a.docx",
    "document",
    100_000_000
  ],
  ["image/webp", files.webp, "a.webp", "sticker", 100_000],
  ["image/webp", files.animatedWebp, "b.webp", "sticker", 500_000]
]

describe("uploadMedia", () => {
  it.effect("sends multipart file + type to /media with the api-key and no hand-set content type", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([uploaded()])
      const data = files.png(2048)
      const result = yield* uploadMedia({ data, filename: "photo.png", mimeType: "image/png" }).pipe(
        Effect.provide(layer)
      )
      assert.deepStrictEqual(result, {
        id: "1012345678901291",
        mimeType: "image/png",
        mediaType: "image",
        filename: "photo.png",
        size: 2048,
        attempts: 1
      })
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(seen[0].url, "http://kaleyra.test/v2/HXAP16XXXXXX97IN/whatsapp/919999999999/media")
      assert.strictEqual(seen[0].headers["api-key"], "sk-LIVE-9f8e7d6c5b4a-secret")
      assert.isUndefined(seen[0].headers["content-type"])
      const form = seen[0].form!
      assert.strictEqual(form.get("type"), "image/png")
      const file = form.get("file") as File
      assert.strictEqual(file.name, "photo.png")
      assert.strictEqual(file.type, "image/png")
      assert.deepStrictEqual(new Uint8Array(yield* Effect.promise(() => file.arrayBuffer())), data)
    }))

  it.effect("infers the MIME type from the bytes, else from the extension; takes a Blob", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([uploaded()])
      const a = yield* uploadMedia({ data: files.pdf(), filename: "invoice" }).pipe(Effect.provide(layer))
      assert.strictEqual(a.mimeType, "application/pdf")
      const b = yield* uploadMedia({ data: new Blob([files.docx()]), filename: "report.docx" }).pipe(
        Effect.provide(layer)
      )
      assert.strictEqual(b.mimeType, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
      const c = yield* uploadMedia({ data: files.text(), filename: "notes.txt" }).pipe(Effect.provide(layer))
      assert.strictEqual(c.mimeType, "text/plain")
      assert.strictEqual(seen.length, 3)
    }))

  for (const [mimeType, make, filename, mediaType, limit] of limits) {
    it.effect(`${mimeType} ${filename}: exactly ${limit} bytes passes, one more fails and sends nothing`, () =>
      Effect.gen(function*() {
        const { layer, seen } = clientLayer([uploaded()])
        const ok = yield* uploadMedia({ data: make(limit), filename, mimeType }).pipe(Effect.provide(layer))
        assert.strictEqual(ok.mediaType, mediaType)
        assert.strictEqual(seen.length, 1)
        const error = yield* Effect.flip(
          uploadMedia({ data: make(limit + 1), filename, mimeType }).pipe(Effect.provide(layer))
        )
        assert.strictEqual(error._tag, "InvalidMedia")
        if (error._tag !== "InvalidMedia") return
        assert.strictEqual(error.rule, "TooLarge")
        assert.strictEqual(error.limit, limit)
        assert.strictEqual(error.size, limit + 1)
        assert.strictEqual(seen.length, 1, "nothing sent for the refused file")
      }))
  }

  const refused: ReadonlyArray<readonly [string, Parameters<typeof uploadMedia>[0], MediaFile.MediaRule]> = [
    ["an empty file", { data: new Uint8Array(0), filename: "a.png", mimeType: "image/png" }, "Empty"],
    ["a PNG declared as JPEG", { data: files.png(), filename: "a.jpg", mimeType: "image/jpeg" }, "TypeMismatch"],
    ["a PDF declared as PNG", { data: files.pdf(), filename: "a.png", mimeType: "image/png" }, "TypeMismatch"],
    ["an executable declared as PDF", {
      data: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
      filename: "a.pdf",
      mimeType: "application/pdf"
    }, "TypeMismatch"],
    ["a PNG declared as text", { data: files.png(), filename: "a.txt", mimeType: "text/plain" }, "TypeMismatch"],
    [
      "a GIF",
      { data: new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]), filename: "a.gif", mimeType: "image/gif" },
      "UnsupportedType"
    ],
    ["plain audio/wav", { data: files.text(), filename: "a.wav", mimeType: "audio/wav" }, "UnsupportedType"],
    [
      "unknown bytes, unknown extension",
      { data: new Uint8Array([1, 2, 3, 0, 5]), filename: "blob.bin" },
      "UnknownType"
    ],
    ["a path separator", { data: files.png(), filename: "../etc/a.png", mimeType: "image/png" }, "InvalidFilename"],
    ["a backslash", { data: files.png(), filename: "C:\\a.png", mimeType: "image/png" }, "InvalidFilename"],
    ["an empty filename", { data: files.png(), filename: "", mimeType: "image/png" }, "InvalidFilename"],
    ["a newline in the filename", { data: files.png(), filename: "a\n.png", mimeType: "image/png" }, "InvalidFilename"],
    ["not bytes", { data: "hello" as unknown as Uint8Array, filename: "a.txt" }, "InvalidInput"],
    [
      "a number as MIME type",
      { data: files.png(), filename: "a.png", mimeType: 5 as unknown as string },
      "InvalidInput"
    ]
  ]
  for (const [name, input, rule] of refused) {
    it.effect(`refuses ${name} (${rule}) before sending`, () =>
      Effect.gen(function*() {
        const { layer, seen } = clientLayer([uploaded()])
        const error = yield* Effect.flip(uploadMedia(input).pipe(Effect.provide(layer)))
        assert.strictEqual(error._tag, "InvalidMedia")
        if (error._tag === "InvalidMedia") assert.strictEqual(error.rule, rule, error.message)
        assert.strictEqual(seen.length, 0)
      }))
  }

  for (
    const [path, body] of [
      ["id", { id: "m1" }],
      ["media_id", { media_id: "m1" }],
      ["data.media_id", { code: "WA200", data: { media_id: "m1" } }],
      ["data.id", { data: { id: "m1" } }]
    ] as const
  ) {
    it.effect(`reads the media id from ${path}`, () =>
      Effect.gen(function*() {
        const { layer } = clientLayer([uploaded(body)])
        const result = yield* uploadMedia({ data: files.jpeg(), filename: "a.jpg" }).pipe(Effect.provide(layer))
        assert.strictEqual(result.id, "m1")
      }))
  }

  it.effect("a 2xx without an id keeps the raw body on UnexpectedResponse", () =>
    Effect.gen(function*() {
      const { layer } = clientLayer([uploaded({ status: "ok", handle: "h:1" })])
      const error = yield* Effect.flip(
        uploadMedia({ data: files.jpeg(), filename: "a.jpg" }).pipe(Effect.provide(layer))
      )
      assert.strictEqual(error._tag, "UnexpectedResponse")
      if (error._tag !== "UnexpectedResponse") return
      assert.strictEqual(error.reason, "MissingId")
      assert.deepStrictEqual(error.body, { status: "ok", handle: "h:1" })
    }))

  for (const [name, failure] of Object.entries(seedFailures)) {
    it.effect(`upload error ${name} -> ${failure.tag}`, () =>
      Effect.gen(function*() {
        const { layer } = clientLayer([{ status: failure.status, body: JSON.stringify(failure.body) }], {
          maxRetries: 0
        })
        const error = yield* Effect.flip(
          uploadMedia({ data: files.jpeg(), filename: "a.jpg" }).pipe(Effect.provide(layer))
        )
        assert.strictEqual(error._tag, failure.tag)
      }))
  }

  it.effect("a prepaid account's 401 is ApiNotAvailable", () =>
    Effect.gen(function*() {
      const { layer } = clientLayer([{ status: 401, body: JSON.stringify(seedFailures["WA-401-account"].body) }])
      const error = yield* Effect.flip(
        uploadMedia({ data: files.jpeg(), filename: "a.jpg" }).pipe(Effect.provide(layer))
      )
      assert.strictEqual(error._tag, "ApiNotAvailable")
    }))

  it.effect("WA500 on upload is retried with the same multipart body", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([{ status: 500, body: JSON.stringify(seedFailures.WA500.body) }, uploaded()])
      const fiber = yield* Effect.fork(
        uploadMedia({ data: files.jpeg(), filename: "a.jpg" }).pipe(Effect.provide(layer))
      )
      yield* TestClock.adjust("5 seconds")
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.attempts, 2)
      assert.strictEqual(seen.length, 2)
      assert.strictEqual((seen[1].form!.get("file") as File).size, 1000)
    }))

  it.effect("upload then send by id", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([uploaded({ id: "42" }), accepted("m-1")])
      const { id } = yield* uploadMedia({ data: files.pdf(), filename: "invoice.pdf" }).pipe(Effect.provide(layer))
      const sent = yield* sendMedia(MediaMessage.document({ to: "+919876543210", id, filename: "invoice.pdf" })).pipe(
        Effect.provide(layer)
      )
      assert.strictEqual(sent.messageId, "m-1")
      assert.deepStrictEqual(JSON.parse(seen[1].body).messaging_object.document, { id: "42", filename: "invoice.pdf" })
    }))

  it("sniffing tells formats apart", () => {
    assert.deepStrictEqual(MediaFile.sniff(files.png()), { _tag: "Known", mimeType: "image/png" })
    assert.deepStrictEqual(MediaFile.sniff(files.animatedWebp()), {
      _tag: "Known",
      mimeType: "image/webp",
      animated: true
    })
    assert.deepStrictEqual(MediaFile.sniff(files.webp()), { _tag: "Known", mimeType: "image/webp", animated: false })
    assert.deepStrictEqual(MediaFile.sniff(files.threeGp()), { _tag: "Known", mimeType: "video/3gpp" })
    assert.strictEqual(MediaFile.sniff(files.text())._tag, "Text")
    assert.isTrue(Either.isLeft(MediaFile.check({ head: files.webp(), size: 100_001, filename: "s.webp" })))
    assert.isTrue(Either.isRight(MediaFile.check({ head: files.animatedWebp(), size: 100_001, filename: "s.webp" })))
  })
})
