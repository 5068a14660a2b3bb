/**
 * Uploading and sending files from disk: `uploadFile(path)` and `sendFile(path, { to, ... })`.
 *
 * The file is opened with `fs.openAsBlob`: a `Blob` backed by the file, never read whole into memory. Its first bytes
 * are read to check it, then the upload streams it from disk (through the lean undici client, `KaleyraNode.layer`, or
 * any other `HttpClient` that streams `Blob`s), and a retry reads it again from the start.
 *
 * ```ts
 * import { NodeMedia } from "@effect-kaleyra/node"
 *
 * const { upload, send } = yield* NodeMedia.sendFile("./invoice.pdf", { to: "+919876543210", caption: "Invoice" })
 * ```
 *
 * Errors: a path that cannot be opened as a regular file is a {@link FileError} (nothing was sent). After that, the
 * errors are core's: `uploadFile` fails like `uploadMedia` (`InvalidMedia`, a Kaleyra error, `TransportError`), and
 * `sendFile` like `MediaUpload.sendMediaFile` (one `SendMediaFileError` naming the failed step).
 *
 * @since 0.1.0
 */
import { KaleyraClient, type UploadMediaError, type UploadMediaResult } from "@effect-kaleyra/core/KaleyraClient"
import type * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as MediaUpload from "@effect-kaleyra/core/MediaUpload"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { openAsBlob } from "node:fs"
import { open } from "node:fs/promises"
import { basename } from "node:path"

/**
 * Why a file could not be opened.
 *
 * - `InvalidPath`: not a usable path (empty, or holding a NUL byte).
 * - `NotFound`: no such file (`ENOENT`, `ENOTDIR`).
 * - `PermissionDenied`: the process may not read it (`EACCES`, `EPERM`).
 * - `NotAFile`: a directory, a FIFO, a device, ... (only regular files are uploaded).
 * - `Unreadable`: every other failure to open it (`code` says which).
 *
 * @since 0.1.0
 * @category models
 */
export const FileErrorReason = Schema.Literal("InvalidPath", "NotFound", "PermissionDenied", "NotAFile", "Unreadable")

/**
 * Why a file could not be opened.
 *
 * @since 0.1.0
 * @category models
 */
export type FileErrorReason = typeof FileErrorReason.Type

/**
 * A file given by path could not be opened for upload: nothing was read from it and nothing was sent. `code` is the
 * system error code (`ENOENT`, `EACCES`, ...) when there is one.
 *
 * A file that opens but then cannot be read (deleted or changed in between) is refused by the upload instead, as
 * core's `InvalidMedia` with rule `InvalidInput`.
 *
 * @since 0.1.0
 * @category errors
 */
export class FileError extends Schema.TaggedError<FileError>("@effect-kaleyra/node/FileError")("FileError", {
  path: Schema.String,
  reason: FileErrorReason,
  code: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `Cannot upload ${JSON.stringify(this.path)} (${this.reason}): ${this.detail}`
  }
}

/**
 * A file opened for upload.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenedFile {
  /** A `Blob` backed by the file: read lazily, in chunks, each time it is streamed. */
  readonly blob: Blob
  /** The file name sent with the upload (the path's base name unless given). */
  readonly filename: string
  readonly size: number
}

const reasonOf = (code: string | undefined): FileErrorReason => {
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
      return "NotFound"
    case "EACCES":
    case "EPERM":
      return "PermissionDenied"
    case "EISDIR":
      return "NotAFile"
    case "ERR_INVALID_ARG_TYPE":
    case "ERR_INVALID_ARG_VALUE":
      return "InvalidPath"
    default:
      return "Unreadable"
  }
}

const describeReason = (reason: FileErrorReason): string => {
  switch (reason) {
    case "InvalidPath":
      return "not a valid path"
    case "NotFound":
      return "no such file"
    case "PermissionDenied":
      return "permission denied"
    case "NotAFile":
      return "not a regular file"
    case "Unreadable":
      return "the file could not be opened"
  }
}

const fileError = (path: string, cause: unknown): FileError => {
  const code = typeof cause === "object" && cause !== null && typeof (cause as { code?: unknown }).code === "string"
    ? (cause as { code: string }).code
    : undefined
  const reason = reasonOf(code)
  return new FileError({
    path,
    reason,
    ...(code !== undefined ? { code } : {}),
    detail: code === undefined ? describeReason(reason) : `${describeReason(reason)} (${code})`
  })
}

