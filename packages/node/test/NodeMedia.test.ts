import { sendMedia } from "@effect-kaleyra/core"
import * as MediaUpload from "@effect-kaleyra/core/MediaUpload"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { samplePdf, samplePng } from "../../cli/src/bin/demoUpload.js"
import { NodeMedia } from "../src/index.js"
import { rawServer } from "./rawServer.js"
import { buildClient, clientOptions, SENDER, SID, stack, tempDir as utilsTempDir } from "./utils.js"

const TO = "+919876543210"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const tempDir = utilsTempDir("kaleyra-node-media-")

const write = (dir: string, name: string, bytes: Uint8Array) =>
  Effect.promise(async () => {
    const path = join(dir, name)
    await writeFile(path, bytes)
    return path
  })

/** `head` followed by random bytes, `size` bytes in all. */
const padded = (head: Uint8Array, size: number): Uint8Array => {
  const bytes = new Uint8Array(randomBytes(size))
  bytes.set(head.subarray(0, size))
  return bytes
}

interface Part {
  readonly headers: Readonly<Record<string, string>>
  readonly data: Buffer
}

/** Splits a multipart body exactly as received (no lenient parser): every part's header lines and raw bytes. */
const parseMultipart = (body: Buffer, boundary: string): { parts: Array<Part>; closed: boolean } => {
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: Array<Part> = []
  let at = body.indexOf(delimiter)
  assert.strictEqual(at, 0, "the body starts with the boundary")
  for (;;) {
    const afterDelimiter = at + delimiter.length
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === "--") {
      return { parts, closed: body.subarray(afterDelimiter + 2).toString() === "\r\n" }
    }
    const headerEnd = body.indexOf("\r\n\r\n", afterDelimiter)
    const headers: Record<string, string> = {}
    for (const line of body.subarray(afterDelimiter + 2, headerEnd).toString("utf8").split("\r\n")) {
      const colon = line.indexOf(":")
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
    }
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), headerEnd + 4)
    parts.push({ headers, data: body.subarray(headerEnd + 4, next) })
    at = next + 2
  }
}

