/**
 * fast-check arbitraries (from `effect/FastCheck`) for property-testing code that builds media messages: valid
 * inputs of every media type within every rule of `MediaMessage.validate`, lengths up to the limits exactly
 * (counted in code points, with emoji and other astral characters), and invalid inputs that each break exactly one
 * rule, together with the field `MediaMessage.validate` reports.
 *
 * ```ts
 * import { Arbitraries } from "@effect-kaleyra/testing"
 *
 * it.prop("my builder output is valid", [Arbitraries.validMessage], ([input]) => { ... })
 * ```
 *
 * @since 0.1.0
 */
import * as MediaMessage from "@effect-kaleyra/core/MediaMessage"
import * as FastCheck from "effect/FastCheck"

// ---------------------------------------------------------------------------------------------------------------
// Characters and text
// ---------------------------------------------------------------------------------------------------------------

const codePoint = (min: number, max: number): FastCheck.Arbitrary<string> =>
  FastCheck.integer({ min, max }).map((n) => String.fromCodePoint(n))

/**
 * One character of text (one code point, never a lone surrogate, never a control character): mostly printable
 * ASCII, with Latin, Indic, CJK, private-use, emoji and other astral characters.
 *
 * @since 0.1.0
 * @category text
 */
export const textChar: FastCheck.Arbitrary<string> = FastCheck.oneof(
  { weight: 8, arbitrary: codePoint(0x20, 0x7e) },
  { weight: 2, arbitrary: codePoint(0xa0, 0x24f) },
  { weight: 2, arbitrary: codePoint(0x900, 0x97f) },
  { weight: 1, arbitrary: codePoint(0xa1, 0xd7ff) },
  { weight: 1, arbitrary: codePoint(0xe000, 0xfffd) },
  { weight: 3, arbitrary: codePoint(0x1f300, 0x1faff) },
  { weight: 1, arbitrary: codePoint(0x10000, 0x10ffff) }
)

const captionChar: FastCheck.Arbitrary<string> = FastCheck.oneof(
  { weight: 20, arbitrary: textChar },
  { weight: 1, arbitrary: FastCheck.constantFrom("\n", "\t", "\r") }
)

/**
 * Text of `minLength` to `maxLength` code points from `unit`, often exactly at or near `maxLength`.
 *
 * @since 0.1.0
 * @category text
 */
export const text = (
  options: { readonly maxLength: number; readonly minLength?: number; readonly unit?: FastCheck.Arbitrary<string> }
): FastCheck.Arbitrary<string> => {
  const unit = options.unit ?? textChar
  const min = options.minLength ?? 0
  const max = options.maxLength
  return FastCheck.oneof(
    { weight: 6, arbitrary: FastCheck.string({ unit, minLength: min, maxLength: max }) },
    { weight: 1, arbitrary: FastCheck.string({ unit, minLength: Math.max(min, max - 3), maxLength: max }) },
    { weight: 1, arbitrary: FastCheck.string({ unit, minLength: max, maxLength: max }) }
  )
}

// ---------------------------------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------------------------------

const digit = FastCheck.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
const digits = (minLength: number, maxLength: number) => FastCheck.string({ unit: digit, minLength, maxLength })

/**
 * A phone number in E.164: `+`, then 8 to 15 digits, the first not 0 (often an Indian mobile number).
 *
 * @since 0.1.0
 * @category fields
 */
export const phoneNumber: FastCheck.Arbitrary<string> = FastCheck.oneof(
  FastCheck.tuple(FastCheck.constantFrom("6", "7", "8", "9"), digits(9, 9)).map(([first, rest]) =>
    `+91${first}${rest}`
  ),
  FastCheck.tuple(FastCheck.integer({ min: 1, max: 9 }), digits(7, 14)).map(([first, rest]) => `+${first}${rest}`)
)

/**
 * The same number as written by a person: spaces, dashes, dots or parentheses inserted (all removed by
 * normalisation).
 *
 * @since 0.1.0
 * @category fields
 */
