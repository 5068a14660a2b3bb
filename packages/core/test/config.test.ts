import { KaleyraClient } from "@effect-kaleyra/core"
import { assert, describe, it } from "@effect/vitest"
import { Cause, ConfigProvider, Duration, Effect, Exit, Layer, Redacted } from "effect"
import { baseOptions, httpLayer, scripted } from "./utils.js"

const fromEnv = (env: Record<string, string>) =>
  KaleyraClient.layerConfig().pipe(
    Layer.provide(httpLayer(scripted([]).client)),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)), { pathDelim: "_" })))
  )

const env = { KALEYRA_SID: "HXAP16XXXXXX97IN", KALEYRA_API_KEY: "k-123", KALEYRA_SENDER_NUMBER: "919999999999" }

describe("configuration from KALEYRA_* variables", () => {
  it.effect("reads the account and applies defaults", () =>
    Effect.gen(function*() {
      const client = yield* Effect.provide(KaleyraClient, fromEnv(env))
      assert.strictEqual(client.config.sid, "HXAP16XXXXXX97IN")
      assert.strictEqual(Redacted.value(client.config.apiKey), "k-123")
      assert.strictEqual(client.config.baseUrl, "https://api.in.kaleyra.io")
      assert.strictEqual(client.config.maxRetries, 2)
      assert.deepStrictEqual(client.config.timeout, Duration.seconds(30))
      assert.strictEqual(
        client.config.accountUrl,
        "https://api.in.kaleyra.io/v2/HXAP16XXXXXX97IN/whatsapp/919999999999"
      )
    }))

  it.effect("region, base URL, timeout and retries", () =>
    Effect.gen(function*() {
      const eu = yield* Effect.provide(KaleyraClient, fromEnv({ ...env, KALEYRA_REGION: "EU" }))
      assert.strictEqual(eu.config.baseUrl, "https://api.eu.kaleyra.io")
      const local = yield* Effect.provide(
        KaleyraClient,
        fromEnv({
          ...env,
          KALEYRA_BASE_URL: "http://127.0.0.1:4010/",
          KALEYRA_TIMEOUT: "5 seconds",
          KALEYRA_MAX_RETRIES: "0"
        })
      )
      assert.strictEqual(local.config.baseUrl, "http://127.0.0.1:4010")
      assert.deepStrictEqual(local.config.timeout, Duration.seconds(5))
      assert.strictEqual(local.config.maxRetries, 0)
    }))

  for (
    const [name, vars, mention] of [
      ["missing API key", { KALEYRA_SID: env.KALEYRA_SID, KALEYRA_SENDER_NUMBER: "919999999999" }, "API_KEY"],
      ["missing SID", { KALEYRA_API_KEY: "k", KALEYRA_SENDER_NUMBER: "919999999999" }, "SID"],
      ["missing sender", { KALEYRA_SID: env.KALEYRA_SID, KALEYRA_API_KEY: "k" }, "SENDER_NUMBER"],
      ["malformed region", { ...env, KALEYRA_REGION: "US" }, "REGION"],
      ["malformed sender", { ...env, KALEYRA_SENDER_NUMBER: "abc" }, "SENDER_NUMBER"],
      ["malformed SID", { ...env, KALEYRA_SID: "../x" }, "SID"],
      ["malformed base URL", { ...env, KALEYRA_BASE_URL: "ftp://x" }, "BASE_URL"],
      ["malformed retries", { ...env, KALEYRA_MAX_RETRIES: "many" }, "MAX_RETRIES"],
      ["malformed timeout", { ...env, KALEYRA_TIMEOUT: "soon" }, "TIMEOUT"]
    ] as const
  ) {
    it.effect(`${name}: a ConfigError that names the variable`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Effect.provide(KaleyraClient, fromEnv(vars)))
        assert.strictEqual(error._tag, "ConfigError")
        assert.include(String(error), mention)
        assert.notInclude(String(error), "k-123")
      }))
  }
})

describe("an API key that no HTTP header can carry is refused when the layer is built", () => {
  const withClient = Layer.provide(httpLayer(scripted([]).client))
  // A control character (a tab too) or a character above U+00FF: every send would fail as "did not reach Kaleyra".
  const unsendable = [
    "sk-live-9f8e7d6c\tsecret",
    "sk-live-9f8e7d6c\u0001secret",
    "sk-live-9f8e7d6c\u007fsecret",
    "sk-live-9f8e7d6c\u0085secret",
    "sk-live-9f8e7d6c\rsecret",
    "sk-live-9f8e7d6c\u20acsecret",
    "sk-live-9f8e7d6c\u0100secret",
    "sk-live-9f8e7d6c\ud83d\ude00secret",
    "sk-live-9f8e7d6c\ud800secret",
    ""
  ]
  const refused = (layer: Layer.Layer<KaleyraClient, unknown>, key: string, option: string) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.provide(KaleyraClient, layer))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) return
      const failure = Cause.failureOption(exit.cause)
      assert.isTrue(failure._tag === "Some" && failure.value instanceof Object && "_tag" in failure.value)
      const printed = [Cause.pretty(exit.cause, { renderErrorCause: true }), String(Cause.squash(exit.cause))]
      for (const text of printed) {
        assert.include(text, option)
        assert.include(text, "Latin-1", text)
        // Neither the key nor its distinctive parts, on either side of the bad character.
        if (key !== "") { for (const part of ["9f8e7d6c", "secret"]) assert.notInclude(text, part) }
      }
    })

  for (const key of unsendable) {
    it.effect(`layer: ${JSON.stringify(key)}`, () =>
      refused(withClient(KaleyraClient.layer({ ...baseOptions, apiKey: Redacted.make(key) })), key, "apiKey"))
    it.effect(`layerConfig: ${JSON.stringify(key)}`, () =>
      refused(fromEnv({ ...env, KALEYRA_API_KEY: key }), key, "API_KEY"))
  }

  it.effect("any printable Latin-1 key is accepted, quotes, backslashes, spaces and accents included", () =>
    Effect.gen(function*() {
      for (const key of ["a\"b\\c d/<&>'", "clé-ÿ-\u00a0-\u00ff", "~!@#$%^&*()_+`"]) {
        const client = yield* Effect.provide(
          KaleyraClient,
          withClient(KaleyraClient.layer({ ...baseOptions, apiKey: Redacted.make(key) }))
        )
        assert.strictEqual(Redacted.value(client.config.apiKey), key)
        const fromConfig = yield* Effect.provide(KaleyraClient, fromEnv({ ...env, KALEYRA_API_KEY: key }))
        assert.strictEqual(Redacted.value(fromConfig.config.apiKey), key)
      }
    }))
})
