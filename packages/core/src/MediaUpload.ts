/**
 * Upload-then-send in one call: `sendMediaFile` uploads a file, then sends it by media id as the media type the
 * upload found (image, audio, video, document or sticker), and `fromUpload` builds the `SendMediaInput` for an
 * upload's result.
 *
 * ```ts
 * import { MediaUpload } from "@effect-kaleyra/core"
 *
 * const { upload, send } = yield* MediaUpload.sendMediaFile({
 *   to: "+919876543210",
 *   data: pdfBytes, // a Uint8Array or a Blob (a file-backed Blob is streamed)
 *   filename: "invoice.pdf",
 *   caption: "Your invoice"
 * })
 * ```
 *
 * Every failure is one `SendMediaFileError` whose `step` says which call failed and whose `error` is that call's own
 * tagged error, so that a caller can tell "nothing was uploaded" from "uploaded, but the send failed" (and re-send
 * the uploaded media id without uploading again).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { describeThrown, suspendGuarded } from "./internal/describe.js"
import { checkUpload } from "./internal/upload.js"
import {
  KaleyraClient,
  type SendMediaResult,
  type UploadMediaError,
  type UploadMediaInput,
  type UploadMediaResult
} from "./KaleyraClient.js"
import { SendMediaError } from "./KaleyraError.js"
import * as MediaFile from "./MediaFile.js"
import * as MediaMessage from "./MediaMessage.js"

// ---------------------------------------------------------------------------------------------------------------
// fromUpload
// ---------------------------------------------------------------------------------------------------------------

/**
 * What {@link fromUpload} needs of an upload: its media id, the media type it is sent as, and its file name (the
 * default display name of a document). An `UploadMediaResult` has all three.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadedMedia {
  readonly id: string
  readonly mediaType: MediaMessage.MediaType
  readonly filename: string
}

/**
 * The message fields of {@link fromUpload}.
 *
 * - `caption`: image, video and document only. On audio or sticker it is not dropped: the built input carries it,
 *   and `sendMedia` (or `MediaMessage.validate`) refuses it with an `InvalidMessage` naming the field.
 * - `filename`: the display name of a document (default: the upload's file name). Refused the same way on the other
 *   types.
 *
 * @since 0.1.0
 * @category models
 */
export interface FromUploadOptions {
  readonly to: MediaMessage.RecipientsInput
  readonly caption?: string | undefined
  readonly filename?: string | undefined
  readonly replyTo?: string | undefined
  readonly extraInfo?: MediaMessage.ExtraInfo | undefined
}

/**
 * The `SendMediaInput` that sends an uploaded file by its media id, as the media type the upload reported:
 * `{ type: "image", image: { id, caption } }`, `{ type: "document", document: { id, caption, filename } }`, ...
 *
 * ```ts
 * const upload = yield* uploadMedia({ data, filename: "invoice.pdf" })
 * yield* sendMedia(MediaUpload.fromUpload(upload, { to: "+919876543210", caption: "Your invoice" }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromUpload = (upload: UploadedMedia, options: FromUploadOptions): MediaMessage.SendMediaInput => {
  const filename = upload.mediaType === "document" ? options.filename ?? upload.filename : options.filename
  const fields: {
    to: MediaMessage.RecipientsInput
    id: string
    caption?: string
    filename?: string
    replyTo?: string
    extraInfo?: MediaMessage.ExtraInfo
  } = { to: options.to, id: upload.id }
  if (options.caption !== undefined) fields.caption = options.caption
  if (filename !== undefined) fields.filename = filename
  if (options.replyTo !== undefined) fields.replyTo = options.replyTo
  if (options.extraInfo !== undefined) fields.extraInfo = options.extraInfo
  // The builders put every non-message field into the media object, so a caption on audio (or a filename on an
  // image) reaches validation and is refused there with the field's name, instead of being silently dropped.
  switch (upload.mediaType) {
    case "audio":
      return MediaMessage.audio(fields)
    case "document":
      return MediaMessage.document(fields)
    case "image":
      return MediaMessage.image(fields)
    case "sticker":
      return MediaMessage.sticker(fields)
    case "video":
      return MediaMessage.video(fields)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SendMediaFileError
// ---------------------------------------------------------------------------------------------------------------

/**
 * Which call of {@link sendMediaFile} failed.
 *
 * @since 0.1.0
 * @category models
 */
export const SendMediaFileStep = Schema.Literal("upload", "send")

/**
 * Which call of `sendMediaFile` failed: `upload` or `send`.
 *
 * @since 0.1.0
 * @category models
 */
export type SendMediaFileStep = typeof SendMediaFileStep.Type

const UploadResultSchema = Schema.Struct({
  id: Schema.String,
  mimeType: Schema.String,
  mediaType: MediaMessage.MediaType,
  filename: Schema.String,
  size: Schema.Number,
  attempts: Schema.Number
})

/**
 * A failure of {@link sendMediaFile}, wrapping the failed call's own tagged error:
 *
 * - `step: "upload"`: the file was refused before upload (`InvalidMedia`), or the upload failed (a Kaleyra error,
 *   e.g. `ApiNotAvailable` for a prepaid account, or a `TransportError`). No message was sent. `upload` is absent.
 * - `step: "send"` with `upload`: the file was uploaded (`upload.id` can be sent again with {@link fromUpload},
 *   without uploading again), then the send failed with `error` (a `SendMediaError`).
 * - `step: "send"` without `upload`: the message fields were refused before anything was uploaded (an
 *   `InvalidMessage`: a caption on audio or a sticker, a malformed recipient, a `ref` too long, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class SendMediaFileError extends Schema.TaggedError<SendMediaFileError>(
  "@effect-kaleyra/core/SendMediaFileError"
)("SendMediaFileError", {
  step: SendMediaFileStep,
  error: Schema.Union(MediaFile.InvalidMedia, SendMediaError),
  upload: Schema.optional(UploadResultSchema)
}) {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const where = this.step === "upload"
      ? "the upload failed, nothing was sent"
      : this.upload === undefined
      ? "the message was refused before anything was uploaded"
      : `the file was uploaded (media id ${this.upload.id}) but the send failed`
    return `Sending a media file failed at the ${this.step} step (${where}): ${this.error.message}`
  }
}

// ---------------------------------------------------------------------------------------------------------------
// sendMediaFile
// ---------------------------------------------------------------------------------------------------------------

/**
 * What {@link sendMediaFile} takes: the file (as `uploadMedia` takes it) and the message fields.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendMediaFileInput {
  readonly to: MediaMessage.RecipientsInput
  /** The bytes, or a `Blob` (a file-backed `Blob`, e.g. from `fs.openAsBlob`, is streamed and re-read on retries). */
  readonly data: Uint8Array | Blob
  /** The upload's file name; also the display name when the file is a document. */
  readonly filename: string
  /** The MIME type (inferred from the bytes or the extension when not given). */
  readonly mimeType?: string | undefined
  /** Image, video and document only: a caption on audio or a sticker is refused before uploading. */
  readonly caption?: string | undefined
  readonly replyTo?: string | undefined
  readonly extraInfo?: MediaMessage.ExtraInfo | undefined
}

/**
 * What a successful {@link sendMediaFile} returns: the upload's result and the send's.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendMediaFileResult {
  readonly upload: UploadMediaResult
  readonly send: SendMediaResult
}

/** A media id that passes `MediaMessage.MediaId`, to validate the message fields before the real id exists. */
const PROVISIONAL_ID = "0"

const invalidInput = (reason: string) =>
  new MediaFile.InvalidMedia({ rule: "InvalidInput", reason }, { disableValidation: true })

const failAt = (step: SendMediaFileStep, error: UploadMediaError | SendMediaError, upload?: UploadMediaResult) =>
  new SendMediaFileError(
    { step, error, ...(upload !== undefined ? { upload } : {}) },
    { disableValidation: true }
  )

// Hostile input (a throwing getter, a revoked Proxy): refused like any unreadable input, never a defect.
const unreadable = (thrown: unknown) =>
  failAt("upload", invalidInput(`the input could not be read: ${describeThrown(thrown)}`))

/**
 * Everything checked before the upload: the file (as `uploadMedia` will check it), then the message for the file's
 * media type. Each field of the input is read once: what is checked is what is uploaded and sent.
 */
const precheck = (
  input: SendMediaFileInput
): Effect.Effect<
  { readonly options: FromUploadOptions; readonly uploadInput: UploadMediaInput },
  SendMediaFileError
> =>
  Effect.flatMap(
    suspendGuarded(() => {
      if (typeof input !== "object" || input === null) {
        return Effect.fail(failAt("upload", invalidInput("the input must be an object with to, data and filename")))
      }
      const { caption, data, extraInfo, filename, mimeType, replyTo, to } = input
      const uploadInput: UploadMediaInput = mimeType === undefined
        ? { data, filename }
        : { data, filename, mimeType }
      return Effect.succeed({ options: { to, caption, replyTo, extraInfo }, uploadInput })
    }, unreadable),
    ({ options, uploadInput }) =>
      Effect.flatMap(
        Effect.mapError(checkUpload(uploadInput), (error) => failAt("upload", error)),
        ({ checked }) => {
          const provisional = MediaMessage.validate(
            fromUpload({ id: PROVISIONAL_ID, mediaType: checked.mediaType, filename: checked.filename }, options)
          )
          return Either.isLeft(provisional)
            ? Effect.fail(failAt("send", provisional.left))
            : Effect.succeed({ options, uploadInput })
        }
      )
  )

/**
 * Uploads a file (`uploadMedia`), then sends it by its media id (`sendMedia`) as the media type the upload reported,
 * with the caption, reply and `extra_info` given; a document is shown under its file name.
 *
 * Before any byte is sent, the file is checked as `uploadMedia` checks it and the message fields are validated for
 * the file's media type: a caption on audio or a sticker, a bad recipient or a `ref` too long fails at once, without
 * uploading. Every failure is a {@link SendMediaFileError} naming the failed step.
 *
 * The errors of the two calls are wrapped, so `Effect.catchTag("InvalidMessage", ...)` or `catchTags({ LowBalance })`
 * does not see them. To handle them by tag, unwrap them (giving up the step and the kept upload):
 *
 * ```ts
 * import { MediaUpload } from "@effect-kaleyra/core"
 * import { Console, Effect } from "effect"
 *
 * declare const pdf: Uint8Array
 *
 * const program = MediaUpload.sendMediaFile({ to: "+919876543210", data: pdf, filename: "invoice.pdf" }).pipe(
 *   Effect.mapError((e) => e.error), // InvalidMedia | SendMediaError
 *   Effect.catchTags({
 *     InvalidMessage: (e) => Console.error(`${e.field}: ${e.reason}`),
 *     LowBalance: () => Console.error("top up the account")
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category sending
 */
export const sendMediaFile = (
  input: SendMediaFileInput
): Effect.Effect<SendMediaFileResult, SendMediaFileError, KaleyraClient> =>
  Effect.gen(function*() {
    const client = yield* KaleyraClient
    const { options, uploadInput } = yield* precheck(input)
    const upload = yield* Effect.mapError(client.uploadMedia(uploadInput), (error) => failAt("upload", error))
    const send = yield* Effect.mapError(
      client.sendMedia(fromUpload(upload, options)),
      (error) => failAt("send", error, upload)
    )
    return { upload, send }
  }).pipe(Effect.withSpan("Kaleyra.sendMediaFile", { kind: "client", captureStackTrace: false }))