export const formatPhoneNumber = (e164: string): FastCheck.Arbitrary<string> =>
  FastCheck.array(
    FastCheck.tuple(FastCheck.integer({ min: 1, max: e164.length }), FastCheck.constantFrom(" ", "-", ".", "(", ")")),
    { maxLength: 3 }
  ).map((inserts) => {
    let out = e164
    for (const [at, separator] of [...inserts].sort((a, b) => b[0] - a[0])) {
      out = out.slice(0, at) + separator + out.slice(at)
    }
    return out
  })

/**
 * A valid phone number as a person may write it (it normalises to {@link phoneNumber}).
 *
 * @since 0.1.0
 * @category fields
 */
export const phoneNumberInput: FastCheck.Arbitrary<string> = phoneNumber.chain(formatPhoneNumber)

const nonEmpty = <A>(items: ReadonlyArray<A>): readonly [A, ...Array<A>] => [items[0], ...items.slice(1)] as const

/**
 * What `to` accepts: one number, or several distinct numbers (distinct once normalised), plain E.164 or written
 * with separators.
 *
 * @since 0.1.0
 * @category fields
 */
export const recipients: FastCheck.Arbitrary<MediaMessage.RecipientsInput> = FastCheck.oneof(
  { weight: 3, arbitrary: phoneNumber },
  { weight: 1, arbitrary: phoneNumberInput },
  {
    weight: 2,
    arbitrary: FastCheck.uniqueArray(phoneNumber, { minLength: 1, maxLength: 6 }).chain((numbers) =>
      FastCheck.tuple(...numbers.map((n) => FastCheck.oneof(FastCheck.constant(n), formatPhoneNumber(n)))).map(nonEmpty)
    )
  }
)

const lowerAlnum = FastCheck.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789")
const label = FastCheck.string({ unit: lowerAlnum, minLength: 1, maxLength: 12 })
const host = FastCheck.tuple(
  FastCheck.array(label, { minLength: 1, maxLength: 3 }),
  FastCheck.constantFrom("com", "in", "io", "net", "org", "co.uk")
).map(([labels, tld]) => `${labels.join(".")}.${tld}`)
const segment = FastCheck.string({ unit: textChar, minLength: 1, maxLength: 12 }).map(encodeURIComponent)
const extension = FastCheck.constantFrom("png", "jpg", "jpeg", "mp4", "3gp", "pdf", "docx", "mp3", "ogg", "webp")

const MAX_LINK = MediaMessage.limits.linkLength

/**
 * A public media URL: `http` or `https`, a host, an optional port, a path (percent-encoded unicode included), an
 * optional query; sometimes exactly the maximum length (2048).
 *
 * @since 0.1.0
 * @category fields
 */
export const mediaLink: FastCheck.Arbitrary<string> = FastCheck.oneof(
  {
    weight: 8,
    arbitrary: FastCheck.record({
      scheme: FastCheck.constantFrom("https", "https", "http"),
      host,
      port: FastCheck.option(FastCheck.integer({ min: 1, max: 65535 }), { nil: undefined }),
      path: FastCheck.array(segment, { maxLength: 4 }),
      file: FastCheck.tuple(segment, extension),
      query: FastCheck.option(FastCheck.tuple(label, segment), { nil: undefined })
    }).map(({ file, host, path, port, query, scheme }) =>
      `${scheme}://${host}${port === undefined ? "" : `:${port}`}/${[...path, `${file[0]}.${file[1]}`].join("/")}${
        query === undefined ? "" : `?${query[0]}=${query[1]}`
      }`
    )
  },
  {
    weight: 2,
    arbitrary: FastCheck.webUrl({ validSchemes: ["http", "https"], withQueryParameters: true, withFragments: true })
      .filter((url) => url.length <= MAX_LINK)
  },
  {
    weight: 1,
    arbitrary: host.map((h) => {
      const head = `https://${h}/`
      return head + "a".repeat(MAX_LINK - head.length)
    })
  }
)

const tokenChar = FastCheck.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")

/**
 * An uploaded media id: usually Meta-style digits, sometimes any token up to the maximum length (256).
 *
 * @since 0.1.0
 * @category fields
 */
