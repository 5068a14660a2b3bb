/**
 * Why WhatsApp did not deliver a message, typed from Meta's error codes: what arrives asynchronously in a `failed`
 * status callback (`MessageStatusUpdated.failureReason`), and the same codes when Kaleyra returns them synchronously
 * in an error body (`fromError`).
 *
 * @since 0.2.0
 */
import type { CallbackError } from "./KaleyraCallback.js"

/**
 * The failure reasons this library names, each with Meta's code.
 *
 * - `OutsideWindow` (131047): more than 24 hours since the recipient last wrote to the business: only a template is
 *   delivered now. Send the same media as a template's header.
 * - `TemplateParameterCountMismatch` (132000): the number of parameters differs from the template's.
 * - `TemplateNotFound` (132001): no approved template of that name in that language.
 * - `TemplateParameterFormatMismatch` (132012): a parameter of the wrong format (e.g. a video for an image header).
 * - `TemplatePaused` (132015): the template is paused for low quality.
 * - `TemplateDisabled` (132016): the template is disabled for good.
 * - `Undeliverable` (131026): the number is not on WhatsApp, or the recipient cannot receive it.
 * - `EngagementLimited` (131049): Meta chose not to deliver it, to keep engagement healthy (marketing).
 * - `MarketingOptOut` (131050): the recipient stopped marketing messages from the business.
 * - `PairRateLimited` (131056): too many messages to this recipient in a short time.
 *
 * @since 0.2.0
 * @category models
 */
export type FailureReasonTag =
  | "OutsideWindow"
  | "TemplateParameterCountMismatch"
  | "TemplateNotFound"
  | "TemplateParameterFormatMismatch"
  | "TemplatePaused"
  | "TemplateDisabled"
  | "Undeliverable"
  | "EngagementLimited"
  | "MarketingOptOut"
  | "PairRateLimited"

/**
 * A typed failure reason: its tag, Meta's code (kept as Meta sent it, a number), Meta's title and what to do.
 *
 * @since 0.2.0
 * @category models
 */
export interface FailureReason {
  readonly _tag: FailureReasonTag
  readonly code: number
  readonly title: string
  /** What to do about it, for a person. */
  readonly action: string
}

const reason = (_tag: FailureReasonTag, code: number, title: string, action: string): FailureReason =>
  Object.freeze({ _tag, code, title, action })

/**
 * Every reason, by Meta's code.
 *
 * @since 0.2.0
 * @category constants
 */
export const byCode: ReadonlyMap<number, FailureReason> = new Map([
  reason(
    "OutsideWindow",
    131047,
    "Re-engagement message",
    "more than 24 hours since the recipient last wrote: send it as a template (the media as its header)"
  ),
  reason(
    "TemplateParameterCountMismatch",
    132000,
    "Template Param Count Mismatch",
    "send as many parameters as the template has"
  ),
  reason(
    "TemplateNotFound",
    132001,
    "Template does not exist",
    "check the template's name and language in WhatsApp Manager (and that it is approved)"
  ),
  reason(
    "TemplateParameterFormatMismatch",
    132012,
    "Parameter format does not match format in the created template",
    "send each parameter in the template's format (e.g. the header's media type)"
  ),
  reason("TemplatePaused", 132015, "Template is Paused", "the template is paused for low quality: edit it or wait"),
  reason("TemplateDisabled", 132016, "Template is Disabled", "the template is disabled for good: use another one"),
  reason(
    "Undeliverable",
    131026,
    "Message Undeliverable",
    "the number may not be on WhatsApp, or the recipient cannot receive it: reach them another way"
  ),
  reason(
    "EngagementLimited",
    131049,
    "This message was not delivered to maintain healthy ecosystem engagement",
    "Meta limits marketing messages to this recipient: do not retry at once"
  ),
  reason(
    "MarketingOptOut",
    131050,
    "User has stopped marketing messages",
    "the recipient opted out of marketing messages: do not send them any"
  ),
  reason(
    "PairRateLimited",
    131056,
    "(Business Account, Consumer Account) pair rate limit hit",
    "too many messages to this recipient in a short time: wait before the next one"
  )
].map((r) => [r.code, r] as const))

/**
 * The codes of {@link byCode}.
 *
 * @since 0.2.0
 * @category constants
 */
export const codes: ReadonlyArray<number> = Array.from(byCode.keys())

/** A code as Meta or Kaleyra writes it: a number, or a string of digits (`"131047"`). */
const codeOf = (code: unknown): number | undefined =>
  typeof code === "number"
    ? code
    : typeof code === "string" && /^[0-9]{1,9}$/.test(code.trim())
    ? Number(code.trim())
    : undefined

/**
 * The reason of one of Meta's codes (a number or a string of digits), `undefined` for another code.
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromCode = (code: unknown): FailureReason | undefined => {
  const n = codeOf(code)
  return n === undefined ? undefined : byCode.get(n)
}

/**
 * The first known reason among a status callback's errors.
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromCallbackErrors = (
  errors: ReadonlyArray<Pick<CallbackError, "code">>
): FailureReason | undefined => {
  for (const error of errors) {
    const found = fromCode(error.code)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * The reason of an error Kaleyra answered synchronously: Meta's code as Kaleyra's `code`, or as the `code` (or
 * `error_code`) of its `error` object; `undefined` for any other error.
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromError = (error: unknown): FailureReason | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const e = error as { readonly code?: unknown; readonly error?: unknown }
  const direct = fromCode(e.code)
  if (direct !== undefined) return direct
  if (typeof e.error !== "object" || e.error === null) return undefined
  const inner = e.error as { readonly code?: unknown; readonly error_code?: unknown }
  return fromCode(inner.code) ?? fromCode(inner.error_code)
}
