/**
 * Describing values and thrown values for error messages, safely and briefly: whatever a caller passes or throws
 * (a 100 MB string, a revoked Proxy, an Error whose `message` is a Symbol or a throwing getter), the description is
 * a short string and building it never throws. Used only on error paths.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

/** The most UTF-16 units of a value quoted in an error (a longer one is cut and ends with "…"). */
export const EXCERPT_LENGTH = 40

/** The most UTF-16 units of a thrown error's message repeated in an error. */
export const THROWN_LENGTH = 200

/**
 * `s` cut to at most `max` UTF-16 units, "…" included, never between the two halves of a surrogate pair (which
 * would make an unpaired surrogate of a well-formed string).
 */
export const excerpt = (s: string, max: number = EXCERPT_LENGTH): string => {
  if (s.length <= max) return s
  let end = max - 1
  const last = s.charCodeAt(end - 1)
  if (last >= 0xd800 && last <= 0xdbff) end--
  return s.slice(0, end) + "…"
}

/** A value as an error quotes it: a string by an excerpt, an object or array by its kind only. */
export const describeValue = (u: unknown): string => {
  try {
    switch (typeof u) {
      case "string":
        return JSON.stringify(excerpt(u))
      case "bigint":
        return excerpt(`${u}n`)
      case "symbol":
        return excerpt(u.toString())
      case "function":
        return "a function"
      case "object":
        // Array.isArray throws for a revoked Proxy
        return u === null ? "null" : Array.isArray(u) ? "an array" : "an object"
      default:
        return String(u)
    }
  } catch {
    return "an unreadable value"
  }
}

/**
 * What was thrown, for an error's reason: an error's own `message` (an excerpt) when it has a string one, otherwise
 * the kind of value thrown. Reads nothing but `message`, each read guarded.
 */
export const describeThrown = (thrown: unknown): string => {
  if (typeof thrown === "object" && thrown !== null) {
    let message: unknown
    try {
      message = (thrown as { readonly message?: unknown }).message
    } catch {
      return "a value whose message cannot be read was thrown"
    }
    if (typeof message === "string" && message.length > 0) return excerpt(message, THROWN_LENGTH)
    if (message !== undefined) return "an error without a readable message was thrown"
  }
  return `${describeValue(thrown)} was thrown`
}

/** A key of an input (an unknown field may be named by a huge string or a symbol), as an error names it. */
export const keyName = (key: PropertyKey): string =>
  typeof key === "string" ? excerpt(key) : typeof key === "symbol" ? excerpt(key.toString()) : String(key)

/**
 * `Effect.suspend(f)`, with whatever `f` throws turned into the failure `onThrow` makes. A value thrown by a caller's
 * getter or Proxy must be caught before Effect's runtime sees it: the runtime inspects a thrown value (`in`), which
 * throws again for a revoked Proxy, and the fiber then fails outside any `catchAllDefect`.
 */
export const suspendGuarded = <A, E, R>(
  f: () => Effect.Effect<A, E, R>,
  onThrow: (thrown: unknown) => E
): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    try {
      return f()
    } catch (thrown) {
      return Effect.fail(onThrow(thrown))
    }
  })