export const mediaId: FastCheck.Arbitrary<string> = FastCheck.oneof(
  {
    weight: 4,
    arbitrary: FastCheck.tuple(FastCheck.integer({ min: 1, max: 9 }), digits(9, 19)).map(([a, b]) => `${a}${b}`)
  },
  { weight: 2, arbitrary: text({ unit: tokenChar, minLength: 1, maxLength: MediaMessage.limits.mediaIdLength }) }
)

/**
 * A caption: up to 1024 code points (often exactly 1024), emoji, astral characters and line breaks included.
 *
 * @since 0.1.0
 * @category fields
 */
export const caption: FastCheck.Arbitrary<string> = text({
  unit: captionChar,
  maxLength: MediaMessage.limits.captionLength
})

/**
 * A document's file name: 1 to 255 code points, one line, ending with an extension.
 *
 * @since 0.1.0
 * @category fields
 */
export const filename: FastCheck.Arbitrary<string> = FastCheck.constantFrom("pdf", "docx", "xlsx", "txt", "pptx").chain(
  (ext) =>
    text({ minLength: 1, maxLength: MediaMessage.limits.filenameLength - ext.length - 1 }).map((base) =>
      `${base}.${ext}`
    )
)

/**
 * A `ref` (also `ref1`, `ref2`): up to 255 code points (often exactly 255), possibly empty.
 *
 * @since 0.1.0
 * @category fields
 */
export const ref: FastCheck.Arbitrary<string> = text({ maxLength: MediaMessage.limits.refLength })

/**
 * One of the `wa_source` values Kaleyra knows.
 *
 * @since 0.1.0
 * @category fields
 */
export const waSource: FastCheck.Arbitrary<MediaMessage.WaSource> = FastCheck.constantFrom(...MediaMessage.waSources)

/**
 * Kaleyra's `extra_info` (camelCase), every field optional.
 *
 * @since 0.1.0
 * @category fields
 */
export const extraInfo: FastCheck.Arbitrary<MediaMessage.ExtraInfo> = FastCheck.record(
  { ref, ref1: ref, ref2: ref, waSource },
  { requiredKeys: [] }
)

const base64Char = FastCheck.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")

/**
 * The id of a message to reply to: a Meta `wamid.` id (up to the maximum length, 256) or a UUID.
 *
 * @since 0.1.0
 * @category fields
 */
export const replyTo: FastCheck.Arbitrary<string> = FastCheck.oneof(
  text({ unit: base64Char, minLength: 1, maxLength: MediaMessage.limits.replyToLength - 6 }).map((s) => `wamid.${s}`),
  FastCheck.uuid()
)

// ---------------------------------------------------------------------------------------------------------------
// Valid messages
// ---------------------------------------------------------------------------------------------------------------

/**
 * Exactly one of `id` or `link`.
 *
 * @since 0.1.0
 * @category fields
 */
export const mediaSource: FastCheck.Arbitrary<MediaMessage.MediaSource> = FastCheck.oneof(
  mediaId.map((id): MediaMessage.MediaSource => ({ id })),
  mediaLink.map((link): MediaMessage.MediaSource => ({ link }))
)

const common = FastCheck.record({ to: recipients, replyTo, extraInfo }, { requiredKeys: ["to"] })
const optionalCaption = FastCheck.record({ caption }, { requiredKeys: [] })

/**
 * A valid image message.
 *
 * @since 0.1.0
 * @category messages
 */
export const validImage: FastCheck.Arbitrary<MediaMessage.ImageInput> = FastCheck.tuple(
  common,
  mediaSource,
  optionalCaption
).map(([c, source, extra]) => ({ ...c, type: "image", image: { ...source, ...extra } }))

/**
 * A valid video message.
 *
 * @since 0.1.0
 * @category messages
 */
export const validVideo: FastCheck.Arbitrary<MediaMessage.VideoInput> = FastCheck.tuple(
  common,
  mediaSource,
  optionalCaption
).map(([c, source, extra]) => ({ ...c, type: "video", video: { ...source, ...extra } }))

