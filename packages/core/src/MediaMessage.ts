/**
 * Media messages: the input schemas, validation and typed builders (`MediaMessage.image`, ...).
 *
 * Three shapes of the same message:
 *
 * - the **input** (`SendMediaInput`): what a program passes to `sendMedia`, Meta's message object in camelCase;
 *   `to` may be one number or several, in any common notation (`+91 98765-43210`);
 * - the **message** (`MediaMessage`): the validated, normalised form (recipients in E.164, as an array);
 * - the **wire body**: Kaleyra's JSON, in the `SendMediaRequest` module.
 *
 * The schemas are the specification. `validate` takes a direct path for the common case (a plain, valid input),
 * calling the same rule functions; a property test holds it equal to the schema.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { describeThrown, describeValue, keyName } from "./internal/describe.js"
import * as Fields from "./internal/fields.js"
import { type FlatIssue, fromParseIssue, invalidMessage, ROOT } from "./internal/invalidMessage.js"
import * as TemplateInternal from "./internal/template.js"
import { acceptPlain } from "./internal/validate.js"
import type { InvalidMessage } from "./KaleyraError.js"

// ---------------------------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------------------------

/**
 * The media types Kaleyra sends.
 *
 * @since 0.1.0
 * @category constants
 */
export const mediaTypes = Fields.mediaTypes

/**
 * A media type: `audio`, `document`, `image`, `sticker` or `video`.
 * @since 0.1.0
 * @category schemas
 */
export const MediaType = Schema.Literal(...mediaTypes).annotations({
  // override: a union's own message is otherwise ignored for its members' ("Expected \"audio\"")
  message: () => ({ message: `must be one of ${mediaTypes.join(", ")}`, override: true })
})

/**
 * A media type: `audio`, `document`, `image`, `sticker` or `video`.
 * @since 0.1.0
 * @category models
 */
export type MediaType = typeof MediaType.Type

/**
 * What `sendMedia` sends: a free-form media message (delivered only inside the 24-hour customer-service window) or
 * a template message (delivered outside it too; its header may carry an image, a video or a document).
 *
 * @since 0.2.0
 * @category constants
 */
export const messageTypes = [...mediaTypes, "template"] as const

/**
 * What `type` a message may have: a media type, or `"template"`.
 *
 * @since 0.2.0
 * @category models
 */
export type MessageType = MediaType | "template"

/**
 * The values Kaleyra accepts for `extra_info.wa_source` (any other value would be silently replaced by `api`, so
 * this library rejects it).
 *
 * @since 0.1.0
 * @category constants
 */
export const waSources = Fields.waSources

/**
 * A value Kaleyra accepts for `extra_info.wa_source`.
 * @since 0.1.0
 * @category schemas
 */
export const WaSource = Schema.Literal(...waSources).annotations({
  message: () => ({
    message: `must be one of ${waSources.join(", ")} (Kaleyra would silently replace any other value by api)`,
    override: true
  })
})

/**
 * A value Kaleyra accepts for `extra_info.wa_source`.
 * @since 0.1.0
 * @category models
 */
export type WaSource = typeof WaSource.Type

/**
 * Limits from Kaleyra's specification (lengths in Unicode code points).
 *
 * @since 0.1.0
 * @category constants
 */
export const limits = Fields.limits

// ---------------------------------------------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------------------------------------------

/**
 * Counts Unicode code points (what a person calls characters), not UTF-16 units.
 *
 * @since 0.1.0
 * @category utils
 */
export const codePointLength = Fields.codePointLength

/**
 * A phone number in E.164: `+`, then 8 to 15 digits, the first not 0.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PhoneNumber = Schema.String.pipe(
  Schema.filter((s) => Fields.PHONE.test(s) || "must be E.164: a leading + and 8 to 15 digits, e.g. +919876543210"),
  Schema.annotations({ identifier: "PhoneNumber" })
)

/**
 * Normalises a phone number written by a person: spaces, dashes, dots and parentheses are removed; anything else
 * is refused with the reason.
 *
 * @since 0.1.0
 * @category utils
 */
export const normalizePhoneNumber: (input: string) => Either.Either<string, string> = Fields.normalizePhoneNumber

/**
 * One or more recipients, normalised to E.164 and without duplicates (a duplicate would receive the message twice).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Recipients = Schema.NonEmptyArray(PhoneNumber).pipe(
  Schema.filter((to) => {
    const seen = new Set<string>()
    for (let i = 0; i < to.length; i++) {
      if (seen.has(to[i])) return { path: [i], message: `duplicate recipient ${to[i]}: it would get the message twice` }
      seen.add(to[i])
    }
    return true
  }),
  Schema.annotations({ identifier: "Recipients" })
)

/**
 * What a program may pass as `to`: one number or a non-empty array, in any common notation.
 *
 * @since 0.1.0
 * @category models
 */
