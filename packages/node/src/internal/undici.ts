/**
 * undici's `Agent` and `FormData`, each loaded from its own file.
 *
 * undici's index also loads `fetch`, `WebSocket`, `EventSource`, its caches, interceptors and mocks, which the lean
 * client never uses: 2.7 MB more live heap and about 8 MB more RSS (measured on Node 20 with undici 7.30). undici has
 * no `exports` map, so these paths resolve for any importer and any bundler, and Node's module cache makes them the
 * very classes of the index (`test/undici.test.ts` checks both).
 *
 * @internal
 */
import type * as Undici from "undici"
import AgentClass from "undici/lib/dispatcher/agent.js"
import formData from "undici/lib/web/fetch/formdata.js"

/** @internal */
export const Agent: typeof Undici.Agent = AgentClass

/** @internal */
export const FormData: typeof Undici.FormData = formData.FormData

/**
 * `formData` as an instance of `Target`, an undici `FormData` class: itself if it is one already, else a copy.
 * undici recognises a body as form data only when it is an instance of its own class (and on Node 20 the global
 * `FormData` is another undici's).
 *
 * @internal
 */
export const formDataOf = <T extends { append(name: string, value: string | Blob, filename?: string): void }>(
  formData: globalThis.FormData,
  Target: new() => T
): T => {
  if (formData instanceof Target) return formData
  const copy = new Target()
  formData.forEach((value, name) => {
    if (typeof value === "string") copy.append(name, value)
    else copy.append(name, value, value.name)
  })
  return copy
}

/**
 * A `FormData` as undici 7's own class: on Node 20 the global `FormData` comes from the undici bundled in Node (6.x),
 * which undici 7 cannot serialise (nodejs/undici#4212).
 *
 * @internal
 */
export const toUndiciFormData = (formData: globalThis.FormData): Undici.FormData => formDataOf(formData, FormData)
