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
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as internal from "./internal/simulator/conversations.js"
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
export const metaErrors: Readonly<Record<number, MediaFailure>> = internal.metaErrors