/**
 * Opens a file for upload: checks that it is a regular file the process may read (so that a missing or unreadable
 * file is a {@link FileError} naming the cause, not a failed read later), then returns a `Blob` backed by it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const openFile = (
  path: string,
  options?: { readonly filename?: string | undefined }
): Effect.Effect<OpenedFile, FileError> =>
  Effect.gen(function*() {
    if (typeof path !== "string" || path === "" || path.includes("\u0000")) {
      return yield* new FileError({
        path: typeof path === "string" ? path : String(path),
        reason: "InvalidPath",
        detail: "the path must be a non-empty string without NUL bytes"
      })
    }
    // Opening (not just `stat`) proves that the file can be read: `EACCES` shows here, not in the middle of the upload.
    const isFile = yield* Effect.tryPromise({
      try: async () => {
        const handle = await open(path, "r")
        try {
          return (await handle.stat()).isFile()
        } finally {
          await handle.close()
        }
      },
      catch: (cause) => fileError(path, cause)
    })
    if (!isFile) {
      return yield* new FileError({ path, reason: "NotAFile", detail: describeReason("NotAFile") })
    }
    const blob = yield* Effect.tryPromise({ try: () => openAsBlob(path), catch: (cause) => fileError(path, cause) })
    return { blob, filename: options?.filename ?? basename(path), size: blob.size }
  })

/**
 * The options of {@link uploadFile}.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadFileOptions {
  /** The MIME type (inferred from the file's first bytes, else its extension, when not given). */
  readonly mimeType?: string | undefined
  /** The file name sent with the upload (default: the path's base name). */
  readonly filename?: string | undefined
}

/**
 * Uploads a file from disk (`POST .../media`, streamed from the file) and returns its media id, after the same checks
 * as `uploadMedia` (type, size, name: nothing is sent when they fail).
 *
 * @since 0.1.0
 * @category uploading
 */
export const uploadFile = (
  path: string,
  options?: UploadFileOptions
): Effect.Effect<UploadMediaResult, UploadMediaError | FileError, KaleyraClient> =>
  Effect.flatMap(openFile(path, options), (file) =>
    Effect.flatMap(KaleyraClient, (client) =>
      client.uploadMedia(
        options?.mimeType === undefined
          ? { data: file.blob, filename: file.filename }
          : { data: file.blob, filename: file.filename, mimeType: options.mimeType }
      )))

/**
 * The options of {@link sendFile}: the recipients and message fields, and the upload's options.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendFileOptions extends UploadFileOptions {
  readonly to: MediaMessage.RecipientsInput
  /** Image, video and document only: a caption on audio or a sticker is refused before uploading. */
  readonly caption?: string | undefined
  readonly replyTo?: string | undefined
  readonly extraInfo?: MediaMessage.ExtraInfo | undefined
}

/**
 * Uploads a file from disk, then sends it by its media id as the media type the upload found (a document under its
 * file name), like `MediaUpload.sendMediaFile`. Returns both results.
 *
 * A failure of the upload or the send is wrapped in a `SendMediaFileError` naming the step (a file that cannot be
 * read is a `FileError`), so `Effect.catchTag("InvalidMessage", ...)` does not see it. To handle those errors by tag,
 * unwrap them (giving up the step and the kept upload):
 *
 * ```ts
 * import { NodeMedia } from "@effect-kaleyra/node"
 * import { Console, Effect } from "effect"
 *
 * const program = NodeMedia.sendFile("invoice.pdf", { to: "+919876543210" }).pipe(
 *   Effect.mapError((e) => e._tag === "SendMediaFileError" ? e.error : e),
 *   Effect.catchTags({
 *     FileError: (e) => Console.error(`cannot read ${e.path}: ${e.reason}`),
 *     InvalidMessage: (e) => Console.error(`${e.field}: ${e.reason}`),
 *     LowBalance: () => Console.error("top up the account")
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export const sendFile = (
  path: string,
  options: SendFileOptions
): Effect.Effect<MediaUpload.SendMediaFileResult, MediaUpload.SendMediaFileError | FileError, KaleyraClient> =>
  Effect.flatMap(openFile(path, options), (file) =>
    MediaUpload.sendMediaFile({
      to: options.to,
      data: file.blob,
      filename: file.filename,
      mimeType: options.mimeType,
      caption: options.caption,
      replyTo: options.replyTo,
      extraInfo: options.extraInfo
    }))
