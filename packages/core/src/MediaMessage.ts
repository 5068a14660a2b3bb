/**
 * Media messages: schemas, validation, the wire format and typed builders.
 *
 * Three shapes of the same message:
 *
 * - the **input** (`SendMediaInput`): what a program passes to `sendMedia`, Meta's message object in camelCase;
 *   `to` may be one number or several, in any common notation (`+91 98765-43210`);
 * - the **message** (`MediaMessage`): the validated, normalised form (recipients in E.164, as an array);
 * - the **wire body** (`SendMediaRequest`): Kaleyra's JSON (`messaging_object`, `extra_info`, `wa_source`); the schema
 *   decodes a body back into a message and specifies the encoding, which `toWire` performs directly.
 *
 * The schemas are the specification. `validate` and `toWire` take a direct path for the common case (a plain, valid
 * input), calling the same rule functions; property tests hold them equal to the schemas.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"
import { describeThrown, describeValue, keyName } from "./internal/describe.js"
import { type FlatIssue, fromParseIssue, invalidMessage, ROOT } from "./internal/invalidMessage.js"
import * as TemplateInternal from "./internal/template.js"
import { LONE_SURROGATE } from "./internal/text.js"
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
export const mediaTypes = ["audio", "document", "image", "sticker", "video"] as const

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
export const waSources = [
  "api",
  "clevertap",
  "zoho",
  "webengage",
  "shopify",
  "leadsquared",
  "responsys",
  "braze",
  "hubspot",
  "salesforce",
  "zapier",
  "eloqua",
  "moengage"
] as const

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
export const limits = {
  captionLength: 1024,
  refLength: 255,
  filenameLength: 255,
  mediaIdLength: 256,
  linkLength: 2048,
  replyToLength: 256,
  minPhoneDigits: 8,
  maxPhoneDigits: 15
} as const

// ---------------------------------------------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------------------------------------------

/**
 * Counts Unicode code points (what a person calls characters), not UTF-16 units.
 *
 * @since 0.1.0
 * @category utils
 */
export const codePointLength = (s: string): number => {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--
        i++
      }
    }
  }
  return n
}

/* eslint-disable no-control-regex */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f-\u009f]/
/* eslint-enable no-control-regex */

const SURROGATE = /[\ud800-\udfff]/
const UNPAIRED = "contains an unpaired surrogate (not valid Unicode text)"

const textOf =
  (max: number, what: string, options: { readonly allowEmpty?: boolean; readonly oneLine?: boolean }) =>
  (s: string): string | true => {
    if (!options.allowEmpty && s.length === 0) return `${what} must not be empty`
    // Without surrogates (most text), the length in code points is the string's length and none can be unpaired.
    const surrogates = SURROGATE.test(s)
    const length = surrogates ? codePointLength(s) : s.length
    if (length > max) return `${what} must be at most ${max} characters (got ${length})`
    if (options.oneLine && CONTROL.test(s)) return `${what} must not contain control characters`
    if (surrogates && LONE_SURROGATE.test(s)) return `${what} ${UNPAIRED}`
    return true
  }

const PHONE = /^\+[1-9][0-9]{7,14}$/

/**
 * A phone number in E.164: `+`, then 8 to 15 digits, the first not 0.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PhoneNumber = Schema.String.pipe(
  Schema.filter((s) => PHONE.test(s) || "must be E.164: a leading + and 8 to 15 digits, e.g. +919876543210"),
  Schema.annotations({ identifier: "PhoneNumber" })
)

/**
 * Normalises a phone number written by a person: spaces, dashes, dots and parentheses are removed; anything else
 * is refused with the reason.
 *
 * @since 0.1.0
 * @category utils
 */
export const normalizePhoneNumber = (input: string): Either.Either<string, string> => {
  if (PHONE.test(input)) return Either.right(input)
  const compact = input.replace(/[ .()-]/g, "")
  if (PHONE.test(compact)) return Either.right(compact)
  if (compact.length === 0) return Either.left("must not be empty")
  if (compact[0] !== "+") return Either.left("must start with + and the country code (E.164), e.g. +919876543210")
  const digits = compact.slice(1)
  if (!/^[0-9]*$/.test(digits)) {
    return Either.left(
      digits.includes(",")
        ? "holds a comma: give several recipients as an array"
        : "may hold only digits, spaces, dashes, dots and parentheses after the +"
    )
  }
  if (digits[0] === "0") return Either.left("country code must not start with 0")
  return Either.left(`must have 8 to 15 digits after the + (got ${digits.length})`)
}

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

/** Why `to` is refused: the offending value, where it is (`[]` for `to` itself, `[i]` for an element), and why. */
interface RecipientsProblem {
  readonly actual: unknown
  readonly path: ReadonlyArray<number>
  readonly message: string
}

/** Normalises `to` (one number or an array) into distinct E.164 numbers, or says what is wrong with it. */
const normaliseRecipients = (input: unknown): ReadonlyArray<string> | RecipientsProblem => {
  const list: ReadonlyArray<unknown> | undefined = typeof input === "string"
    ? [input]
    : Array.isArray(input)
    ? input
    : undefined
  if (list === undefined) {
    return { actual: input, path: [], message: "must be a phone number or a non-empty array of them" }
  }
  if (list.length === 0) return { actual: input, path: [], message: "must hold at least one recipient" }
  const out: Array<string> = []
  const seen = list.length > 32 ? new Set<string>() : undefined
  const pathOf = (i: number) => typeof input === "string" ? [] : [i]
  for (let i = 0; i < list.length; i++) {
    const raw = list[i]
    if (typeof raw !== "string") return { actual: raw, path: pathOf(i), message: "must be a phone number string" }
    const n = normalizePhoneNumber(raw)
    if (Either.isLeft(n)) return { actual: raw, path: pathOf(i), message: n.left }
    if (seen !== undefined ? seen.has(n.right) : out.includes(n.right)) {
      return { actual: raw, path: pathOf(i), message: `duplicate recipient ${n.right}: it would get the message twice` }
    }
    out.push(n.right)
    seen?.add(n.right)
  }
  return out
}

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
    const result = normaliseRecipients(input)
    if (Array.isArray(result)) return ParseResult.succeed(result as unknown as readonly [string, ...Array<string>])
    const { actual, message, path } = result as RecipientsProblem
    const issue = new ParseResult.Type(ast, actual, message)
    return ParseResult.fail(path.length === 0 ? issue : new ParseResult.Pointer(path[0], actual, issue))
  },
  encode: (to) => ParseResult.succeed(to)
})

/* eslint-disable-next-line no-control-regex */
const WHITESPACE_CONTROL_OR_SURROGATE = /[\s\u0000-\u001f\u007f-\u009f\ud800-\udfff]/

/**
 * One token (a media id, a message id): not empty, no spaces, control characters or unpaired surrogates, at most
 * `max` characters. One scan for a plain token; the characters that need a second look are rare in ids.
 */
const tokenOf = (max: number) => (s: string): string | true => {
  if (s.length === 0) return "must not be empty"
  if (WHITESPACE_CONTROL_OR_SURROGATE.test(s)) {
    if (WHITESPACE_OR_CONTROL.test(s)) return "must not contain spaces or control characters"
    if (LONE_SURROGATE.test(s)) return UNPAIRED
  }
  return s.length > max ? `must be at most ${max} characters` : true
}

const HTTP_SCHEME = /^https?:/i
const PRINTABLE_ASCII = /^[\x21-\x7e]*$/

const parsesAsUrl = (s: string): boolean => {
  try {
    new URL(s)
    return true
  } catch {
    return false
  }
}

const checkLink = (s: string): string | true => {
  if (s.length > limits.linkLength) return `must be at most ${limits.linkLength} characters`
  if (WHITESPACE_OR_CONTROL.test(s)) return "must not contain spaces or control characters (percent-encode them)"
  const ascii = PRINTABLE_ASCII.test(s)
  // `new URL` would silently write an unpaired surrogate as %EF%BF%BD (U+FFFD)
  if (!ascii && LONE_SURROGATE.test(s)) return UNPAIRED
  // Without spaces or control characters, the URL's scheme is the text before the first ":", lower-cased: an
  // http(s) URL starts with "http:" or "https:" in any case, and `URL.canParse` (a third of `new URL`'s cost)
  // checks the rest. Only for ASCII: once optimised, Node 20's `URL.canParse` misreads a string of Latin-1
  // characters (U+0080 to U+00FF), refusing `https://café.fr/` and accepting hosts that `new URL` refuses
  // (nodejs/node#58023). A URL of another scheme is parsed, for its name, only to be refused.
  if (HTTP_SCHEME.test(s)) {
    const parses = ascii ? URL.canParse(s) : parsesAsUrl(s)
    return parses ? true : "must be an absolute http(s) URL"
  }
  let url: URL
  try {
    url = new URL(s)
  } catch {
    return "must be an absolute http(s) URL"
  }
  return `must use http or https (got ${url.protocol.slice(0, -1)})`
}

/**
 * Each rule on a string field, once: the schemas below filter with them, and `validate`'s fast path for plainly
 * valid inputs calls the same functions. `true` when the value is valid, otherwise the reason.
 */
const rules = {
  id: tokenOf(limits.mediaIdLength),
  link: checkLink,
  caption: textOf(limits.captionLength, "caption", { allowEmpty: true }),
  filename: textOf(limits.filenameLength, "filename", { oneLine: true }),
  ref: textOf(limits.refLength, "ref", { allowEmpty: true }),
  replyTo: tokenOf(limits.replyToLength)
} as const

/**
 * An uploaded media id.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MediaId = Schema.String.pipe(Schema.filter(rules.id), Schema.annotations({ identifier: "MediaId" }))

/**
 * A public `http(s)` URL that Meta fetches the media from.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MediaLink = Schema.String.pipe(Schema.filter(rules.link), Schema.annotations({ identifier: "MediaLink" }))

/**
 * A caption: image, video and document only, at most 1024 characters.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Caption = Schema.String.pipe(Schema.filter(rules.caption), Schema.annotations({ identifier: "Caption" }))

/**
 * A document's file name as shown to the recipient (with its extension): one line, at most 255 characters.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Filename = Schema.String.pipe(
  Schema.filter(rules.filename),
  Schema.annotations({ identifier: "Filename" })
)

/**
 * `ref`, `ref1`, `ref2`: at most 255 characters. Kaleyra truncates longer values; this library rejects them, so
 * that what comes back in callbacks is exactly what was sent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Ref = Schema.String.pipe(Schema.filter(rules.ref), Schema.annotations({ identifier: "Ref" }))

/**
 * The id of the message being replied to (`context.message_id` on the wire).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReplyTo = Schema.String.pipe(Schema.filter(rules.replyTo), Schema.annotations({ identifier: "ReplyTo" }))

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
  id: rules.id,
  link: rules.link,
  filename: rules.filename,
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

/**
 * Turns a `ParseError` from one of the message schemas into an `InvalidMessage` naming each failing field.
 *
 * @since 0.1.0
 * @category errors
 */
export const invalidMessageFromParseError = (type: MessageType, error: ParseResult.ParseError): InvalidMessage =>
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

// ---------------------------------------------------------------------------------------------------------------
// The fast path: accept a plainly valid input, or defer to the schema
// ---------------------------------------------------------------------------------------------------------------

/** The keys of each media object, in the order of its schema (which is the order decoding writes them in). */
const mediaKeys = {
  audio: ["id", "link"],
  sticker: ["id", "link"],
  image: ["id", "link", "caption"],
  video: ["id", "link", "caption"],
  document: ["id", "link", "caption", "filename"]
} as const satisfies Record<MediaType, ReadonlyArray<keyof typeof rules>>

const extraInfoKeys = ["ref", "ref1", "ref2", "waSource"] as const

const isWaSource = (u: unknown): u is WaSource =>
  typeof u === "string" && (waSources as ReadonlyArray<string>).includes(u)

/**
 * The own keys of a plain object (an object literal or `Object.create(null)`), every one of them (as the schema's
 * check for unknown keys reads them with `Reflect.ownKeys`), or `undefined` for anything else or a symbol key.
 * `getOwnPropertyNames` and an empty `getOwnPropertySymbols` say the same as `Reflect.ownKeys` for an object,
 * at a tenth of its cost on Node 20.
 */
const plainKeys = (u: unknown): ReadonlyArray<string> | undefined => {
  if (typeof u !== "object" || u === null) return undefined
  const prototype = Object.getPrototypeOf(u)
  if (prototype !== Object.prototype && prototype !== null) return undefined
  const keys = Object.getOwnPropertyNames(u)
  return Object.getOwnPropertySymbols(u).length === 0 ? keys : undefined
}

/** The media object when every key is allowed, every value a string that passes its rule, and exactly one source. */
const plainMedia = (type: MediaType, input: unknown): Record<string, string> | undefined => {
  const keys = plainKeys(input)
  if (keys === undefined) return undefined
  const fields = input as Record<string, unknown>
  const allowed: ReadonlyArray<keyof typeof rules> = mediaKeys[type]
  for (let i = 0; i < keys.length; i++) {
    if (!(allowed as ReadonlyArray<string>).includes(keys[i])) return undefined
  }
  const out: Record<string, string> = {}
  for (let i = 0; i < allowed.length; i++) {
    const key = allowed[i]
    if (!Object.hasOwn(fields, key)) continue
    const value = fields[key]
    if (typeof value !== "string" || rules[key](value) !== true) return undefined
    out[key] = value
  }
  return (out.id === undefined) === (out.link === undefined) ? undefined : out
}

