import { MediaMessage } from "@effect-kaleyra/core"
import * as MediaUpload from "@effect-kaleyra/core/MediaUpload"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, TestClock } from "effect"
import { files } from "./files.js"
import { accepted, clientLayer, seedFailures } from "./utils.js"

const TO = "+919876543210"

const uploaded = (id = "1012345678901291") => ({ status: 200, body: JSON.stringify({ id }) })

const failure = (name: keyof typeof seedFailures) => ({
  status: seedFailures[name].status,
  body: JSON.stringify(seedFailures[name].body)
})

/** The client layer with its (impossible here) ConfigError turned into a defect, so errors are exactly the call's. */
const provide = <A, E>(
  effect: Effect.Effect<A, E, Layer.Layer.Success<ReturnType<typeof clientLayer>["layer"]>>,
  layer: ReturnType<typeof clientLayer>["layer"]
) => Effect.provide(effect, Layer.orDie(layer))

const wireOf = (body: string) =>
  JSON.parse(body) as { readonly messaging_object: Record<string, unknown>; readonly extra_info?: unknown }

describe("MediaUpload.sendMediaFile", () => {
  it.effect("uploads an image, then sends it by id as an image with its caption", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([uploaded(), accepted("wamid.1")])
      const result = yield* MediaUpload.sendMediaFile({
        to: TO,
        data: files.png(2048),
        filename: "photo.png",
        caption: "Our new catalogue",
        extraInfo: { ref: "order-1" }
      }).pipe((effect) => provide(effect, layer))
      assert.deepStrictEqual(result.upload, {
        id: "1012345678901291",
        mimeType: "image/png",
        mediaType: "image",
        filename: "photo.png",
        size: 2048,
        attempts: 1
      })
      assert.strictEqual(result.send.messageId, "wamid.1")
      assert.strictEqual(result.send.type, "image")
      assert.strictEqual(seen.length, 2)
      assert.match(seen[0].url, /\/media$/)
      assert.match(seen[1].url, /\/messages$/)
      const wire = wireOf(seen[1].body)
      assert.strictEqual(wire.messaging_object.type, "image")
      assert.deepStrictEqual(wire.messaging_object.image, { id: "1012345678901291", caption: "Our new catalogue" })
      assert.deepStrictEqual(wire.extra_info, { ref: "order-1" })
    }))

  const types: ReadonlyArray<readonly [string, Uint8Array, string, MediaMessage.MediaType]> = [
    ["a JPEG", files.jpeg(), "a.jpg", "image"],
    ["an OGG", files.ogg(), "a.ogg", "audio"],
    ["an MP4", files.mp4(), "a.mp4", "video"],
    ["a PDF", files.pdf(), "invoice.pdf", "document"],
    ["a static WebP", files.webp(), "thanks.webp", "sticker"],
    ["a DOCX", files.docx(), "report.docx", "document"]
  ]
  for (const [name, data, filename, mediaType] of types) {
    it.effect(`${name} is sent as ${mediaType}, with the media type the upload reported`, () =>
      Effect.gen(function*() {
        const { layer, seen } = clientLayer([uploaded("m1"), accepted()])
        const result = yield* MediaUpload.sendMediaFile({ to: TO, data, filename }).pipe((effect) =>
          provide(effect, layer)
        )
        assert.strictEqual(result.upload.mediaType, mediaType)
        assert.strictEqual(result.send.type, mediaType)
        const wire = wireOf(seen[1].body)
        assert.strictEqual(wire.messaging_object.type, mediaType)
        assert.deepStrictEqual(
          wire.messaging_object[mediaType],
          mediaType === "document" ? { id: "m1", filename } : { id: "m1" }
        )
      }))
  }

  it.effect("a document keeps its caption and is shown under its file name; a Blob is accepted", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([uploaded("m2"), accepted()])
      const result = yield* MediaUpload.sendMediaFile({
        to: [TO, "+14155550123"],
        data: new Blob([files.pdf(5000)]),
        filename: "invoice-2024.pdf",
        caption: "Your invoice",
        replyTo: "wamid.previous"
      }).pipe((effect) => provide(effect, layer))
      assert.strictEqual(result.upload.size, 5000)
      assert.deepStrictEqual(result.send.recipients, [TO, "+14155550123"])
      const wire = wireOf(seen[1].body)
      assert.deepStrictEqual(wire.messaging_object.document, {
        id: "m2",
        caption: "Your invoice",
        filename: "invoice-2024.pdf"
      })
      assert.deepStrictEqual(wire.messaging_object.context, { message_id: "wamid.previous" })
      const file = seen[0].form!.get("file") as File
      assert.strictEqual(file.name, "invoice-2024.pdf")
      assert.strictEqual(file.type, "application/pdf")
    }))

  for (
    const [name, data, filename, field] of [
      ["audio", files.ogg(), "voice.ogg", "audio.caption"],
      ["a sticker", files.webp(), "thanks.webp", "sticker.caption"]
    ] as const
  ) {
    it.effect(`a caption on ${name} is refused before uploading`, () =>
      Effect.gen(function*() {
        const { layer, seen } = clientLayer([uploaded(), accepted()])
        const error = yield* Effect.flip(
          MediaUpload.sendMediaFile({ to: TO, data, filename, caption: "no" }).pipe((effect) => provide(effect, layer))
        )
        assert.strictEqual(error._tag, "SendMediaFileError")
        assert.strictEqual(error.step, "send")
        assert.isUndefined(error.upload)
        assert.strictEqual(error.error._tag, "InvalidMessage")
        if (error.error._tag === "InvalidMessage") assert.strictEqual(error.error.field, field)
        assert.include(error.message, "before anything was uploaded")
        assert.strictEqual(seen.length, 0, "nothing was uploaded")
      }))
  }

  it.effect("a malformed recipient or an over-long ref is refused before uploading", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([uploaded(), accepted()])
      const a = yield* Effect.flip(
        MediaUpload.sendMediaFile({ to: "12345", data: files.png(), filename: "a.png" }).pipe((effect) =>
          provide(effect, layer)
        )
      )
      assert.strictEqual(a.step, "send")
      assert.strictEqual(a.error._tag, "InvalidMessage")
      const b = yield* Effect.flip(
        MediaUpload.sendMediaFile({
          to: TO,
          data: files.png(),
          filename: "a.png",
          extraInfo: { ref: "x".repeat(256) }
        }).pipe((effect) => provide(effect, layer))
      )
      assert.strictEqual(b.error._tag, "InvalidMessage")
      assert.strictEqual(seen.length, 0)
    }))

  it.effect("a file refused by the upload checks fails at the upload step, nothing sent", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([uploaded(), accepted()])
      const tooLarge = yield* Effect.flip(
        MediaUpload.sendMediaFile({ to: TO, data: files.png(5_000_001), filename: "a.png" }).pipe((effect) =>
          provide(effect, layer)
        )
      )
      assert.strictEqual(tooLarge.step, "upload")
      assert.isUndefined(tooLarge.upload)
      assert.strictEqual(tooLarge.error._tag, "InvalidMedia")
      if (tooLarge.error._tag === "InvalidMedia") {
        assert.strictEqual(tooLarge.error.rule, "TooLarge")
        assert.strictEqual(tooLarge.error.limit, 5_000_000)
      }
      const mismatch = yield* Effect.flip(
        MediaUpload.sendMediaFile({ to: TO, data: files.pdf(), filename: "a.png", mimeType: "image/png" }).pipe((
          effect
        ) => provide(effect, layer))
      )
      assert.strictEqual(mismatch.error._tag, "InvalidMedia")
      const notBytes = yield* Effect.flip(
        MediaUpload.sendMediaFile({ to: TO, data: "hello" as unknown as Uint8Array, filename: "a.txt" }).pipe((
          effect
        ) => provide(effect, layer))
      )
      assert.strictEqual(notBytes.step, "upload")
      assert.strictEqual(notBytes.error._tag, "InvalidMedia")
      assert.strictEqual(seen.length, 0)
    }))

  it.effect("hostile or missing input is a typed error, not a defect", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([uploaded(), accepted()])
      const hostile = {
        to: TO,
        filename: "a.png",
        get data(): Uint8Array {
          throw new Error("boom")
        }
      }
      const a = yield* Effect.flip(MediaUpload.sendMediaFile(hostile).pipe((effect) => provide(effect, layer)))
      assert.strictEqual(a.step, "upload")
      assert.strictEqual(a.error._tag, "InvalidMedia")
      const b = yield* Effect.flip(
        MediaUpload.sendMediaFile(null as unknown as MediaUpload.SendMediaFileInput).pipe((effect) =>
          provide(effect, layer)
        )
      )
      assert.strictEqual(b.error._tag, "InvalidMedia")
      assert.strictEqual(seen.length, 0)
    }))

  it.effect("a prepaid account's upload 401 fails at the upload step as ApiNotAvailable; nothing sent", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([failure("WA-401-account"), accepted()])
      const error = yield* Effect.flip(
        MediaUpload.sendMediaFile({ to: TO, data: files.jpeg(), filename: "a.jpg" }).pipe((effect) =>
          provide(effect, layer)
        )
      )
      assert.strictEqual(error.step, "upload")
      assert.strictEqual(error.error._tag, "ApiNotAvailable")
      assert.isUndefined(error.upload)
      assert.include(error.message, "the upload failed, nothing was sent")
      assert.strictEqual(seen.length, 1)
    }))

  it.effect("a failed send after a successful upload names the send step and keeps the upload", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([uploaded("m9"), failure("E110")])
      const error = yield* Effect.flip(
        MediaUpload.sendMediaFile({ to: TO, data: files.pdf(), filename: "a.pdf", caption: "hi" }).pipe((effect) =>
          provide(effect, layer)
        )
      )
      assert.strictEqual(error._tag, "SendMediaFileError")
      assert.strictEqual(error.step, "send")
      assert.strictEqual(error.error._tag, "LowBalance")
      assert.strictEqual(error.upload?.id, "m9")
      assert.strictEqual(error.upload?.mediaType, "document")
      assert.include(error.message, "media id m9")
      assert.strictEqual(seen.length, 2)
      // The upload can be sent again without uploading.
      const again = MediaUpload.fromUpload(error.upload!, { to: TO, caption: "hi" })
      assert.deepStrictEqual(again, {
        type: "document",
        to: TO,
        document: { id: "m9", caption: "hi", filename: "a.pdf" }
      })
    }))

  it.effect("a retryable upload failure is retried by the client before the send", () =>
    Effect.gen(function*() {
      const { layer, seen } = clientLayer([failure("WA500"), uploaded("m3"), accepted()])
      const fiber = yield* Effect.fork(
        MediaUpload.sendMediaFile({ to: TO, data: files.jpeg(), filename: "a.jpg" }).pipe((effect) =>
          provide(effect, layer)
        )
      )
      yield* TestClock.adjust("5 seconds")
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.upload.attempts, 2)
      assert.strictEqual(result.upload.id, "m3")
      assert.strictEqual(seen.length, 3)
    }))
})

describe("MediaUpload.fromUpload", () => {
  const upload = (mediaType: MediaMessage.MediaType) => ({ id: "m1", mediaType, filename: "file.bin" })

  it("builds the input of each media type, by id", () => {
    assert.deepStrictEqual(MediaUpload.fromUpload(upload("image"), { to: TO, caption: "c" }), {
      type: "image",
      to: TO,
      image: { id: "m1", caption: "c" }
    })
    assert.deepStrictEqual(MediaUpload.fromUpload(upload("video"), { to: TO }), {
      type: "video",
      to: TO,
      video: { id: "m1" }
    })
    assert.deepStrictEqual(MediaUpload.fromUpload(upload("audio"), { to: TO }), {
      type: "audio",
      to: TO,
      audio: { id: "m1" }
    })
    assert.deepStrictEqual(MediaUpload.fromUpload(upload("sticker"), { to: TO, replyTo: "wamid.1" }), {
      type: "sticker",
      to: TO,
      replyTo: "wamid.1",
      sticker: { id: "m1" }
    })
    assert.deepStrictEqual(
      MediaUpload.fromUpload(upload("document"), { to: TO, filename: "Invoice.pdf", extraInfo: { ref: "r" } }),
      { type: "document", to: TO, extraInfo: { ref: "r" }, document: { id: "m1", filename: "Invoice.pdf" } }
    )
    assert.deepStrictEqual(MediaUpload.fromUpload(upload("document"), { to: TO }), {
      type: "document",
      to: TO,
      document: { id: "m1", filename: "file.bin" }
    })
  })

  it("every built input validates", () => {
    for (const mediaType of MediaMessage.mediaTypes) {
      const input = MediaUpload.fromUpload(upload(mediaType), { to: TO })
      assert.isTrue(Either.isRight(MediaMessage.validate(input)), mediaType)
    }
  })

  it("a caption on audio or a sticker, or a filename off a document, is kept so that validation refuses it", () => {
    for (
      const [mediaType, options, field] of [
        ["audio", { to: TO, caption: "c" }, "audio.caption"],
        ["sticker", { to: TO, caption: "c" }, "sticker.caption"],
        ["image", { to: TO, filename: "a.png" }, "image.filename"],
        ["video", { to: TO, filename: "a.mp4" }, "video.filename"]
      ] as const
    ) {
      const validated = MediaMessage.validate(MediaUpload.fromUpload(upload(mediaType), options))
      assert.isTrue(Either.isLeft(validated), mediaType)
      if (Either.isLeft(validated)) assert.strictEqual(validated.left.field, field)
    }
  })
})
