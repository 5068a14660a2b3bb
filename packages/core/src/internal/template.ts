/**
 * Template messages: Meta's template object (in camelCase for the input, in snake_case on the wire), its rules, and
 * the builder. `MediaMessage` composes these into its message, input and wire schemas; the media source rules
 * (`id`, `link`, `filename`) are the ones of the media messages, handed in by `MediaMessage` so that each rule lives
 * once and this module does not import it back.
 *
 * @internal
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { LONE_SURROGATE } from "./fields.js"

/** A rule on a string: `true` when valid, otherwise the reason. */
type Check = (s: string) => string | true

/**
 * Limits of Meta's template messages (lengths in UTF-16 units for names, in characters for texts).
 */
export const templateLimits = {
  nameLength: 512,
  bodyTextLength: 1024,
  headerTextLength: 60,
  buttonParameterLength: 2000,
  maxButtons: 10
} as const

const NAME = /^[a-z0-9_]+$/
// Meta's language codes: a language (`en`, `fil`), optionally a region (`en_US`, `zh_HK`).
const LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2})?$/
const PARAMETER_NAME = /^[a-z_][a-z0-9_]*$/
const CURRENCY_CODE = /^[A-Z]{3}$/
/* eslint-disable no-control-regex */
const NEWLINE_OR_TAB = /[\n\r\t]/
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
/* eslint-enable no-control-regex */
const FIVE_SPACES = / {5}/

const checkName = (s: string): string | true =>
  s.length === 0
    ? "must not be empty"
    : s.length > templateLimits.nameLength
    ? `must be at most ${templateLimits.nameLength} characters`
    : NAME.test(s)
    ? true
    : "may hold only lowercase letters, digits and underscores (the template's name in WhatsApp Manager)"

const checkLanguage = (s: string): string | true =>
  LANGUAGE.test(s) || "must be a language code such as en or en_US (the template's language in WhatsApp Manager)"

/** Meta's rule for a parameter's text: not empty, no newline or tab, no more than four consecutive spaces. */
const checkParameterText = (max: number) => (s: string): string | true => {
  if (s.trim().length === 0) return "must not be empty"
  if (s.length > max) return `must be at most ${max} characters`
  if (NEWLINE_OR_TAB.test(s)) return "must not contain a newline or a tab (Meta refuses them in parameters)"
  if (FIVE_SPACES.test(s)) return "must not contain more than four consecutive spaces (Meta refuses them)"
  if (CONTROL.test(s)) return "must not contain control characters"
  if (LONE_SURROGATE.test(s)) return "contains an unpaired surrogate (not valid Unicode text)"
  return true
}

const checkOneLine = (max: number) => (s: string): string | true =>
  s.length === 0
    ? "must not be empty"
    : s.length > max
    ? `must be at most ${max} characters`
    : CONTROL.test(s) || LONE_SURROGATE.test(s)
    ? "must be one line of valid text"
    : true

const checkParameterName = (s: string): string | true =>
  PARAMETER_NAME.test(s) || "must be the name of a named parameter: lowercase letters, digits and underscores"

const str = (check: Check) => Schema.String.pipe(Schema.filter(check))
const integer = (min: number, max: number) =>
  Schema.Number.pipe(
    Schema.filter((n) => (Number.isInteger(n) && n >= min && n <= max) || `must be an integer from ${min} to ${max}`)
  )

// ---------------------------------------------------------------------------------------------------------------
// The template object, in camelCase, with its rules (built from the media source rules)
// ---------------------------------------------------------------------------------------------------------------

/** The media source rules of the media messages. */
export interface SourceRules {
  readonly id: Check
  readonly link: Check
  readonly filename: Check
  /** Exactly one of `id` or `link`: `true`, or the reason (and where). */
  readonly exactlyOneSource: (
    media: { readonly id?: string | undefined; readonly link?: string | undefined }
  ) => true | string | { readonly path: ReadonlyArray<PropertyKey>; readonly message: string }
}