/**
 * A valid document message.
 *
 * @since 0.1.0
 * @category messages
 */
export const validDocument: FastCheck.Arbitrary<MediaMessage.DocumentInput> = FastCheck.tuple(
  common,
  mediaSource,
  FastCheck.record({ caption, filename }, { requiredKeys: [] })
).map(([c, source, extra]) => ({ ...c, type: "document", document: { ...source, ...extra } }))

/**
 * A valid audio message.
 *
 * @since 0.1.0
 * @category messages
 */
export const validAudio: FastCheck.Arbitrary<MediaMessage.AudioInput> = FastCheck.tuple(common, mediaSource).map((
  [c, source]
) => ({ ...c, type: "audio", audio: source }))

/**
 * A valid sticker message.
 *
 * @since 0.1.0
 * @category messages
 */
export const validSticker: FastCheck.Arbitrary<MediaMessage.StickerInput> = FastCheck.tuple(common, mediaSource).map((
  [c, source]
) => ({ ...c, type: "sticker", sticker: source }))

/**
 * A valid `sendMedia` input of any media type: by id or link, one or several distinct recipients, optional
 * `replyTo` and `extraInfo`.
 *
 * @since 0.1.0
 * @category messages
 */
export const validMessage: FastCheck.Arbitrary<MediaMessage.SendMediaInput> = FastCheck.oneof(
  validImage,
  validVideo,
  validDocument,
  validAudio,
  validSticker
)

// ---------------------------------------------------------------------------------------------------------------
// Template messages
// ---------------------------------------------------------------------------------------------------------------

/** Text made into a valid parameter: no newline or tab, at most four consecutive spaces, not blank. */
const asParameterText = (s: string): string => {
  const cleaned = s.replace(/[\n\r\t]/g, " ").replace(/ {5,}/g, "    ")
  return cleaned.trim().length === 0 ? "x" + cleaned.slice(1) : cleaned
}

/**
 * A template parameter's text of at most `maxLength` characters, within Meta's rule (no newline or tab, no more than
 * four consecutive spaces, not empty).
 *
 * @since 0.2.0
 * @category templates
 */
export const parameterText = (maxLength: number): FastCheck.Arbitrary<string> =>
  text({
    minLength: 1,
    maxLength,
    unit: FastCheck.oneof({ weight: 8, arbitrary: textChar }, {
      weight: 1,
      arbitrary: FastCheck.constant(" ")
    })
  }).map(asParameterText).filter((s) => s.length <= maxLength)

/**
 * A template's name: lowercase letters, digits and underscores.
 *
 * @since 0.2.0
 * @category templates
 */
export const templateName: FastCheck.Arbitrary<string> = FastCheck.oneof(
  FastCheck.constantFrom("order_shipped", "hello_world", "invoice_ready", "summer_sale_2026"),
  FastCheck.stringMatching(/^[a-z0-9_]{1,64}$/)
)

const parameterName = FastCheck.stringMatching(/^[a-z_][a-z0-9_]{0,19}$/)
const optionalInteger = (min: number, max: number) =>
  FastCheck.option(FastCheck.integer({ min, max }), { nil: undefined })
const withoutUndefined = <A extends object>(a: A): A =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as A

/**
 * A template's media header (image, video or document by id or link, a document's filename) or text header.
 *
 * @since 0.2.0
 * @category templates
 */
export const templateHeader: FastCheck.Arbitrary<MediaMessage.TemplateHeader> = FastCheck.oneof(
  mediaSource.map((image) => ({ image })),
  mediaSource.map((video) => ({ video })),
  FastCheck.tuple(mediaSource, FastCheck.option(filename, { nil: undefined })).map(([source, name]) => ({
    document: name === undefined ? source : { ...source, filename: name }
  })),
  parameterText(MediaMessage.templateLimits.headerTextLength).map((t) => ({ text: t }))
)

const bodyParameter = (name: string | undefined) => {
  const named = name === undefined ? {} : { parameterName: name }
  const fallbackValue = parameterText(40)
  return FastCheck.oneof(
    { weight: 4, arbitrary: parameterText(200).map((t) => ({ type: "text" as const, ...named, text: t })) },
    {
      weight: 1,
      arbitrary: FastCheck.record({
        fallbackValue,
        code: FastCheck.constantFrom("USD", "INR", "EUR", "BRL"),
        amount1000: FastCheck.integer({ min: -1e12, max: 1e12 })
      }).map((currency) => ({ type: "currency" as const, ...named, currency }))
    },
    {
      weight: 1,
      arbitrary: FastCheck.record({
        fallbackValue,
        dayOfWeek: optionalInteger(1, 7),
        year: optionalInteger(1970, 2100),
        month: optionalInteger(1, 12),
        dayOfMonth: optionalInteger(1, 31),
        hour: optionalInteger(0, 23),
        minute: optionalInteger(0, 59),
        calendar: FastCheck.option(FastCheck.constant("GREGORIAN" as const), { nil: undefined })
      }).map((dateTime) => ({ type: "date_time" as const, ...named, dateTime: withoutUndefined(dateTime) }))
    }
  )
}

/** A body's parameters: all positional, or all named (with distinct names). */
const bodyParameters = FastCheck.oneof(
  FastCheck.array(bodyParameter(undefined), { minLength: 1, maxLength: 6 }),
  FastCheck.uniqueArray(parameterName, { minLength: 1, maxLength: 6 }).chain((names) =>
    FastCheck.tuple(...names.map(bodyParameter))
  )
)

const button = (index: number) =>
  FastCheck.oneof(
    parameterText(128).map((payload) => ({
      type: "button" as const,
      subType: "quick_reply" as const,
      index,
      parameters: [{ type: "payload" as const, payload }]
    })),
    parameterText(128).map((t) => ({
      type: "button" as const,
      subType: "url" as const,
      index,
      parameters: [{ type: "text" as const, text: t }]
    }))
  )

/**
 * Meta's template object in camelCase, valid: a name, a language, and optionally a header, a body (positional or
 * named parameters of type text, currency and date_time) and buttons (quick replies and URLs).
 *
 * @since 0.2.0
 * @category templates
 */
export const template: FastCheck.Arbitrary<MediaMessage.Template> = FastCheck.record({
  name: templateName,
  language: FastCheck.record({
    code: FastCheck.constantFrom("en", "en_US", "pt_BR", "es", "hi", "fil", "zh_HK"),
    policy: FastCheck.constant("deterministic" as const)
  }, { requiredKeys: ["code"] }),
  header: FastCheck.option(templateHeader, { nil: undefined }),
  body: FastCheck.option(bodyParameters, { nil: undefined }),
  buttons: FastCheck.integer({ min: 0, max: 3 }).chain((n) =>
    FastCheck.tuple(...Array.from({ length: n }, (_, i) => button(i)))
  )
}).map(({ body, buttons, header, language, name }) => {
  const built = MediaMessage.template({ to: "+919876543210", name, language, header }).template
  const components = [
    ...(built.components ?? []),
    ...(body === undefined ? [] : [{ type: "body" as const, parameters: body }]),
    ...buttons
  ]
  return components.length === 0 ? { name, language } : { name, language, components }
})

/**
 * A valid template message: a {@link template}, one or several recipients, optional `replyTo` and `extraInfo`.
 *
 * @since 0.2.0
 * @category templates
 */
export const validTemplate: FastCheck.Arbitrary<MediaMessage.TemplateInput> = FastCheck.tuple(common, template).map((
  [c, t]
) => ({ ...c, type: "template", template: t }))

// ---------------------------------------------------------------------------------------------------------------
// Invalid messages
// ---------------------------------------------------------------------------------------------------------------

/**
 * An input that breaks exactly one rule, and the field `MediaMessage.validate` reports for it (`InvalidMessage.field`:
 * `"type"`, `"to"`, `"to[1]"`, `"image.caption"`, `"document.link"`, `"extraInfo.ref"`, `"replyTo"`, ...).
 *
 * @since 0.1.0
 * @category models
 */