const plainExtraInfo = (input: unknown): ExtraInfo | undefined => {
  const keys = plainKeys(input)
  if (keys === undefined) return undefined
  const fields = input as Record<string, unknown>
  for (let i = 0; i < keys.length; i++) {
    if (!(extraInfoKeys as ReadonlyArray<string>).includes(keys[i])) return undefined
  }
  const out: { ref?: string; ref1?: string; ref2?: string; waSource?: WaSource } = {}
  for (let i = 0; i < extraInfoKeys.length; i++) {
    const key = extraInfoKeys[i]
    if (!Object.hasOwn(fields, key)) continue
    const value = fields[key]
    if (key === "waSource") {
      if (!isWaSource(value)) return undefined
      out.waSource = value
    } else {
      if (typeof value !== "string" || rules.ref(value) !== true) return undefined
      out[key] = value
    }
  }
  return out
}

/**
 * @internal
 * The message, when the input is plainly valid: plain objects, only known keys, no `undefined` values, every rule
 * passed. `undefined` means "let the schema decide": this never rejects, so every refusal, and every unusual input,
 * goes through the schema and its messages. It calls the same rule functions as the schemas and writes the keys in
 * the order decoding does; a property test holds the two paths equal.
 */
export const acceptPlain = (type: MediaType, input: object): MediaMessage | undefined => {
  try {
    // Like the schema: the own keys only decide which keys are unknown; each field is present when it is an own
    // property (`Object.hasOwn`), which a Proxy may report differently from its key list.
    const keys = plainKeys(input)
    if (keys === undefined) return undefined
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      if (key !== "type" && key !== "to" && key !== type && key !== "replyTo" && key !== "extraInfo") return undefined
    }
    const fields = input as Record<string, unknown>
    if (!Object.hasOwn(fields, "type") || fields.type !== type) return undefined
    if (!Object.hasOwn(fields, "to") || !Object.hasOwn(fields, type)) return undefined
    const to = normaliseRecipients(fields.to)
    if (!Array.isArray(to)) return undefined
    const media = plainMedia(type, fields[type])
    if (media === undefined) return undefined
    let replyTo: string | undefined
    if (Object.hasOwn(fields, "replyTo")) {
      const value = fields.replyTo
      if (typeof value !== "string" || rules.replyTo(value) !== true) return undefined
      replyTo = value
    }
    let extraInfo: ExtraInfo | undefined
    if (Object.hasOwn(fields, "extraInfo") && (extraInfo = plainExtraInfo(fields.extraInfo)) === undefined) {
      return undefined
    }
    const out: Record<string, unknown> = { type, to }
    if (replyTo !== undefined) out.replyTo = replyTo
    if (extraInfo !== undefined) out.extraInfo = extraInfo
    out[type] = media
    return out as unknown as MediaMessage
  } catch {
    // A throwing getter or proxy: the schema path reports it.
    return undefined
  }
}

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
// Wire format
// ---------------------------------------------------------------------------------------------------------------

// The wire side is structural (plain strings): every rule lives once, on the message side, so that encoding a
// message checks it once and decoding a wire body checks what it decodes to.
const optionalString = Schema.optional(Schema.String)

const WireExtraInfo = Schema.Struct({
  ref: optionalString,
  ref1: optionalString,
  ref2: optionalString,
  waSource: optionalString.pipe(Schema.fromKey("wa_source"))
})

const WireContext = Schema.Struct({ message_id: Schema.String })

const wireMedia = {
  audio: Schema.Struct({ id: optionalString, link: optionalString }),
  sticker: Schema.Struct({ id: optionalString, link: optionalString }),
  image: Schema.Struct({ id: optionalString, link: optionalString, caption: optionalString }),
  video: Schema.Struct({ id: optionalString, link: optionalString, caption: optionalString }),
  document: Schema.Struct({
    id: optionalString,
    link: optionalString,
    caption: optionalString,
    filename: optionalString
  }),
  template: TemplateInternal.WireTemplate
} as const

const wireMessage = <T extends MessageType>(type: T) =>
  Schema.Struct({
    messaging_object: Schema.Struct(
      {
        messaging_product: Schema.Literal("whatsapp"),
        recipient_type: Schema.optionalWith(Schema.Literal("individual"), { default: () => "individual" as const }),
        to: Schema.String,
        type: Schema.Literal(type),
        [type]: wireMedia[type],
        context: Schema.optional(WireContext)
      } as {
        messaging_product: Schema.Literal<["whatsapp"]>
        recipient_type: Schema.optionalWith<Schema.Literal<["individual"]>, { default: () => "individual" }>
        to: typeof Schema.String
        type: Schema.Literal<[T]>
        context: Schema.optional<typeof WireContext>
      } & { [K in T]: (typeof wireMedia)[T] }
    ),
    extra_info: Schema.optional(WireExtraInfo)
  })

type WireOf<T extends MessageType> = ReturnType<typeof wireMessage<T>>

/** The one reshaping between a message and the wire structure (before the wire schema renames keys). */
const reshape = (type: MessageType) => ({
  decode: (wire: unknown): unknown => {
    const w = wire as { readonly messaging_object: Record<string, unknown>; readonly extra_info?: ExtraInfo }
    const mo = w.messaging_object
    const context = mo.context as { readonly message_id: string } | undefined
    return {
      type,
      to: (mo.to as string).split(","),
      [type]: mo[type],
      ...(context !== undefined ? { replyTo: context.message_id } : {}),
      ...(w.extra_info !== undefined ? { extraInfo: w.extra_info } : {})
    }
  },
  encode: (m: unknown): unknown => {
    const msg = m as MediaMessage & Record<string, unknown>
    return {
      messaging_object: {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to: msg.to.join(","),
        type,
        [type]: msg[type],
        ...(msg.replyTo !== undefined ? { context: { message_id: msg.replyTo } } : {})
      },
      ...(msg.extraInfo !== undefined ? { extra_info: msg.extraInfo } : {})
    }
  }
})

const fromWire = <T extends MessageType, S extends Schema.Schema.AnyNoContext>(
  type: T,
  message: S
): Schema.transform<WireOf<T>, S> => Schema.transform(wireMessage(type), message, { strict: false, ...reshape(type) })

/**
 * Kaleyra's send body (`{ messaging_object, extra_info }`) as a schema of {@link MediaMessage}: encoding a message
 * gives the exact wire object; decoding a wire object gives the message back (and checks every rule).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SendMediaRequest = Schema.Union(
  fromWire("audio", AudioMessage),
  fromWire("document", DocumentMessage),
  fromWire("image", ImageMessage),
  fromWire("sticker", StickerMessage),
  fromWire("video", VideoMessage),
  fromWire("template", TemplateMessage)
)

/**
 * The wire body as JSON-ready data.
 *
 * @since 0.1.0
 * @category models
 */
export type SendMediaRequest = typeof SendMediaRequest.Encoded

/**
 * Encodes a message that {@link validate} returned into Kaleyra's wire body: exactly what
 * `Schema.encodeSync(SendMediaRequest)` gives, key order included (a property test holds them equal), without
 * checking the message's rules again (they were checked when it was validated; use `Schema.encode(SendMediaRequest)`
 * for a message of unknown origin). Only the known fields are copied.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toWire = (message: MediaMessage): SendMediaRequest => {
  const type = message.type
  const media: Record<string, unknown> = type === "template"
    ? TemplateInternal.templateToWire(message.template)
    : mediaOf(type, (message as unknown as Record<string, Record<string, unknown>>)[type])
  const messagingObject: Record<string, unknown> = {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: message.to.join(","),
    type,
    [type]: media
  }
  if (message.replyTo !== undefined) messagingObject.context = { message_id: message.replyTo }
  const wire: Record<string, unknown> = { messaging_object: messagingObject }
  const extra = message.extraInfo
  if (extra !== undefined) {
    const extraInfo: Record<string, string> = {}
    if (extra.ref !== undefined) extraInfo.ref = extra.ref
    if (extra.ref1 !== undefined) extraInfo.ref1 = extra.ref1
    if (extra.ref2 !== undefined) extraInfo.ref2 = extra.ref2
    if (extra.waSource !== undefined) extraInfo.wa_source = extra.waSource
    wire.extra_info = extraInfo
  }
  return wire as unknown as SendMediaRequest
}

/** The known fields of a media object, in the order of its schema. */
const mediaOf = (type: MediaType, source: Record<string, unknown>): Record<string, unknown> => {
  const keys = mediaKeys[type]
  const media: Record<string, unknown> = {}
  for (let i = 0; i < keys.length; i++) {
    const value = source[keys[i]]
    if (value !== undefined) media[keys[i]] = value
  }
  return media
}

