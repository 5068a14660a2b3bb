/**
 * Upload a file from disk (streamed, checked first: type from its bytes, size, name), then send it by media id.
 *
 *   pnpm --filter @effect-kaleyra/examples upload-and-send ./invoice.pdf +919876543210
 *
 * Without KALEYRA_* it runs against a simulator served on 127.0.0.1 (and without a path, uploads a generated PDF).
 */
import { MediaUpload, sendMedia } from "@effect-kaleyra/core"
import { KaleyraNode, NodeMedia } from "@effect-kaleyra/node"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

const [pathArgument, to = "+919876543210"] = process.argv.slice(2)

const samplePdf = Effect.promise(async () => {
  const path = join(tmpdir(), "effect-kaleyra-example.pdf")
  await writeFile(path, "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
  return path
})

const program = Effect.gen(function*() {
  const path = pathArgument ?? (yield* samplePdf)
  const upload = yield* NodeMedia.uploadFile(path)
  yield* Console.log(`uploaded ${upload.filename} (${upload.mimeType}, ${upload.size} bytes) as ${upload.id}`)
  const { messageId } = yield* sendMedia(MediaUpload.fromUpload(upload, { to, caption: "Your invoice" }))
  yield* Console.log(`sent as ${upload.mediaType}: ${messageId}`)
}).pipe(
  Effect.catchTags({
    FileError: (e) => Console.error(`cannot read ${e.path}: ${e.reason}`),
    InvalidMedia: (e) => Console.error(`refused before upload (${e.rule}, ${e.field}): ${e.reason}`),
    ApiNotAvailable: () => Console.error("uploads need a postpaid account: send by link instead")
  })
)

const KaleyraLive = process.env.KALEYRA_SID !== undefined
  ? KaleyraNode.layerConfig
  : SimulatorServer.layerClient(KaleyraNode.layer)

program.pipe(Effect.provide(KaleyraLive), NodeRuntime.runMain)