export interface InvalidCase {
  readonly input: unknown
  readonly field: string
}

type Input = Record<string, unknown>
type Media = Record<string, unknown>

const asInput = (m: MediaMessage.SendMediaInput): Input => ({ ...m })
const mediaOf = (m: MediaMessage.SendMediaInput): Media => ({ ...(m as unknown as Record<string, Media>)[m.type] })
const withMedia = (m: MediaMessage.SendMediaInput, media: unknown): Input => ({ ...m, [m.type]: media })
const captioned = FastCheck.oneof(validImage, validVideo, validDocument)
const plain = FastCheck.oneof(validAudio, validSticker)
const withoutSource = (media: Media): Media => {
  const { id: _id, link: _link, ...rest } = media
  return rest
}

const tooLong = (limit: number, unit: FastCheck.Arbitrary<string> = textChar) =>
  FastCheck.string({ unit, minLength: limit + 1, maxLength: limit + 40 })

const loneSurrogate = FastCheck.tuple(
  FastCheck.string({ unit: textChar, maxLength: 5 }),
  FastCheck.constantFrom("\ud800", "\udbff", "\udc00", "\udfff"),
  FastCheck.string({ unit: codePoint(0x20, 0x7e), maxLength: 5 })
).map(([a, s, b]) => a + s + b)

/** Strings that are not a phone number, whatever the separators. */
const badPhone: FastCheck.Arbitrary<string> = FastCheck.oneof(
  phoneNumber.map((p) => p.slice(1)),
  digits(7, 14).map((d) => `+0${d}`),
  FastCheck.tuple(FastCheck.integer({ min: 1, max: 9 }), digits(0, 6)).map(([a, b]) => `+${a}${b}`),
  FastCheck.tuple(FastCheck.integer({ min: 1, max: 9 }), digits(15, 20)).map(([a, b]) => `+${a}${b}`),
  FastCheck.tuple(phoneNumber, FastCheck.constantFrom("a", "x", "#", "+", "/", "_", "*")).map(([p, c]) => p + c),
  FastCheck.tuple(phoneNumber, phoneNumber).map(([a, b]) => `${a},${b}`),
  FastCheck.constantFrom("", "+", "   ", "tel:+919876543210", "+91 98765 4321O")
)

const notAString = FastCheck.oneof(
  FastCheck.integer(),
  FastCheck.constant(null),
  FastCheck.boolean(),
  FastCheck.constant({}),
  FastCheck.constant([])
)

const invalidType: FastCheck.Arbitrary<InvalidCase> = FastCheck.tuple(
  validMessage,
  FastCheck.oneof(
    FastCheck.constantFrom("text", "location", "IMAGE", "Video", "", "images", "media", "interactive", "Template"),
    FastCheck.integer(),
    FastCheck.constant(undefined)
  )
).map(([m, type]) => {
  const input = asInput(m)
  if (type === undefined) delete input.type
  else input.type = type
  return { input, field: "type" }
})

const invalidTo: FastCheck.Arbitrary<InvalidCase> = FastCheck.oneof(
  // a single bad number, or no recipient at all
  FastCheck.tuple(
    validMessage,
    FastCheck.oneof(badPhone, FastCheck.integer(), FastCheck.constant([]), FastCheck.constant(null))
  ).map(([m, to]) => ({ input: { ...m, to }, field: "to" })),
  validMessage.map((m) => {
    const { to: _to, ...input } = m
    return { input, field: "to" }
  }),
  // one bad entry among good ones
  FastCheck.tuple(
    validMessage,
    FastCheck.uniqueArray(phoneNumber, { minLength: 1, maxLength: 4 }),
    FastCheck.oneof(badPhone, notAString),
    FastCheck.nat()
  ).map(([m, good, bad, n]) => {
    const at = n % (good.length + 1)
    const to: Array<unknown> = [...good]
    to.splice(at, 0, bad)
    return { input: { ...m, to }, field: `to[${at}]` }
  }),
  // a duplicate, written differently
  FastCheck.tuple(validMessage, FastCheck.uniqueArray(phoneNumber, { minLength: 1, maxLength: 4 }), FastCheck.nat())
    .chain(([m, good, n]) => {
      const original = n % good.length
      return FastCheck.tuple(
        formatPhoneNumber(good[original]),
        FastCheck.integer({ min: original + 1, max: good.length })
      )
        .map(([duplicate, at]) => {
          const to = [...good]
          to.splice(at, 0, duplicate)
          return { input: { ...m, to }, field: `to[${at}]` }
        })
    })
)