describe("NodeMedia over a loopback socket", () => {
  it.scopedLive("uploads a generated PNG and a PDF from temp files, then sends them by id", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const png = samplePng(48, 32)
      const pdf = samplePdf("Invoice 42")
      const pngPath = yield* write(dir, "photo.png", png)
      const pdfPath = yield* write(dir, "invoice.pdf", pdf)
      const { run, simulator } = yield* stack()

      const image = yield* run(NodeMedia.uploadFile(pngPath))
      assert.strictEqual(image.mediaType, "image")
      assert.strictEqual(image.mimeType, "image/png")
      assert.strictEqual(image.filename, "photo.png")
      assert.strictEqual(image.size, png.length)
      const sentImage = yield* run(sendMedia(MediaUpload.fromUpload(image, { to: TO, caption: "A photo" })))
      assert.strictEqual(sentImage.type, "image")

      const { send, upload } = yield* run(NodeMedia.sendFile(pdfPath, { to: TO, caption: "Your invoice" }))
      assert.strictEqual(upload.mediaType, "document")
      assert.strictEqual(upload.filename, "invoice.pdf")
      assert.strictEqual(send.type, "document")

      const uploads = yield* simulator.uploads
      assert.strictEqual(uploads.length, 2)
      assert.deepStrictEqual(uploads.map((u) => [u.id, u.mimeType, u.filename, sha256(u.data)]), [
        [image.id, "image/png", "photo.png", sha256(png)],
        [upload.id, "application/pdf", "invoice.pdf", sha256(pdf)]
      ])
      const sent = yield* simulator.sent
      assert.deepStrictEqual(sent.map((m) => m.messageId), [sentImage.messageId, send.messageId])
      assert.deepStrictEqual(sent[0].message, {
        type: "image",
        to: [TO],
        image: { id: image.id, caption: "A photo" }
      })
      assert.deepStrictEqual(sent[1].message, {
        type: "document",
        to: [TO],
        document: { id: upload.id, caption: "Your invoice", filename: "invoice.pdf" }
      })
    }))

  it.scopedLive("the multipart body as the server receives it: file (name, type) and type, ~5 MB intact", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const bytes = padded(samplePdf(), 5_242_880)
      const path = yield* write(dir, "report-2024.pdf", bytes)
      const server = yield* rawServer((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.end(`{"id":"1376223850470843"}`)
      })
      const context = yield* buildClient(clientOptions(server.url))
      const result = yield* Effect.provide(NodeMedia.uploadFile(path), context)
      assert.strictEqual(result.id, "1376223850470843")
      assert.strictEqual(result.size, bytes.length)

      assert.strictEqual(server.requests.length, 1)
      const seen = server.requests[0]
      assert.strictEqual(seen.method, "POST")
      assert.strictEqual(seen.url, `/v2/${SID}/whatsapp/${SENDER}/media`)
      const contentType = seen.headers["content-type"] ?? ""
      const boundary = /^multipart\/form-data; boundary=(\S+)$/.exec(contentType)?.[1]
      assert.isDefined(boundary, contentType)
      // A known length (the file's size plus the multipart framing), not a chunked body.
      assert.strictEqual(seen.headers["content-length"], String(seen.body.length))
      assert.isUndefined(seen.headers["transfer-encoding"])

      const { closed, parts } = parseMultipart(seen.body, boundary!)
      assert.isTrue(closed, "the closing boundary ends the body")
      assert.deepStrictEqual(parts.map((p) => p.headers), [
        {
          "content-disposition": `form-data; name="file"; filename="report-2024.pdf"`,
          "content-type": "application/pdf"
        },
        { "content-disposition": `form-data; name="type"` }
      ])
      assert.strictEqual(parts[0].data.length, bytes.length)
      assert.strictEqual(sha256(parts[0].data), sha256(bytes))
      assert.strictEqual(parts[1].data.toString("utf8"), "application/pdf")
    }))

  it.scopedLive("a retried upload reads the file again from the start", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const bytes = padded(samplePng(), 1_000_000)
      const path = yield* write(dir, "big.png", bytes)
      const { counted, run, simulator } = yield* stack()
      yield* simulator.failNext("WA500")
      const result = yield* run(NodeMedia.uploadFile(path))
      assert.strictEqual(result.attempts, 2)
      assert.strictEqual(counted.attempts, 2)
      const uploads = yield* simulator.uploads
      assert.strictEqual(sha256(uploads[0].data), sha256(bytes))
    }))

  it.scopedLive("a missing path, a directory or an empty path is a FileError; nothing is sent", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const { run, simulator } = yield* stack()
      const missing = yield* Effect.flip(run(NodeMedia.uploadFile(join(dir, "nope.png"))))
      assert.strictEqual(missing._tag, "FileError")
      if (missing._tag === "FileError") {
        assert.strictEqual(missing.reason, "NotFound")
        assert.strictEqual(missing.code, "ENOENT")
        assert.strictEqual(missing.path, join(dir, "nope.png"))
        assert.include(missing.message, "no such file")
      }
      assert.instanceOf(missing, NodeMedia.FileError)
      const directory = yield* Effect.flip(run(NodeMedia.uploadFile(dir)))
      assert.strictEqual(directory._tag === "FileError" && directory.reason, "NotAFile")
      const empty = yield* Effect.flip(run(NodeMedia.uploadFile("")))
      assert.strictEqual(empty._tag === "FileError" && empty.reason, "InvalidPath")
      const send = yield* Effect.flip(run(NodeMedia.sendFile(join(dir, "nope.pdf"), { to: TO })))
      assert.strictEqual(send._tag === "FileError" && send.reason, "NotFound")
      assert.strictEqual((yield* simulator.requests).length, 0)
    }))

  it.scopedLive("image boundary: 5 000 001 bytes is refused before any byte is sent, 5 000 000 passes", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const over = yield* write(dir, "over.png", padded(samplePng(), 5_000_001))
      const exact = padded(samplePng(), 5_000_000)
      const exactPath = yield* write(dir, "exact.png", exact)
      const { counted, run, simulator } = yield* stack()

      const refused = yield* Effect.flip(run(NodeMedia.uploadFile(over)))
      assert.strictEqual(refused._tag, "InvalidMedia")
      if (refused._tag === "InvalidMedia") {
        assert.strictEqual(refused.rule, "TooLarge")
        assert.strictEqual(refused.limit, 5_000_000)
        assert.strictEqual(refused.size, 5_000_001)
      }
      assert.strictEqual(counted.attempts, 0)
      assert.strictEqual((yield* simulator.requests).length, 0, "the server received no request")

      const passed = yield* run(NodeMedia.uploadFile(exactPath))
      assert.strictEqual(passed.size, 5_000_000)
      assert.strictEqual(passed.mediaType, "image")
      const uploads = yield* simulator.uploads
      assert.strictEqual(uploads[0].size, 5_000_000)
      assert.strictEqual(sha256(uploads[0].data), sha256(exact))
    }))

  it.scopedLive("a prepaid account: the upload fails with ApiNotAvailable", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = yield* write(dir, "photo.png", samplePng())
      const { run, simulator } = yield* stack({ simulator: { account: "prepaid" } })
      const error = yield* Effect.flip(run(NodeMedia.uploadFile(path)))
      assert.strictEqual(error._tag, "ApiNotAvailable")
      if (error._tag === "ApiNotAvailable") {
        assert.strictEqual(error.status, 401)
        assert.strictEqual(error.code, "WA-401")
      }
      const viaSend = yield* Effect.flip(run(NodeMedia.sendFile(path, { to: TO })))
      assert.strictEqual(viaSend._tag, "SendMediaFileError")
      if (viaSend._tag === "SendMediaFileError") {
        assert.strictEqual(viaSend.step, "upload")
        assert.strictEqual(viaSend.error._tag, "ApiNotAvailable")
      }
      assert.strictEqual((yield* simulator.sent).length, 0)
    }))

  it.scopedLive("sendFile names the failed step: upload (a scripted failure) vs send (after the upload)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = yield* write(dir, "invoice.pdf", samplePdf())
      const { run, simulator } = yield* stack()

      yield* simulator.failNext("WA400")
      const atUpload = yield* Effect.flip(run(NodeMedia.sendFile(path, { to: TO })))
      assert.strictEqual(atUpload._tag, "SendMediaFileError")
      if (atUpload._tag === "SendMediaFileError") {
        assert.strictEqual(atUpload.step, "upload")
        assert.strictEqual(atUpload.error._tag, "IncorrectPayload")
        assert.isUndefined(atUpload.upload)
      }
      assert.strictEqual((yield* simulator.uploads).length, 0)

      // Sends to this recipient fail; uploads are not affected.
      yield* simulator.setScenario(TO, "E110")
      const atSend = yield* Effect.flip(run(NodeMedia.sendFile(path, { to: TO, caption: "Invoice" })))
      assert.strictEqual(atSend._tag, "SendMediaFileError")
      if (atSend._tag === "SendMediaFileError") {
        assert.strictEqual(atSend.step, "send")
        assert.strictEqual(atSend.error._tag, "LowBalance")
        const uploads = yield* simulator.uploads
        assert.strictEqual(uploads.length, 1)
        assert.strictEqual(atSend.upload?.id, uploads[0].id)
      }
      assert.strictEqual((yield* simulator.sent).length, 0)

      // A caption on audio is refused before uploading.
      const ogg = yield* write(dir, "voice.ogg", padded(new TextEncoder().encode("OggS"), 2_000))
      const refused = yield* Effect.flip(run(NodeMedia.sendFile(ogg, { to: TO, caption: "no" })))
      assert.strictEqual(refused._tag === "SendMediaFileError" && refused.error._tag, "InvalidMessage")
      assert.strictEqual((yield* simulator.uploads).length, 1, "nothing more was uploaded")
    }))

  it.scopedLive("the options override the file name and the MIME type", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = yield* write(dir, "tmp-8f2a.bin", samplePdf())
      const { run, simulator } = yield* stack()
      const result = yield* run(
        NodeMedia.sendFile(path, { to: TO, filename: "Statement.pdf", mimeType: "application/pdf" })
      )
      assert.strictEqual(result.upload.filename, "Statement.pdf")
      const uploads = yield* simulator.uploads
      assert.strictEqual(uploads[0].filename, "Statement.pdf")
      assert.deepStrictEqual((yield* simulator.sent)[0].message, {
        type: "document",
        to: [TO],
        document: { id: result.upload.id, filename: "Statement.pdf" }
      })
    }))
})
