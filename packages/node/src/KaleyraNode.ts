/**
 * The Kaleyra client for Node: core's `KaleyraClient` over the lean undici transport (`UndiciTransport`), with its options given in
 * code or read from the `KALEYRA_*` environment variables.
 *
 * ```ts
 * import { sendMedia } from "@effect-kaleyra/core"
 * import { KaleyraNode } from "@effect-kaleyra/node"
 *
 * sendMedia({ to: "+919876543210", type: "image", image: { link: "https://example.com/a.png" } }).pipe(
 *   Effect.provide(KaleyraNode.layerConfig)   // KALEYRA_SID, KALEYRA_API_KEY, KALEYRA_SENDER_NUMBER, ...
 * )
 * ```
 *
 * @since 0.1.0
 */
import * as KaleyraClient from "@effect-kaleyra/core/KaleyraClient"
import * as KaleyraConfig from "@effect-kaleyra/core/KaleyraConfig"
import { KaleyraEvents } from "@effect-kaleyra/core/KaleyraEvents"
import * as KaleyraTransport from "@effect-kaleyra/core/KaleyraTransport"
import type * as PlatformUndici from "@effect/platform-node/Undici"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { formDataOf } from "./internal/undici.js"
import * as UndiciTransport from "./UndiciTransport.js"

/**
 * The `KaleyraEvents` of the client layers: the one already in context when the layer is built (e.g. the one a
 * `CallbackReceiver` publishes to, given with `Layer.provideMerge(KaleyraEvents.layer())`), otherwise a new one.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerEvents: Layer.Layer<KaleyraEvents> = KaleyraEvents.layerShared()

const withEvents = <E>(
  client: Layer.Layer<KaleyraClient.KaleyraClient, E, KaleyraEvents>
): Layer.Layer<KaleyraClient.KaleyraClient | KaleyraEvents, E> => Layer.provideMerge(client, layerEvents)

/**
 * The client with these options, over the lean undici transport (its own keep-alive `Agent`, closed with the
 * layer), and `KaleyraEvents` (see {@link layerEvents}): the client publishes what it does there, and a
 * `CallbackReceiver` given the same service adds Kaleyra's status callbacks (`awaitStatus`). Invalid options (a
 * malformed `sid`, `senderNumber` or `baseUrl`, ...) fail the layer with a `ConfigError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: KaleyraConfig.Options
): Layer.Layer<KaleyraClient.KaleyraClient | KaleyraEvents, ConfigError.ConfigError> =>
  withEvents(Layer.provide(KaleyraClient.layer(options), UndiciTransport.layer))

/**
 * The client (and `KaleyraEvents`, as in {@link layer}) with its options read from configuration: with the default
 * `ConfigProvider`, the environment variables `KALEYRA_SID`, `KALEYRA_API_KEY`, `KALEYRA_SENDER_NUMBER`, and
 * optionally `KALEYRA_REGION`, `KALEYRA_BASE_URL`, `KALEYRA_TIMEOUT` and `KALEYRA_MAX_RETRIES` (see
 * `KaleyraConfig.config`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<KaleyraClient.KaleyraClient | KaleyraEvents, ConfigError.ConfigError> =
  withEvents(Layer.provide(KaleyraClient.layerConfig(KaleyraConfig.config), UndiciTransport.layer))

/**
 * Like {@link layerConfig}, with `overrides` applied over what configuration gave (for what configuration cannot
 * hold, such as `transformClient`, or to pin a value in code).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfigWith = (
  overrides: Partial<KaleyraConfig.Options>
): Layer.Layer<KaleyraClient.KaleyraClient | KaleyraEvents, ConfigError.ConfigError> =>
  withEvents(Layer.provide(KaleyraClient.layerConfig(KaleyraConfig.config, overrides), UndiciTransport.layer))

/**
 * `@effect/platform-node`'s stock undici `HttpClient` (`NodeHttpClient.layerUndici`), fixed for Node 20: a body made
 * of the global `FormData` is copied into undici's own `FormData` first (nodejs/undici#4212: undici 7 cannot
 * serialise the `FormData` of the undici bundled in Node 20 and fails with "action is not a function").
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStockHttpClient: Layer.Layer<HttpClient.HttpClient> = Layer.unwrapEffect(
  // Loaded when the layer is built: `NodeHttpClient` loads all of undici (fetch, WebSocket, ...), which the lean
  // client does not need.
  Effect.map(
    Effect.promise(() =>
      Promise.all([import("@effect/platform-node/NodeHttpClient"), import("@effect/platform-node/Undici")])
    ),
    ([NodeHttpClient, Undici]) =>
      Layer.effect(
        HttpClient.HttpClient,
        Effect.map(
          HttpClient.HttpClient,
          HttpClient.mapRequest((request) =>
            request.body._tag === "FormData"
              ? HttpClientRequest.setBody(request, HttpBody.formData(toStockFormData(request.body.formData, Undici)))
              : request
          )
        )
      ).pipe(Layer.provide(NodeHttpClient.layerUndici))
  )
)

/**
 * The stock client hands the body to the undici that `@effect/platform-node` resolves, as it is: it must be that
 * undici's own class. It may be another copy than the lean client's (`@effect-kaleyra/node` resolves its own
 * undici, which a package manager may install apart), so the class is taken from `@effect/platform-node/Undici`.
 */
const toStockFormData = (formData: FormData, Undici: typeof PlatformUndici): FormData =>
  formDataOf(formData, Undici.FormData) as unknown as FormData

/**
 * The client over `@effect/platform-node`'s stock undici `HttpClient` ({@link layerStockHttpClient}) instead of the
 * lean one: spans per HTTP call and the platform's own response objects, at a higher cost per request.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStock = (
  options: KaleyraConfig.Options
): Layer.Layer<KaleyraClient.KaleyraClient | KaleyraEvents, ConfigError.ConfigError> =>
  withEvents(Layer.provide(KaleyraClient.layer(options), Layer.provide(KaleyraTransport.layer, layerStockHttpClient)))
