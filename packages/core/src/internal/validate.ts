/**
 * The validation fast path: a plainly valid input is accepted without running the schema. It never refuses: anything
 * unusual goes to the schema and its messages. A property test in core holds it equal to the schema decode.
 *
 * @internal
 */
import type { ExtraInfo, MediaMessage, MediaType, WaSource } from "../MediaMessage.js"
import { extraInfoKeys, mediaKeys, normaliseRecipients, rules, waSources } from "./fields.js"

const isWaSource = (u: unknown): u is WaSource =>
  typeof u === "string" && (waSources as ReadonlyArray<string>).includes(u)

/**
 * The own keys of a plain object (an object literal or `Object.create(null)`), every one of them (as the schema's
 * check for unknown keys reads them with `Reflect.ownKeys`), or `undefined` for anything else or a symbol key.
 * `getOwnPropertyNames` and an empty `getOwnPropertySymbols` say the same as `Reflect.ownKeys` for an object,
 * and cost much less on Node 20.
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
