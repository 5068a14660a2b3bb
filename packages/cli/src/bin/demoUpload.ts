/**
 * The upload part of the demo: generates a small valid PNG and a small valid PDF in memory, writes them to a
 * temporary directory, uploads each with `NodeMedia.uploadFile`, sends both by media id
 * (`MediaUpload.fromUpload`), prints what happened, and removes the directory.
 *
 * ```ts
 * const ok = yield* demoUpload.pipe(Effect.provide(KaleyraNode.layer(options)))
 * ```
 *
 * @since 0.1.0
 */
import type * as KaleyraClient from "@effect-kaleyra/core/KaleyraClient"
import { sendMedia } from "@effect-kaleyra/core/KaleyraClient"
import * as MediaUpload from "@effect-kaleyra/core/MediaUpload"
import * as NodeMedia from "@effect-kaleyra/node/NodeMedia"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { deflateSync } from "node:zlib"

// ---------------------------------------------------------------------------------------------------------------
// sample files
// ---------------------------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

const crc32 = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const pngChunk = (type: string, data: Uint8Array): Buffer => {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data])
  const out = Buffer.alloc(body.length + 8)
  out.writeUInt32BE(data.length, 0)
  body.copy(out, 4)
  out.writeUInt32BE(crc32(body), body.length + 4)
  return out
}

/**
 * A valid PNG (8-bit RGB, a diagonal gradient) of the given size in pixels: signature, `IHDR`, one zlib `IDAT`,
 * `IEND`, with correct CRCs.
 *
 * @since 0.1.0
 * @category samples
 */
export const samplePng = (width = 64, height = 64): Uint8Array => {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // colour type: RGB
  const rows = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1) // filter byte 0 (none), then the pixels
    for (let x = 0; x < width; x++) {
      rows[row + 1 + x * 3] = Math.round((x / Math.max(1, width - 1)) * 255)
      rows[row + 2 + x * 3] = Math.round((y / Math.max(1, height - 1)) * 255)
      rows[row + 3 + x * 3] = 0x80
    }
  }
  return new Uint8Array(Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", new Uint8Array(0))
  ]))
}

/**
 * A valid one-page PDF showing `text` in Helvetica, with a correct cross-reference table.
 *
 * @since 0.1.0
 * @category samples
 */
export const samplePdf = (text = "Hello from effect-kaleyra"): Uint8Array => {
  const escaped = text.replace(/[\\()]/g, (c) => `\\${c}`)
  const content = `BT /F1 18 Tf 20 50 Td (${escaped}) Tj ET`
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
  ]
  let out = "%PDF-1.4\n"
  const offsets: Array<number> = []
  objects.forEach((object, i) => {
    offsets.push(out.length)
    out += `${i + 1} 0 obj\n${object}\nendobj\n`
  })
  const xref = out.length
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const offset of offsets) out += `${String(offset).padStart(10, "0")} 00000 n \n`
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  // Only ASCII above, so one character is one byte and the offsets are byte offsets.
  return new TextEncoder().encode(out)
}

// ---------------------------------------------------------------------------------------------------------------
// the demo
// ---------------------------------------------------------------------------------------------------------------

const CUSTOMER = "+919876543210"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "kaleyra-demo-upload-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

const writeSample = (dir: string, name: string, bytes: Uint8Array) =>
  Effect.promise(async () => {
    const path = join(dir, name)
    await writeFile(path, bytes)
    return path
  })

const step = (name: string, path: string, to: string, caption: string) =>
  NodeMedia.uploadFile(path).pipe(
    Effect.tap((upload) =>
      Console.log(
        `  ✓ uploaded ${upload.filename.padEnd(12)} ${upload.mimeType} (${upload.size} bytes) as media id ${upload.id}`
      )
    ),
    Effect.flatMap((upload) => sendMedia(MediaUpload.fromUpload(upload, { to, caption }))),
    Effect.tap((sent) =>
      Console.log(`  ✓ sent ${name.padEnd(16)} by id as ${sent.type}: message id ${sent.messageId} to ${to}`)
    ),
    Effect.as(true),
    Effect.catchAll((error) => Effect.as(Console.log(`  ✗ ${name}: ${error._tag}: ${error.message}`), false))
  )

/**
 * The upload demo for a given recipient: `true` when both files were uploaded and sent. Failures are printed, never
 * raised.
 *
 * @since 0.1.0
 * @category demo
 */
export const demoUploadTo = (to: string): Effect.Effect<boolean, never, KaleyraClient.KaleyraClient> =>
  Effect.gen(function*() {
    yield* Console.log("Uploading files from disk, then sending them by media id:")
    const dir = yield* tempDir
    const png = yield* writeSample(dir, "photo.png", samplePng())
    const pdf = yield* writeSample(dir, "invoice.pdf", samplePdf("Invoice 2024-001"))
    const image = yield* step("the PNG", png, to, "A generated PNG")
    const document = yield* step("the PDF", pdf, to, "Your invoice")
    return image && document
  }).pipe(Effect.scoped)

/**
 * The upload demo, sending to the demo's customer number (`+919876543210`).
 *
 * @since 0.1.0
 * @category demo
 */
export const demoUpload: Effect.Effect<boolean, never, KaleyraClient.KaleyraClient> = demoUploadTo(CUSTOMER)