const invalidMedia: FastCheck.Arbitrary<InvalidCase> = FastCheck.oneof(
  // caption too long, or not valid Unicode text
  FastCheck.tuple(
    captioned,
    FastCheck.oneof(tooLong(MediaMessage.limits.captionLength), loneSurrogate, notAString)
  ).map(([m, caption]) => ({ input: withMedia(m, { ...mediaOf(m), caption }), field: `${m.type}.caption` })),
  // a caption where none is allowed
  FastCheck.tuple(plain, caption).map(([m, caption]) => ({
    input: withMedia(m, { ...mediaOf(m), caption }),
    field: `${m.type}.caption`
  })),
  // a filename anywhere but on a document
  FastCheck.tuple(FastCheck.oneof(validImage, validVideo, validAudio, validSticker), filename).map(([m, filename]) => ({
    input: withMedia(m, { ...mediaOf(m), filename }),
    field: `${m.type}.filename`
  })),
  // a bad filename on a document
  FastCheck.tuple(
    validDocument,
    FastCheck.oneof(
      FastCheck.constantFrom("", "a\nb.pdf", "tab\there.pdf", "nul\u0000.pdf", "del\u007f.pdf"),
      tooLong(MediaMessage.limits.filenameLength),
      loneSurrogate,
      notAString
    )
  ).map(([m, filename]) => ({ input: withMedia(m, { ...mediaOf(m), filename }), field: "document.filename" })),
  // both id and link
  FastCheck.tuple(validMessage, mediaId, mediaLink).map(([m, id, link]) => ({
    input: withMedia(m, { ...withoutSource(mediaOf(m)), id, link }),
    field: `${m.type}.link`
  })),
  // neither id nor link
  validMessage.map((m) => ({ input: withMedia(m, withoutSource(mediaOf(m))), field: m.type })),
  // a bad link
  FastCheck.tuple(
    validMessage,
    FastCheck.oneof(
      FastCheck.constantFrom(
        "ftp://example.com/a.png",
        "/relative/a.png",
        "example.com/a.png",
        "https://exa mple.com/a.png",
        "https://example.com/a b.png",
        "javascript:alert(1)",
        "http://",
        "https://",
        "mailto:someone@example.com",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        "ws://example.com/a.png",
        "",
        "https://example.com/\n.png"
      ),
      host.map((h) => `https://${h}/${"a".repeat(MAX_LINK)}`),
      notAString
    )
  ).map(([m, link]) => ({ input: withMedia(m, { ...withoutSource(mediaOf(m)), link }), field: `${m.type}.link` })),
  // a bad id
  FastCheck.tuple(
    validMessage,
    FastCheck.oneof(
      FastCheck.constantFrom("", " ", "12 34", "123\n", "\t123", "12\u00a034"),
      tooLong(MediaMessage.limits.mediaIdLength, tokenChar),
      notAString
    )
  ).map(([m, id]) => ({ input: withMedia(m, { ...withoutSource(mediaOf(m)), id }), field: `${m.type}.id` })),
  // a field media objects do not have
  FastCheck.tuple(
    validMessage,
    FastCheck.constantFrom("mime_type", "sha256", "voice", "url", "Caption", "name", "provider")
  ).map(([m, key]) => ({ input: withMedia(m, { ...mediaOf(m), [key]: "x" }), field: `${m.type}.${key}` })),
  // no media object, or not an object
  FastCheck.tuple(
    validMessage,
    FastCheck.oneof(
      FastCheck.constant(undefined),
      FastCheck.constant(null),
      FastCheck.string(),
      FastCheck.integer(),
      FastCheck.constant([])
    )
  ).map(([m, media]) => {
    const input = asInput(m)
    if (media === undefined) delete input[m.type]
    else input[m.type] = media
    return { input, field: m.type }
  })
)

