/**
 * The lean `KaleyraTransport` on an undici `Dispatcher` (`Agent`, `Pool`, `Client`): a send or an upload is one
 * dispatch, its response read whole by the dispatch handler (at most `KaleyraTransport.MAX_RESPONSE_BYTES`; a longer
 * body is not read and the request is aborted) and answered once, as a status, two headers and a text, without an
 * `HttpClientRequest` or `HttpClientResponse`, without a timer fiber: the deadline is a timer of the dispatch.
 *
 * - **Interruption** aborts the request through undici's own abort callback. A request still queued for a connection
 *   is aborted before anything is written.
 * - **Failures** carry an `UndiciHttpClient.TransportFailure`: the system or undici `code`, and `requestSent`, `true`
 *   as soon as the request was handed to a connection (any byte of it may have been written), whatever the code.
 * - Its `httpClient` (what a `transformClient` wraps) is `UndiciHttpClient` on the same dispatcher.
 *
 * @since 0.1.0
 */
import * as KaleyraTransport from "@effect-kaleyra/core/KaleyraTransport"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Agent as UndiciAgent, Dispatcher } from "undici"
import { Agent, toUndiciFormData } from "./internal/undici.js"
import { isPlainUndici } from "./internal/undiciAttempt.js"
import { dispatchBuffered } from "./internal/undiciBuffered.js"
import { Targets } from "./internal/undiciTargets.js"
import * as UndiciHttpClient from "./UndiciHttpClient.js"

/**
 * The transport over an undici dispatcher. The dispatcher is not closed by the transport.
 *
 * ```ts
 * import { Pool } from "undici"
 * const transport = UndiciTransport.make(new Pool("http://127.0.0.1:4010", { connections: 64 }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dispatcher: Dispatcher): KaleyraTransport.Service => {
  const targets = new Targets()
  const reportsConnect = isPlainUndici(dispatcher)
  return {
    send: (request) =>
      dispatchBuffered(
        dispatcher,
        reportsConnect,
        targets,
        request.method,
        request.url,
        request.headers,
        request.body,
        request.timeoutMillis
      ),
    upload: (upload) =>
      // undici writes the multipart `content-type` with its boundary.
      Effect.suspend(() =>
        dispatchBuffered(
          dispatcher,
          reportsConnect,
          targets,
          "POST",
          upload.url,
          upload.headers,
          toUndiciFormData(upload.form),
          upload.timeoutMillis
        )
      ),
    httpClient: UndiciHttpClient.make(dispatcher),
    tracesRequests: false
  }
}

/**
 * The transport over an `Agent` built with these options (merged over `UndiciHttpClient.defaultAgentOptions`). The
 * agent is destroyed when the layer's scope closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: UndiciAgent.Options): Layer.Layer<KaleyraTransport.KaleyraTransport> =>
  Layer.scoped(
    KaleyraTransport.KaleyraTransport,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => new Agent({ ...UndiciHttpClient.defaultAgentOptions, ...options })),
        (agent) => Effect.promise(() => agent.destroy())
      ),
      make
    )
  )

/**
 * The transport over its own keep-alive `Agent`, destroyed when the layer's scope closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<KaleyraTransport.KaleyraTransport> = layerWith({})
