import { KaleyraClient } from "@effect-kaleyra/core"
import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Redacted } from "effect"
import { scripted } from "./utils.js"

const fromEnv = (env: Record<string, string>) =>
  KaleyraClient.layerConfig().pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, scripted([]).client)),
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