export type RecipientsInput = string | readonly [string, ...Array<string>]

const RecipientsInputSchema = Schema.declare(
  // The real checks happen in the transformation below, with a message per failure.
  (_u: unknown): _u is RecipientsInput => true,
  { identifier: "RecipientsInput" }
)

// The target is structural: the transformation below checks every rule of `Recipients` itself (numbers and
// duplicates), so that decoding does not check them twice.
const NormalisedRecipients = Schema.NonEmptyArray(Schema.String)

/**
 * Normalises `to` (one number or an array) into the E.164 array sent to Kaleyra.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RecipientsFromInput = Schema.transformOrFail(RecipientsInputSchema, NormalisedRecipients, {
  strict: true,
  decode: (input: unknown, _, ast) => {
    const result = Fields.normaliseRecipients(input)
    if (Array.isArray(result)) return ParseResult.succeed(result as unknown as readonly [string, ...Array<string>])
    const { actual, message, path } = result as Fields.RecipientsProblem
    const issue = new ParseResult.Type(ast, actual, message)
    return ParseResult.fail(path.length === 0 ? issue : new ParseResult.Pointer(path[0], actual, issue))
  },
  encode: (to) => ParseResult.succeed(to)
})

/**
 * An uploaded media id.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MediaId = Schema.String.pipe(Schema.filter(Fields.rules.id), Schema.annotations({ identifier: "MediaId" }))

/**
 * A public `http(s)` URL that Meta fetches the media from.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MediaLink = Schema.String.pipe(
  Schema.filter(Fields.rules.link),
  Schema.annotations({ identifier: "MediaLink" })
)

/**
 * A caption: image, video and document only, at most 1024 characters.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Caption = Schema.String.pipe(
  Schema.filter(Fields.rules.caption),
  Schema.annotations({ identifier: "Caption" })
)

/**
 * A document's file name as shown to the recipient (with its extension): one line, at most 255 characters.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Filename = Schema.String.pipe(
  Schema.filter(Fields.rules.filename),
  Schema.annotations({ identifier: "Filename" })
)

/**
 * `ref`, `ref1`, `ref2`: at most 255 characters. Kaleyra truncates longer values; this library rejects them, so
 * that what comes back in callbacks is exactly what was sent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Ref = Schema.String.pipe(Schema.filter(Fields.rules.ref), Schema.annotations({ identifier: "Ref" }))

/**
 * The id of the message being replied to (`context.message_id` on the wire).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReplyTo = Schema.String.pipe(
  Schema.filter(Fields.rules.replyTo),
  Schema.annotations({ identifier: "ReplyTo" })
)

// ---------------------------------------------------------------------------------------------------------------
// Media objects
// ---------------------------------------------------------------------------------------------------------------

const exactlyOneSource = (media: { readonly id?: string | undefined; readonly link?: string | undefined }) =>
  media.id !== undefined && media.link !== undefined
    ? { path: ["link"], message: "give either id or link, not both" }
    : media.id === undefined && media.link === undefined
    ? "needs id (an uploaded media id) or link (a public http(s) URL)"
    : true

const sourceFields = { id: Schema.optional(MediaId), link: Schema.optional(MediaLink) }

/**
 * The media object of `audio` and `sticker`: exactly one of `id` or `link`, nothing else.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PlainMedia = Schema.Struct(sourceFields).pipe(Schema.filter(exactlyOneSource))

/**
 * The media object of `image` and `video`: exactly one of `id` or `link`, an optional `caption`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CaptionedMedia = Schema.Struct({ ...sourceFields, caption: Schema.optional(Caption) }).pipe(
  Schema.filter(exactlyOneSource)
)

/**
 * The media object of `document`: exactly one of `id` or `link`, optional `caption` and `filename`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DocumentMedia = Schema.Struct({
  ...sourceFields,
  caption: Schema.optional(Caption),
  filename: Schema.optional(Filename)
}).pipe(Schema.filter(exactlyOneSource))

/**
 * Where the media comes from: exactly one of an uploaded media `id` or a public `link`.
 * @since 0.1.0
 * @category models
 */
export type MediaSource =
  | { readonly id: string; readonly link?: never }
  | { readonly link: string; readonly id?: never }

/**
 * Kaleyra's `extra_info`, in camelCase.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExtraInfo = Schema.Struct({
  ref: Schema.optional(Ref),
  ref1: Schema.optional(Ref),
  ref2: Schema.optional(Ref),
  waSource: Schema.optional(WaSource)
})

/**
 * Kaleyra's `extra_info`, in camelCase: `ref`, `ref1`, `ref2`, `waSource`.
 * @since 0.1.0
 * @category models
 */
export type ExtraInfo = typeof ExtraInfo.Type

// ---------------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------------

const messageFields = {
  to: Recipients,
  replyTo: Schema.optional(ReplyTo),
  extraInfo: Schema.optional(ExtraInfo)
}

const inputFields = { ...messageFields, to: RecipientsFromInput }

/**
 * A validated image message.
 * @since 0.1.0
 * @category schemas
 */
export const ImageMessage = Schema.Struct({ type: Schema.Literal("image"), ...messageFields, image: CaptionedMedia })
/**
 * A validated video message.
 * @since 0.1.0
 * @category schemas
 */
export const VideoMessage = Schema.Struct({ type: Schema.Literal("video"), ...messageFields, video: CaptionedMedia })
/**
 * A validated document message.
 * @since 0.1.0
 * @category schemas
 */
export const DocumentMessage = Schema.Struct({
  type: Schema.Literal("document"),
  ...messageFields,
  document: DocumentMedia
})
/**
 * A validated audio message.
 * @since 0.1.0
 * @category schemas
 */
export const AudioMessage = Schema.Struct({ type: Schema.Literal("audio"), ...messageFields, audio: PlainMedia })
/**
 * A validated sticker message.
 * @since 0.1.0
 * @category schemas
 */
export const StickerMessage = Schema.Struct({ type: Schema.Literal("sticker"), ...messageFields, sticker: PlainMedia })

/**
 * Meta's template object in camelCase (`name`, `language`, `components` of a header, a body and buttons), with
 * Meta's rules; see `template` for the builder.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Template = TemplateInternal.make({
  id: Fields.rules.id,
  link: Fields.rules.link,
  filename: Fields.rules.filename,
  exactlyOneSource
})

/**
 * A template as validated: the type of the `Template` schema.
 *
 * @since 0.2.0
 * @category models
 */
export type Template = typeof Template.Type

/**
 * Limits of template messages: the name (512), a body parameter's text (1024), a header's text (60), a button's
 * parameter (2000), the buttons (10).
 *
 * @since 0.2.0
 * @category constants
 */
export const templateLimits = TemplateInternal.templateLimits

/**
 * A template message: delivered outside the 24-hour window, with an optional media header.
 *
 * @since 0.2.0
 * @category schemas
 */
export const TemplateMessage = Schema.Struct({ type: Schema.Literal("template"), ...messageFields, template: Template })

/**
 * A validated, normalised message: media or template.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MediaMessage = Schema.Union(
  AudioMessage,
  DocumentMessage,
  ImageMessage,
  StickerMessage,
  VideoMessage,
  TemplateMessage
)

/**
 * A validated, normalised media message.
 * @since 0.1.0
 * @category models
 */
export type MediaMessage = typeof MediaMessage.Type

const inputSchemas = {
  audio: Schema.Struct({ type: Schema.Literal("audio"), ...inputFields, audio: PlainMedia }),
  document: Schema.Struct({ type: Schema.Literal("document"), ...inputFields, document: DocumentMedia }),
  image: Schema.Struct({ type: Schema.Literal("image"), ...inputFields, image: CaptionedMedia }),
  sticker: Schema.Struct({ type: Schema.Literal("sticker"), ...inputFields, sticker: PlainMedia }),
  video: Schema.Struct({ type: Schema.Literal("video"), ...inputFields, video: CaptionedMedia }),
  template: Schema.Struct({ type: Schema.Literal("template"), ...inputFields, template: Template })
} as const

/**
 * What `sendMedia` accepts, decoded into a {@link MediaMessage}. Unknown fields are refused (nothing is silently
 * dropped).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SendMediaInput = Schema.Union(
  inputSchemas.audio,
  inputSchemas.document,
  inputSchemas.image,
  inputSchemas.sticker,
  inputSchemas.video,
  inputSchemas.template
)

type Common = {
  readonly to: RecipientsInput
  readonly replyTo?: string | undefined
  readonly extraInfo?: ExtraInfo | undefined
}

/**
 * The input of `sendMedia` for an audio message.
 * @since 0.1.0
 * @category models
 */
export type AudioInput = Common & { readonly type: "audio"; readonly audio: MediaSource }
/**
 * The input of `sendMedia` for a sticker.
 * @since 0.1.0
 * @category models
 */