const makeTemplateSchema = (rules: SourceRules) => {
  const source = { id: Schema.optional(str(rules.id)), link: Schema.optional(str(rules.link)) }
  const HeaderMedia = Schema.Struct(source).pipe(Schema.filter(rules.exactlyOneSource))
  const HeaderDocument = Schema.Struct({ ...source, filename: Schema.optional(str(rules.filename)) }).pipe(
    Schema.filter(rules.exactlyOneSource)
  )
  const parameterName = Schema.optional(str(checkParameterName))
  const bodyText = str(checkParameterText(templateLimits.bodyTextLength))

  const HeaderParameter = Schema.Union(
    Schema.Struct({ type: Schema.Literal("image"), image: HeaderMedia }),
    Schema.Struct({ type: Schema.Literal("video"), video: HeaderMedia }),
    Schema.Struct({ type: Schema.Literal("document"), document: HeaderDocument }),
    Schema.Struct({
      type: Schema.Literal("text"),
      parameterName,
      text: str(checkParameterText(templateLimits.headerTextLength))
    })
  )

  const Currency = Schema.Struct({
    fallbackValue: str(checkOneLine(templateLimits.bodyTextLength)),
    code: Schema.String.pipe(Schema.filter((s) => CURRENCY_CODE.test(s) || "must be an ISO 4217 code such as USD")),
    amount1000: integer(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
  })
  const DateTime = Schema.Struct({
    fallbackValue: str(checkOneLine(templateLimits.bodyTextLength)),
    dayOfWeek: Schema.optional(integer(1, 7)),
    year: Schema.optional(integer(1, 9999)),
    month: Schema.optional(integer(1, 12)),
    dayOfMonth: Schema.optional(integer(1, 31)),
    hour: Schema.optional(integer(0, 23)),
    minute: Schema.optional(integer(0, 59)),
    calendar: Schema.optional(Schema.Literal("GREGORIAN", "SOLAR_HIJRI"))
  })
  const BodyParameter = Schema.Union(
    Schema.Struct({ type: Schema.Literal("text"), parameterName, text: bodyText }),
    Schema.Struct({ type: Schema.Literal("currency"), parameterName, currency: Currency }),
    Schema.Struct({ type: Schema.Literal("date_time"), parameterName, dateTime: DateTime })
  )
  const buttonText = str(checkParameterText(templateLimits.buttonParameterLength))
  const ButtonParameter = Schema.Union(
    Schema.Struct({ type: Schema.Literal("payload"), payload: buttonText }),
    Schema.Struct({ type: Schema.Literal("text"), text: buttonText })
  )

  const nonEmpty = <S extends Schema.Schema.AnyNoContext>(item: S, what: string) =>
    Schema.Array(item).pipe(Schema.filter((a) => a.length > 0 || `must hold at least one ${what}`))

  const Header = Schema.Struct({
    type: Schema.Literal("header"),
    parameters: Schema.Array(HeaderParameter).pipe(
      Schema.filter((a) => a.length === 1 || "a header takes exactly one parameter (its media or its text)")
    )
  })
  const Body = Schema.Struct({
    type: Schema.Literal("body"),
    parameters: nonEmpty(BodyParameter, "parameter").pipe(Schema.filter(namedOrPositional))
  })
  const Button = Schema.Struct({
    type: Schema.Literal("button"),
    subType: Schema.Literal("quick_reply", "url"),
    index: integer(0, templateLimits.maxButtons - 1),
    parameters: nonEmpty(ButtonParameter, "parameter")
  })
  const Component = Schema.Union(Header, Body, Button)

  return Schema.Struct({
    name: str(checkName),
    language: Schema.Struct({
      code: str(checkLanguage),
      policy: Schema.optional(Schema.Literal("deterministic"))
    }),
    components: Schema.optional(Schema.Array(Component).pipe(Schema.filter(componentsRule)))
  })
}

/** Every body parameter named, each name once, or none named (Meta refuses a mix). */
const namedOrPositional = (parameters: ReadonlyArray<{ readonly parameterName?: string | undefined }>) => {
  const named = parameters[0]?.parameterName !== undefined
  const names = new Set<string>()
  for (let i = 0; i < parameters.length; i++) {
    const name = parameters[i].parameterName
    if ((name !== undefined) !== named) {
      return { path: [i], message: "give every parameter a parameterName, or none (a template is named or positional)" }
    }
    if (name !== undefined) {
      if (names.has(name)) return { path: [i, "parameterName"], message: `the parameter ${name} is given twice` }
      names.add(name)
    }
  }
  return true
}

/** At most one header and one body; each button index once. */
const componentsRule = (
  components: ReadonlyArray<{ readonly type: string; readonly index?: number }>
): true | { path: ReadonlyArray<PropertyKey>; message: string } => {
  const buttons = new Set<number>()
  let header = false
  let body = false
  for (let i = 0; i < components.length; i++) {
    const c = components[i]
    if (c.type === "header") {
      if (header) return { path: [i], message: "a template takes at most one header" }
      header = true
    } else if (c.type === "body") {
      if (body) return { path: [i], message: "a template takes at most one body" }
      body = true
    } else if (c.index !== undefined) {
      if (buttons.has(c.index)) return { path: [i, "index"], message: `button index ${c.index} is used twice` }
      buttons.add(c.index)
    }
  }
  return true
}

// ---------------------------------------------------------------------------------------------------------------
// The wire side: the same structure, snake_case keys and the button index as a string (as Meta's examples write
// it). Structural: the rules live on the message side.
// ---------------------------------------------------------------------------------------------------------------

const s = Schema.String
const os = Schema.optional(Schema.String)
const on = Schema.optional(Schema.Number)
const wireName = Schema.optional(Schema.String).pipe(Schema.fromKey("parameter_name"))
const wireSource = { id: os, link: os }

const WireHeaderParameter = Schema.Union(
  Schema.Struct({ type: Schema.Literal("image"), image: Schema.Struct(wireSource) }),
  Schema.Struct({ type: Schema.Literal("video"), video: Schema.Struct(wireSource) }),
  Schema.Struct({ type: Schema.Literal("document"), document: Schema.Struct({ ...wireSource, filename: os }) }),
  Schema.Struct({ type: Schema.Literal("text"), parameterName: wireName, text: s })
)
const WireBodyParameter = Schema.Union(
  Schema.Struct({ type: Schema.Literal("text"), parameterName: wireName, text: s }),
  Schema.Struct({
    type: Schema.Literal("currency"),
    parameterName: wireName,
    currency: Schema.Struct({
      fallbackValue: Schema.propertySignature(s).pipe(Schema.fromKey("fallback_value")),
      code: s,
      amount1000: Schema.propertySignature(Schema.Number).pipe(Schema.fromKey("amount_1000"))
    })
  }),
  Schema.Struct({
    type: Schema.Literal("date_time"),
    parameterName: wireName,
    dateTime: Schema.propertySignature(Schema.Struct({
      fallbackValue: Schema.propertySignature(s).pipe(Schema.fromKey("fallback_value")),
      dayOfWeek: on.pipe(Schema.fromKey("day_of_week")),
      year: on,
      month: on,
      dayOfMonth: on.pipe(Schema.fromKey("day_of_month")),
      hour: on,
      minute: on,
      calendar: os
    })).pipe(Schema.fromKey("date_time"))
  })
)
const WireButtonParameter = Schema.Union(
  Schema.Struct({ type: Schema.Literal("payload"), payload: s }),
  Schema.Struct({ type: Schema.Literal("text"), text: s })
)

/** The wire's button index: a string of digits ("0"), as in Meta's examples. */
const WireIndex = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (text, _, ast) =>
    /^[0-9]{1,2}$/.test(text)
      ? ParseResult.succeed(Number(text))
      : ParseResult.fail(new ParseResult.Type(ast, text, "must be a button index")),
  encode: (n) => ParseResult.succeed(String(n))
})

/**
 * The template object as Kaleyra receives it (`messaging_object.template`): Meta's keys (`parameter_name`,
 * `sub_type`, `fallback_value`, `amount_1000`, `date_time`, ...) on the encoded side, this library's camelCase on the
 * decoded side.
 */
export const WireTemplate = Schema.Struct({
  name: s,
  language: Schema.Struct({ code: s, policy: os }),
  components: Schema.optional(Schema.Array(Schema.Union(
    Schema.Struct({ type: Schema.Literal("header"), parameters: Schema.Array(WireHeaderParameter) }),
    Schema.Struct({ type: Schema.Literal("body"), parameters: Schema.Array(WireBodyParameter) }),
    Schema.Struct({
      type: Schema.Literal("button"),
      subType: Schema.propertySignature(s).pipe(Schema.fromKey("sub_type")),
      index: WireIndex,
      parameters: Schema.Array(WireButtonParameter)
    })
  )))
})

/** Encodes a template object (validated) into its wire form, without checking its rules again. */
export const templateToWire: (template: typeof WireTemplate.Type) => typeof WireTemplate.Encoded = Schema.encodeSync(
  WireTemplate
)

/** Builds the template schema from the media source rules. */
export const make = makeTemplateSchema

/** The template object, as validated. */
export type Template = Schema.Schema.Type<ReturnType<typeof makeTemplateSchema>>