// A string JSON.stringify writes as it is, between quotes: no quote, backslash, control character or surrogate
// (a well-formed JSON.stringify escapes an unpaired one).
// eslint-disable-next-line no-control-regex
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/
/** Thrown by `jsonChars` for a value that is not a string: `toWireJson` then leaves it to `JSON.stringify`. */
const NOT_A_STRING = Symbol("NOT_A_STRING")
/** A string as JSON.stringify writes it, without the quotes around it (the caller writes them). */
const jsonChars = (value: unknown): string => {
  if (typeof value !== "string") throw NOT_A_STRING
  return JSON_ESCAPED.test(value) ? JSON.stringify(value).slice(1, -1) : value
}

/** A field of the wire body: where its value is in the message, and its JSON key followed by `":"`. */
type WireField = readonly [field: string, keyAndColon: string]

/** `extra_info`'s fields, in the order `toWire` writes them. */
const EXTRA_INFO_WIRE_FIELDS: ReadonlyArray<WireField> = [
  ["ref", "ref\":\""],
  ["ref1", "ref1\":\""],
  ["ref2", "ref2\":\""],
  ["waSource", "wa_source\":\""]
]
/** Each media type's fields (their wire keys are their names). */
const MEDIA_WIRE_FIELDS = Object.fromEntries(
  Object.entries(mediaKeys).map(([type, keys]) => [type, keys.map((key): WireField => [key, `${key}":"`])])
) as unknown as Record<MediaType, ReadonlyArray<WireField>>

/**
 * The defined string fields of `source`, as JSON members without the braces. Each value is appended between quote
 * characters that are part of the literal around it: wrapping each value in its own quotes first would make two more
 * strings per value (and a longer rope to flatten when the body is written).
 */
const jsonMembers = (source: object, fields: ReadonlyArray<WireField>): string => {
  let members = ""
  for (let i = 0; i < fields.length; i++) {
    // indexed, not destructured (which allocates an iterator)
    const field = fields[i]
    const value = (source as Record<string, unknown>)[field[0]]
    if (value !== undefined) members += (members === "" ? "\"" : ",\"") + field[1] + jsonChars(value) + "\""
  }
  return members
}

const writeWireJson = (message: MediaMessage): string => {
  // A template's nested components are left to JSON.stringify: the direct writer knows the flat media objects.
  if (message.type === "template") return JSON.stringify(toWire(message))
  const type = message.type
  const typeChars = jsonChars(type)
  let json = "{\"messaging_object\":{\"messaging_product\":\"whatsapp\",\"recipient_type\":\"individual\",\"to\":\"" +
    jsonChars(message.to.join(",")) + "\",\"type\":\"" + typeChars + "\",\"" + typeChars + "\":{" +
    jsonMembers((message as unknown as Record<string, object>)[type], MEDIA_WIRE_FIELDS[type]) + "}"
  if (message.replyTo !== undefined) json += ",\"context\":{\"message_id\":\"" + jsonChars(message.replyTo) + "\"}"
  json += "}"
  if (message.extraInfo !== undefined) {
    json += ",\"extra_info\":{" + jsonMembers(message.extraInfo, EXTRA_INFO_WIRE_FIELDS) + "}"
  }
  return json + "}"
}

/**
 * The wire body of a message, as the JSON text Kaleyra receives: `JSON.stringify(toWire(message))`, character for
 * character (a property test holds them equal). The wire's shape is fixed, so a message that {@link validate}
 * returned, whose fields are all strings, is written directly: on Node 20 in about 60 % of the time of
 * `JSON.stringify(toWire(message))`. A field that is not a string (in a message not made by
 * `validate`) is left to `JSON.stringify(toWire(message))`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toWireJson = (message: MediaMessage): string => {
  try {
    return writeWireJson(message)
  } catch (error) {
    if (error === NOT_A_STRING) return JSON.stringify(toWire(message))
    throw error
  }
}

/**
 * Decodes a wire body (as Kaleyra receives it) back into a message.
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromWireBody: (
  body: unknown,
  options?: AST.ParseOptions
) => Either.Either<MediaMessage, ParseResult.ParseError> = Schema.decodeUnknownEither(SendMediaRequest)

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
