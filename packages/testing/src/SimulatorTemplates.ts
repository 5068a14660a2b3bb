/**
 * The simulator's templates and 24-hour customer-service window: which templates are registered (name, language,
 * header type, parameter counts, status), when each recipient last wrote to the business, and what Meta reports
 * for a message it will not deliver. Used by `KaleyraSimulator` (its `templates` and `window` options and its
 * `conversations`).
 *
 * Choices where Meta's behaviour is asynchronous through Kaleyra: a template that does not match the registry, and a
 * free-form message outside the window, are accepted (202) like any valid body, then fail by status callback with
 * Meta's code, without a `sent` status first.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { MediaFailure } from "./KaleyraSimulator.js"

/**
 * A template as registered (and approved) in WhatsApp Manager.
 *
 * @since 0.2.0
 * @category models
 */
export interface RegisteredTemplate {
  readonly name: string
  /** The language code, e.g. `en_US`. */
  readonly language: string
  /** The header's format: a media header takes one parameter of that type; `text` one text parameter. */
  readonly header?: "image" | "video" | "document" | "text" | undefined
  /** How many parameters the body takes (default 0). */
  readonly bodyParameters?: number | undefined
  /** `APPROVED` by default; `PAUSED` fails with 132015, `DISABLED` with 132016. */
  readonly status?: "APPROVED" | "PAUSED" | "DISABLED" | undefined
}

/**
 * Meta's codes that `Conversations.failDelivery` scripts for a recipient.
 *
 * @since 0.2.0
 * @category models
 */
export type DeliveryFailureCode = 131026 | 131047 | 131049 | 131050 | 131056

/**
 * The recipients' side of the simulator: their 24-hour windows, the registered templates, scripted delivery
 * failures.
 *
 * @since 0.2.0
 * @category models
 */
export interface Conversations {
  /** Records that `recipient` wrote to the business now (the `Clock`'s time): their 24-hour window opens. */
  readonly receiveFrom: (recipient: string) => Effect.Effect<void>
  /** When `recipient` last wrote to the business (milliseconds of the `Clock`). */
  readonly lastInbound: (recipient: string) => Effect.Effect<Option.Option<number>>
  /** Registers (or replaces, by name and language) a template. */
  readonly registerTemplate: (template: RegisteredTemplate) => Effect.Effect<void>
  /** Every message to `recipient` fails by callback with Meta's `code`, until cleared. */
  readonly failDelivery: (recipient: string, code: DeliveryFailureCode) => Effect.Effect<void>
  readonly clearDeliveryFailure: (recipient: string) => Effect.Effect<void>
}

/**
 * Meta's error of each code this module reports (title and message as in Meta's callbacks).
 *
 * @since 0.2.0
 * @category constants
 */
export const metaErrors: Readonly<Record<number, MediaFailure>> = {
  131026: { code: 131026, title: "Message undeliverable", message: "Message undeliverable" },
  131047: {
    code: 131047,
    title: "Re-engagement message",
    message: "Re-engagement message",
    details:
      "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
  },
  131049: {
    code: 131049,
    title: "This message was not delivered to maintain healthy ecosystem engagement.",
    message: "This message was not delivered to maintain healthy ecosystem engagement."
  },
  131050: {
    code: 131050,
    title: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages.",
    message: "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages."
  },
  131056: {
    code: 131056,
    title: "(Business Account, Consumer Account) pair rate limit hit",
    message: "(Business Account, Consumer Account) pair rate limit hit"
  },
  132000: {
    code: 132000,
    title: "Number of parameters does not match the expected number of params",
    message: "Number of parameters does not match the expected number of params"
  },
  132001: {
    code: 132001,
    title: "Template name does not exist in the translation",
    message: "Template name does not exist in the translation"
  },
  132012: {
    code: 132012,
    title: "Parameter format does not match format in the created template",
    message: "Parameter format does not match format in the created template"
  },
  132015: { code: 132015, title: "Template is Paused", message: "Template is Paused" },
  132016: { code: 132016, title: "Template is Disabled", message: "Template is Disabled" }
}

const WINDOW_MILLIS = 24 * 60 * 60 * 1000

// ---------------------------------------------------------------------------------------------------------------
// The template body, as Kaleyra receives it (checked structurally, like the media bodies)
// ---------------------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>
const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const onlyKeys = (o: Json, keys: ReadonlyArray<string>): boolean => Object.keys(o).every((k) => keys.includes(k))
const isNonEmptyString = (u: unknown): u is string => typeof u === "string" && u.trim().length > 0
/* eslint-disable-next-line no-control-regex */
const BAD_PARAMETER_TEXT = /[\u0000-\u001f]| {5}/
const isParameterText = (u: unknown): boolean => isNonEmptyString(u) && !BAD_PARAMETER_TEXT.test(u)
const isInteger = (u: unknown): boolean => typeof u === "number" && Number.isInteger(u)

/**
 * Checks a media object of a header (`id` or `link`, a document's `filename`): the simulator's media rule.
 *
 * @since 0.2.0
 * @category models
 */
export type ValidMedia = (type: "image" | "video" | "document", media: unknown) => boolean

const validParameter = (p: unknown, allowed: ReadonlyArray<string>, validMedia: ValidMedia): boolean => {
  if (!isObject(p) || typeof p.type !== "string" || !allowed.includes(p.type)) return false
  if (p.parameter_name !== undefined && !/^[a-z_][a-z0-9_]*$/.test(String(p.parameter_name))) return false
  switch (p.type) {
    case "image":
    case "video":
    case "document":
      return onlyKeys(p, ["type", p.type]) && validMedia(p.type, p[p.type])
    case "text":
      return onlyKeys(p, ["type", "text", "parameter_name"]) && isParameterText(p.text)
    case "payload":
      return onlyKeys(p, ["type", "payload"]) && isParameterText(p.payload)
    case "currency": {
      const c = p.currency
      return onlyKeys(p, ["type", "currency", "parameter_name"]) && isObject(c) &&
        onlyKeys(c, ["fallback_value", "code", "amount_1000"]) && isNonEmptyString(c.fallback_value) &&
        typeof c.code === "string" && /^[A-Z]{3}$/.test(c.code) && isInteger(c.amount_1000)
    }
    case "date_time": {
      const d = p.date_time
      const fields = ["fallback_value", "day_of_week", "year", "month", "day_of_month", "hour", "minute", "calendar"]
      return onlyKeys(p, ["type", "date_time", "parameter_name"]) && isObject(d) && onlyKeys(d, fields) &&
        isNonEmptyString(d.fallback_value) &&
        fields.slice(1, 7).every((k) => d[k] === undefined || isInteger(d[k])) &&
        (d.calendar === undefined || d.calendar === "GREGORIAN" || d.calendar === "SOLAR_HIJRI")
    }
  }
  return false
}

const validComponent = (c: unknown, validMedia: ValidMedia): boolean => {
  if (!isObject(c) || !Array.isArray(c.parameters) || c.parameters.length === 0) return false
  const parameters: ReadonlyArray<unknown> = c.parameters
  switch (c.type) {
    case "header":
      return onlyKeys(c, ["type", "parameters"]) && parameters.length === 1 &&
        validParameter(parameters[0], ["image", "video", "document", "text"], validMedia)
    case "body":
      return onlyKeys(c, ["type", "parameters"]) &&
        parameters.every((p) => validParameter(p, ["text", "currency", "date_time"], validMedia))
    case "button":
      return onlyKeys(c, ["type", "sub_type", "index", "parameters"]) &&
        (c.sub_type === "quick_reply" || c.sub_type === "url") &&
        (typeof c.index === "string" ? /^[0-9]$/.test(c.index) : isInteger(c.index)) &&
        parameters.every((p) => validParameter(p, ["payload", "text"], validMedia))
  }
  return false
}

/**
 * Whether `messaging_object.template` is a template object Meta would take: a name of lowercase letters, digits and
 * underscores, a language code, at most one header and one body, known parameter types with their fields,
 * parameter texts without newlines, tabs or more than four consecutive spaces. Unknown keys are refused, as for
 * the media bodies.
 *
 * @since 0.2.0
 * @category validation
 */
export const validTemplate = (template: unknown, validMedia: ValidMedia): boolean => {
  if (!isObject(template) || !onlyKeys(template, ["name", "language", "components", "namespace"])) return false
  if (typeof template.name !== "string" || !/^[a-z0-9_]{1,512}$/.test(template.name)) return false
  const language = template.language
  if (!isObject(language) || !onlyKeys(language, ["code", "policy"])) return false
  if (typeof language.code !== "string" || !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(language.code)) return false
  if (language.policy !== undefined && language.policy !== "deterministic") return false
  if (template.components === undefined) return true
  if (!Array.isArray(template.components)) return false
  const components: ReadonlyArray<unknown> = template.components
  const count = (type: string) => components.filter((c) => isObject(c) && c.type === type).length
  return count("header") <= 1 && count("body") <= 1 && components.every((c) => validComponent(c, validMedia))
}

// ---------------------------------------------------------------------------------------------------------------
// What Meta does with an accepted message
// ---------------------------------------------------------------------------------------------------------------

/**
 * A failure of one recipient's message: Meta's error, and whether Meta reports it instead of `sent` (a message
 * never sent) or after it (a media it could not fetch).
 *
 * @since 0.2.0
 * @category models
 */