export type StickerInput = Common & { readonly type: "sticker"; readonly sticker: MediaSource }
/**
 * The input of `sendMedia` for an image.
 * @since 0.1.0
 * @category models
 */
export type ImageInput = Common & {
  readonly type: "image"
  readonly image: MediaSource & { readonly caption?: string }
}
/**
 * The input of `sendMedia` for a video.
 * @since 0.1.0
 * @category models
 */
export type VideoInput = Common & {
  readonly type: "video"
  readonly video: MediaSource & { readonly caption?: string }
}
/**
 * The input of `sendMedia` for a document.
 * @since 0.1.0
 * @category models
 */
export type DocumentInput = Common & {
  readonly type: "document"
  readonly document: MediaSource & { readonly caption?: string | undefined; readonly filename?: string | undefined }
}

/**
 * A template message: Meta's template object in camelCase under `template`.
 *
 * @since 0.2.0
 * @category models
 */
export type TemplateInput = Common & { readonly type: "template"; readonly template: Template }

/**
 * What a program passes to `sendMedia`: Meta's message object in camelCase (a message that {@link validate}
 * returned is accepted too).
 *
 * @since 0.1.0
 * @category models
 */
export type SendMediaInput =
  | AudioInput
  | DocumentInput
  | ImageInput
  | StickerInput
  | VideoInput
  | TemplateInput
  | MediaMessage

// ---------------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------------

const allowedKeys = (type: MessageType): string => {
  switch (type) {
    case "template":
      return TemplateInternal.templateKeys
    case "audio":
    case "sticker":
      return "id, link"
    case "image":
    case "video":
      return "id, link, caption"
    case "document":
      return "id, link, caption, filename"
  }
}

const reasonOf = (type: MessageType, issue: FlatIssue): string => {
  if (issue._tag === "Unexpected") {
    const key = issue.path[issue.path.length - 1]
    if (issue.path.length === 2 && issue.path[0] === type) {
      return `is not allowed on ${type} messages (allowed: ${allowedKeys(type)})`
    }
    if (issue.path.length === 1) {
      const article = type === "image" || type === "audio" ? "an" : "a"
      return `is not a field of ${article} ${type} message (allowed: to, type, ${type}, replyTo, extraInfo)`
    }
    return `${keyName(key)} is not allowed here`
  }
  if (issue._tag === "Missing") return "is required"
  return issue.message
}

/** Turns a `ParseError` from one of the message schemas into an `InvalidMessage` naming each failing field. */
const invalidMessageFromParseError = (type: MessageType, error: ParseResult.ParseError): InvalidMessage =>
  fromParseIssue(error.issue, (issue) => reasonOf(type, issue))

const decoders = {
  audio: Schema.decodeUnknownEither(inputSchemas.audio, { errors: "all", onExcessProperty: "error" }),
  document: Schema.decodeUnknownEither(inputSchemas.document, { errors: "all", onExcessProperty: "error" }),
  image: Schema.decodeUnknownEither(inputSchemas.image, { errors: "all", onExcessProperty: "error" }),
  sticker: Schema.decodeUnknownEither(inputSchemas.sticker, { errors: "all", onExcessProperty: "error" }),
  video: Schema.decodeUnknownEither(inputSchemas.video, { errors: "all", onExcessProperty: "error" }),
  template: Schema.decodeUnknownEither(inputSchemas.template, { errors: "all", onExcessProperty: "error" })
} as const

const isMediaType = (u: unknown): u is MediaType =>
  u === "audio" || u === "document" || u === "image" || u === "sticker" || u === "video"

/**
 * Validates and normalises anything into a {@link MediaMessage}, or says which field is wrong and why. Never throws,
 * whatever the input (hostile getters and proxies included).
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (input: unknown): Either.Either<MediaMessage, InvalidMessage> => {
  try {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      return Either.left(
        invalidMessage([{
          field: ROOT,
          reason: `must be an object with to, type and a media object (got ${describeValue(input)})`
        }])
      )
    }
    const type = (input as { readonly type?: unknown }).type
    if (type === "template") {
      return Either.mapLeft(decoders.template(input), (error) => invalidMessageFromParseError(type, error))
    }
    if (!isMediaType(type)) {
      const got = type === undefined ? "nothing" : describeValue(type)
      return Either.left(
        invalidMessage([{ field: "type", reason: `must be one of ${messageTypes.join(", ")} (got ${got})` }])
      )
    }
    const accepted = acceptPlain(type, input)
    if (accepted !== undefined) return Either.right(accepted)
    const decoded: Either.Either<MediaMessage, ParseResult.ParseError> = decoders[type](input)
    return Either.mapLeft(decoded, (error) => invalidMessageFromParseError(type, error))
  } catch (cause) {
    // A throwing getter, a revoked Proxy, a trap that throws: what was thrown may be as hostile as the input.
    return Either.left(invalidMessage([{ field: ROOT, reason: `could not be read: ${describeThrown(cause)}` }]))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------------------------

/**
 * What a builder (`MediaMessage.image`, ...) takes: the recipients, the media's `id` or `link`, and the fields of its media type.
 * @since 0.1.0
 * @category models
 */