const refKey = FastCheck.constantFrom("ref", "ref1", "ref2")

const invalidExtra: FastCheck.Arbitrary<InvalidCase> = FastCheck.oneof(
  FastCheck.tuple(
    validMessage,
    extraInfo,
    refKey,
    FastCheck.oneof(tooLong(MediaMessage.limits.refLength), loneSurrogate, notAString)
  ).map(([m, extra, key, value]) => ({
    input: { ...m, extraInfo: { ...extra, [key]: value } },
    field: `extraInfo.${key}`
  })),
  FastCheck.tuple(
    validMessage,
    extraInfo,
    FastCheck.oneof(
      FastCheck.constantFrom("API", "Api", "whatsapp", "", "api ", " api", "other", "webhook"),
      notAString
    )
  ).map(([m, extra, waSource]) => ({
    input: { ...m, extraInfo: { ...extra, waSource } },
    field: "extraInfo.waSource"
  })),
  FastCheck.tuple(validMessage, extraInfo, FastCheck.constantFrom("wa_source", "ref3", "trace_id", "Ref")).map((
    [m, extra, key]
  ) => ({ input: { ...m, extraInfo: { ...extra, [key]: "x" } }, field: `extraInfo.${key}` })),
  FastCheck.tuple(validMessage, FastCheck.oneof(FastCheck.string(), FastCheck.integer(), FastCheck.constant(null)))
    .map(([m, extra]) => ({ input: { ...m, extraInfo: extra }, field: "extraInfo" }))
)

const invalidReplyTo: FastCheck.Arbitrary<InvalidCase> = FastCheck.tuple(
  validMessage,
  FastCheck.oneof(
    FastCheck.constantFrom("", " ", "wamid.a b", "wamid.\n", "\u2028"),
    tooLong(MediaMessage.limits.replyToLength, base64Char),
    notAString
  )
).map(([m, replyTo]) => ({ input: { ...m, replyTo }, field: "replyTo" }))

const invalidKey: FastCheck.Arbitrary<InvalidCase> = FastCheck.tuple(
  validMessage,
  FastCheck.constantFrom(
    "text",
    "caption",
    "from",
    "messaging_product",
    "recipient_type",
    "context",
    "template",
    "extra_info",
    "reply_to",
    ...MediaMessage.mediaTypes
  )
).filter(([m, key]) => key !== m.type).map(([m, key]) => ({ input: { ...m, [key]: "x" }, field: key }))

const notAnObject: FastCheck.Arbitrary<InvalidCase> = FastCheck.oneof(
  FastCheck.constant(null),
  FastCheck.constant(undefined),
  FastCheck.string(),
  FastCheck.integer(),
  FastCheck.boolean(),
  FastCheck.array(FastCheck.string(), { maxLength: 2 })
).map((input) => ({ input, field: "input" }))

/**
 * An input that breaks exactly one rule, with the field core's validation reports: a bad `type`; a missing, empty,
 * malformed or duplicated recipient (`to`, `to[i]`); a caption too long, not valid Unicode or where none is
 * allowed; a filename off a document or malformed; both or neither of `id` and `link`; a bad link or id; an unknown
 * key; a ref too long; an unknown `waSource`; a bad `replyTo`; not an object at all (field `""`).
 *
 * @since 0.1.0
 * @category messages
 */
export const invalidMessage: FastCheck.Arbitrary<InvalidCase> = FastCheck.oneof(
  { weight: 1, arbitrary: invalidType },
  { weight: 3, arbitrary: invalidTo },
  { weight: 6, arbitrary: invalidMedia },
  { weight: 3, arbitrary: invalidExtra },
  { weight: 1, arbitrary: invalidReplyTo },
  { weight: 1, arbitrary: invalidKey },
  { weight: 1, arbitrary: notAnObject }
)