export interface RecipientFailure {
  readonly failure: MediaFailure
  readonly beforeSent: boolean
}

/** Meta's code for a template that does not match the registry, `undefined` when it matches. */
const templateMismatch = (registry: ReadonlyArray<RegisteredTemplate>, template: Json): number | undefined => {
  const language = (template.language as Json).code
  const sameName = registry.filter((t) => t.name === template.name)
  const registered = sameName.find((t) => t.language === language)
  if (registered === undefined) return 132001
  if (registered.status === "PAUSED") return 132015
  if (registered.status === "DISABLED") return 132016
  const components = (template.components ?? []) as ReadonlyArray<Json>
  const header = components.find((c) => c.type === "header")
  const sentHeader = header === undefined ? undefined : ((header.parameters as ReadonlyArray<Json>)[0].type as string)
  // A header the template does not have is a parameter too many; a missing or different one, a format mismatch
  // (Meta: "header: Format mismatch, expected IMAGE, received UNKNOWN").
  if (sentHeader !== registered.header) return registered.header === undefined ? 132000 : 132012
  const body = components.find((c) => c.type === "body")
  const bodyCount = body === undefined ? 0 : (body.parameters as ReadonlyArray<unknown>).length
  return bodyCount === (registered.bodyParameters ?? 0) ? undefined : 132000
}

/** The digits of a number, with `+` (the simulator's form of a recipient), or `undefined` when it is not one. */
const normalize = (recipient: string): string | undefined => {
  const compact = recipient.replace(/[\s.()-]/g, "")
  const digits = compact.startsWith("+") ? compact.slice(1) : compact
  return /^[1-9][0-9]{6,14}$/.test(digits) ? "+" + digits : undefined
}

/**
 * The state behind {@link Conversations}, and the decision of what happens to each recipient of an accepted body.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeState = (options: {
  readonly templates?: ReadonlyArray<RegisteredTemplate> | undefined
  readonly window?: boolean | undefined
}) => {
  const initial = options.templates
  let registry: Array<RegisteredTemplate> | undefined = initial === undefined ? undefined : [...initial]
  const inbound = new Map<string, number>()
  const scripted = new Map<string, DeliveryFailureCode>()

  return {
    /** Whether the window is enforced (the simulator then reads the `Clock` for every send). */
    window: options.window === true,
    receiveFrom: (recipient: string, now: number): void => {
      const n = normalize(recipient)
      if (n !== undefined) inbound.set(n, now)
    },
    lastInbound: (recipient: string): number | undefined => {
      const n = normalize(recipient)
      return n === undefined ? undefined : inbound.get(n)
    },
    register: (template: RegisteredTemplate): void => {
      registry = (registry ?? []).filter((t) => t.name !== template.name || t.language !== template.language)
      registry.push(template)
    },
    failDelivery: (recipient: string, code: DeliveryFailureCode | undefined): void => {
      const n = normalize(recipient)
      if (n === undefined) return
      if (code === undefined) scripted.delete(n)
      else scripted.set(n, code)
    },
    reset: (): void => {
      registry = initial === undefined ? undefined : [...initial]
      inbound.clear()
      scripted.clear()
    },
    /**
     * What Meta does with an accepted, valid body for `recipient` at `now`: a failure, or `undefined` (delivered,
     * unless the media cannot be fetched, which the simulator decides apart).
     */
    failureFor: (messagingObject: Json, recipient: string, now: number): RecipientFailure | undefined => {
      const code = scripted.get(recipient) ?? (
        messagingObject.type === "template"
          ? registry === undefined ? undefined : templateMismatch(registry, messagingObject.template as Json)
          : options.window === true && !(now - (inbound.get(recipient) ?? -Infinity) < WINDOW_MILLIS)
          ? 131047
          : undefined
      )
      return code === undefined ? undefined : { failure: metaErrors[code], beforeSent: true }
    }
  }
}

/**
 * The {@link Conversations} of a state made by {@link makeState} (times from the `Clock`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const conversationsOf = (state: ReturnType<typeof makeState>): Conversations => ({
  receiveFrom: (recipient) => Effect.map(Clock.currentTimeMillis, (now) => state.receiveFrom(recipient, now)),
  lastInbound: (recipient) => Effect.sync(() => Option.fromNullable(state.lastInbound(recipient))),
  registerTemplate: (template) => Effect.sync(() => state.register(template)),
  failDelivery: (recipient, code) => Effect.sync(() => state.failDelivery(recipient, code)),
  clearDeliveryFailure: (recipient) => Effect.sync(() => state.failDelivery(recipient, undefined))
})