export type BuilderOptions<Extra = {}> = Common & MediaSource & Extra

const messageKeys = new Set(["to", "replyTo", "extraInfo", "type"])

// Every key that is not a message field goes into the media object, so that a field the type does not take
// (a caption on audio, from untyped code) is refused by validation instead of being silently dropped.
const build = (type: MediaType, options: object): unknown => {
  const media: Record<string, unknown> = {}
  const out: Record<string, unknown> = { type, to: (options as Common).to }
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key === "to" || key === "type") continue
    if (messageKeys.has(key)) out[key] = value
    else media[key] = value
  }
  out[type] = media
  return out
}

/**
 * An image message (`image/jpeg`, `image/png`, at most 5 MB), with an optional caption.
 *
 * @example
 * ```ts
 * import { MediaMessage } from "@effect-kaleyra/core"
 *
 * const byLink = MediaMessage.image({ to: "+919876543210", link: "https://example.com/a.png", caption: "Hi" })
 * const byId = MediaMessage.image({ to: ["+919876543210", "+14155550123"], id: "1012345678901291" })
 * const reply = MediaMessage.image({ to: "+919876543210", id: "1012345678901291", replyTo: "wamid.HBgL..." })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const image = (options: BuilderOptions<{ readonly caption?: string }>): ImageInput =>
  build("image", options) as unknown as ImageInput

/**
 * A video message (`video/mp4`, `video/3gpp`, at most 16 MB), with an optional caption.
 *
 * @since 0.1.0
 * @category constructors
 */
export const video = (options: BuilderOptions<{ readonly caption?: string }>): VideoInput =>
  build("video", options) as unknown as VideoInput

/**
 * A document message (at most 100 MB), with an optional caption and the file name shown to the recipient.
 *
 * @since 0.1.0
 * @category constructors
 */
export const document = (
  options: BuilderOptions<{ readonly caption?: string; readonly filename?: string }>
): DocumentInput => build("document", options) as unknown as DocumentInput

/**
 * An audio message (AAC, AMR, MP3, M4A, OGG/Opus, at most 16 MB). Audio takes no caption.
 *
 * @since 0.1.0
 * @category constructors
 */
export const audio = (options: BuilderOptions): AudioInput => build("audio", options) as unknown as AudioInput

/**
 * A sticker message (`image/webp`, 100 KB static, 500 KB animated). Stickers take no caption.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sticker = (options: BuilderOptions): StickerInput => build("sticker", options) as unknown as StickerInput

/**
 * The options of {@link template}: the message fields, then the template's name, language, header, body and
 * buttons.
 *
 * @since 0.2.0
 * @category models
 */
export type TemplateOptions = Common & TemplateInternal.TemplateOptions

/**
 * The header of {@link template}: `{ image | video | document: { id | link, filename? } }` (a `filename` on a
 * document only), or `{ text }` for a text header's parameter.
 *
 * @since 0.2.0
 * @category models
 */
export type TemplateHeader = TemplateInternal.TemplateHeader

const templateOptionKeys = new Set(["name", "language", "header", "body", "buttons"])

/**
 * A template message (delivered outside the 24-hour customer-service window), from its name, language, optional
 * media header, body texts (positional, or named) and buttons' parameters. Another key (from untyped code) goes
 * into the template object, where validation refuses it instead of dropping it.
 *
 * @example
 * ```ts
 * import { MediaMessage } from "@effect-kaleyra/core"
 *
 * const shipped = MediaMessage.template({
 *   to: "+919876543210",
 *   name: "order_shipped",
 *   language: "en_US",
 *   header: { image: { link: "https://example.com/box.png" } },
 *   body: ["Ada", "#4711"],
 *   extraInfo: { ref: "order-4711" }
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const template = (options: TemplateOptions): TemplateInput => {
  const out: Record<string, unknown> = { type: "template", to: options.to }
  const extra: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key === "to" || key === "type" || templateOptionKeys.has(key)) continue
    if (messageKeys.has(key)) out[key] = value
    else extra[key] = value
  }
  out.template = { ...(TemplateInternal.buildTemplate(options) as object), ...extra }
  return out as unknown as TemplateInput
}