/** The keys a template object takes (for error messages). */
export const templateKeys = "name, language, components"

// ---------------------------------------------------------------------------------------------------------------
// The builder
// ---------------------------------------------------------------------------------------------------------------

/** A media header: exactly one of `id` or `link`; `filename` on a document only. */
export type TemplateHeader =
  | { readonly image: TemplateMediaSource }
  | { readonly video: TemplateMediaSource }
  | { readonly document: TemplateMediaSource & { readonly filename?: string | undefined } }
  | { readonly text: string }

/** Where a header's media comes from. */
export type TemplateMediaSource =
  | { readonly id: string; readonly link?: never }
  | { readonly link: string; readonly id?: never }

/** A button's parameter: a quick reply's payload, or the variable part of a URL button. */
export type TemplateButton =
  | { readonly subType: "quick_reply"; readonly payload: string }
  | { readonly subType: "url"; readonly text: string }

/** The options of the builder, beside the message fields. */
export interface TemplateOptions {
  readonly name: string
  /** A language code (`en_US`), or Meta's language object. */
  readonly language: string | { readonly code: string; readonly policy?: "deterministic" }
  readonly header?: TemplateHeader | undefined
  /** The body's texts in order (positional), or by name (named parameters). */
  readonly body?: ReadonlyArray<string> | Readonly<Record<string, string>> | undefined
  /** The buttons' parameters, in the order of the template's buttons (the index is the position). */
  readonly buttons?: ReadonlyArray<TemplateButton> | undefined
}

const headerParameter = (header: TemplateHeader): unknown => {
  if ("image" in header) return { type: "image", image: header.image }
  if ("video" in header) return { type: "video", video: header.video }
  if ("document" in header) return { type: "document", document: header.document }
  return { type: "text", text: (header as { readonly text: unknown }).text }
}

/** The template object of the builder's options (the input form, camelCase). */
export const buildTemplate = (options: TemplateOptions): unknown => {
  const components: Array<unknown> = []
  if (options.header !== undefined) components.push({ type: "header", parameters: [headerParameter(options.header)] })
  const body = options.body
  if (body !== undefined) {
    const parameters = Array.isArray(body)
      ? body.map((text) => ({ type: "text", text }))
      : Object.entries(body).map(([parameterName, text]) => ({ type: "text", parameterName, text }))
    components.push({ type: "body", parameters })
  }
  const buttons = options.buttons ?? []
  for (let index = 0; index < buttons.length; index++) {
    const button = buttons[index]
    components.push({
      type: "button",
      subType: button.subType,
      index,
      parameters: [
        button.subType === "url" ? { type: "text", text: button.text } : { type: "payload", payload: button.payload }
      ]
    })
  }
  const language = typeof options.language === "string" ? { code: options.language } : options.language
  return { name: options.name, language, ...(components.length > 0 ? { components } : {}) }
}
