import type { Refs } from "../KaleyraCallback.js"
import type * as MediaMessage from "../MediaMessage.js"

/** The `ref`s of a message, as its send events carry them. */
export const refsOf = (message: MediaMessage.MediaMessage | undefined): Refs => {
  const extra = message?.extraInfo
  if (extra === undefined) return {}
  const refs: { ref?: string; ref1?: string; ref2?: string } = {}
  if (extra.ref !== undefined) refs.ref = extra.ref
  if (extra.ref1 !== undefined) refs.ref1 = extra.ref1
  if (extra.ref2 !== undefined) refs.ref2 = extra.ref2
  return refs
}
