/**
 * The recipients' side of the simulator: their 24-hour windows, the registered templates, scripted delivery
 * failures, and what Meta does with each recipient of an accepted message (see `SimulatorTemplates`).
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as KaleyraSimulator from "../../KaleyraSimulator.js"
import type * as SimulatorTemplates from "../../SimulatorTemplates.js"
import { normalizeNumber } from "./oracle.js"

type Json = Record<string, unknown>
type RegisteredTemplate = SimulatorTemplates.RegisteredTemplate
type DeliveryFailureCode = SimulatorTemplates.DeliveryFailureCode

/** Meta's error of each code the simulator reports (title and message as in Meta's callbacks). */
export const metaErrors: Readonly<Record<number, KaleyraSimulator.MediaFailure>> = {
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

/**
 * A failure of one recipient's message: Meta's error, and whether Meta reports it instead of `sent` (a message
 * never sent) or after it (a media it could not fetch).
 */
export interface RecipientFailure {
  readonly failure: KaleyraSimulator.MediaFailure
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

/** The state behind `Conversations`, and the decision of what happens to each recipient of an accepted body. */
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
      const n = normalizeNumber(recipient)
      if (n !== undefined) inbound.set(n, now)
    },
    lastInbound: (recipient: string): number | undefined => {
      const n = normalizeNumber(recipient)
      return n === undefined ? undefined : inbound.get(n)
    },
    register: (template: RegisteredTemplate): void => {
      registry = (registry ?? []).filter((t) => t.name !== template.name || t.language !== template.language)
      registry.push(template)
    },
    failDelivery: (recipient: string, code: DeliveryFailureCode | undefined): void => {
      const n = normalizeNumber(recipient)
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

/** The state of a simulator's conversations. */
export type ConversationState = ReturnType<typeof makeState>

/** The public `Conversations` of a state made by `makeState` (times from the `Clock`). */
export const conversationsOf = (state: ConversationState): SimulatorTemplates.Conversations => ({
  receiveFrom: (recipient) => Effect.map(Clock.currentTimeMillis, (now) => state.receiveFrom(recipient, now)),
  lastInbound: (recipient) => Effect.sync(() => Option.fromNullable(state.lastInbound(recipient))),
  registerTemplate: (template) => Effect.sync(() => state.register(template)),
  failDelivery: (recipient, code) => Effect.sync(() => state.failDelivery(recipient, code)),
  clearDeliveryFailure: (recipient) => Effect.sync(() => state.failDelivery(recipient, undefined))
})
