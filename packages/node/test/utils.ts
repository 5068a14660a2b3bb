import type { KaleyraClient, KaleyraConfig } from "@effect-kaleyra/core"
import type { SimulatorOptions } from "@effect-kaleyra/testing/KaleyraSimulator"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import { HttpClient } from "@effect/platform"
import { Effect, Layer, Redacted } from "effect"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KaleyraNode } from "../src/index.js"

/** A distinctive key, so that a leak is easy to find in any printout. */
export const API_KEY = "sk-LIVE-node-7f3a9c1e5b2d-do-not-print"
export const SID = "HXAP16XXXXXX97IN"
export const SENDER = "919999999999"

/** Counts the HTTP attempts the client makes (through its `transformClient` hook). */
export const makeCounter = () => {
  const state = { attempts: 0 }
  const transformClient = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
    HttpClient.tapRequest(client, () =>
      Effect.sync(() => {
        state.attempts++
      }))
  return { state, transformClient }
}

/** The client's options for a server at `baseUrl`, with fast retries. */
export const clientOptions = (
  baseUrl: string,
  overrides: Partial<KaleyraConfig.Options> = {}
): KaleyraConfig.Options => ({
  sid: SID,
  apiKey: Redacted.make(API_KEY),
  senderNumber: SENDER,
  baseUrl,
  retryBaseDelay: "10 millis",
  ...overrides
})

/** Builds `KaleyraNode.layer(options)` in the current scope. */
export const buildClient = (options: KaleyraConfig.Options) => Layer.build(KaleyraNode.layer(options))

/**
 * A simulator on a loopback port (the test API key), and the Node client pointed at it through a real socket.
 * Everything closes with the test's scope.
 */
export const stack = (options: {
  readonly simulator?: SimulatorOptions
  readonly client?: Partial<KaleyraConfig.Options>
} = {}) =>
  Effect.gen(function*() {
    const served = yield* SimulatorServer.serve({ simulator: { apiKey: API_KEY, sid: SID, ...options.simulator } })
    const counter = makeCounter()
    const context = yield* buildClient(
      clientOptions(served.url, { transformClient: counter.transformClient, ...options.client })
    )
    const run = <A, E>(effect: Effect.Effect<A, E, KaleyraClient>): Effect.Effect<A, E> =>
      Effect.provide(effect, context)
    return { ...served, context, run, counted: counter.state }
  })

export type Stack = Effect.Effect.Success<ReturnType<typeof stack>>

/** A temporary directory (its name starts with `prefix`), removed with the test's scope. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), prefix))),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )
