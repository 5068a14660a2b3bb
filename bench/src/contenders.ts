/**
 * The clients of (1), each one sending the same request (body, headers, server) with `concurrency` workers until
 * a deadline: raw undici `Pool`, global `fetch`, the library (`KaleyraNode.layer`), and the library's transport
 * alone. Each runs in its own process (`contender-entry.ts`), so that each is measured with only its own heap.
 */
import { KaleyraConfig, KaleyraTransport, MediaMessage, sendMedia, SendMediaRequest } from "@effect-kaleyra/core"
import { KaleyraNode } from "@effect-kaleyra/node"
import * as UndiciTransport from "@effect-kaleyra/node/UndiciTransport"
import { Duration, Effect, Either, ManagedRuntime, Redacted } from "effect"
import { Pool } from "undici"
import { imageMessage } from "./message.js"
import type { ServerInfo } from "./server.js"

export const contenderIds = ["undici", "library", "fetch", "transport"] as const
export type ContenderId = typeof contenderIds[number]

export const isContenderId = (s: string): s is ContenderId => (contenderIds as ReadonlyArray<string>).includes(s)

export const contenderNames: Record<ContenderId, string> = {
  undici: "undici Pool",
  library: "library (KaleyraNode.layer)",
  fetch: "fetch",
  transport: "transport only (UndiciTransport)"
}

export interface Counts {
  ok: number
  failed: number
}

/** What a contender process answers for one run. */
export interface RunReport extends Counts {
  /** From the start of the run until its last send completed. */
  readonly millis: number
  /** The process's CPU time (user + system, every thread) per completed send, in microseconds. */
  readonly cpuMicros: number
}

export interface Contender {
  /** Sends until `deadline` (a `performance.now()` time) and counts the outcomes. */
  readonly run: (deadline: number) => Promise<Counts>
  readonly close: () => Promise<void>
}

const sum = (parts: ReadonlyArray<Counts>): Counts =>
  parts.reduce((total, part) => ({ ok: total.ok + part.ok, failed: total.failed + part.failed }), { ok: 0, failed: 0 })

const promiseWorkers = (concurrency: number, once: () => Promise<boolean>) => async (deadline: number) => {
  const worker = async (): Promise<Counts> => {
    const counts: Counts = { ok: 0, failed: 0 }
    while (performance.now() < deadline) {
      try {
        if (await once()) counts.ok++
        else counts.failed++
      } catch {
        counts.failed++
      }
    }
    return counts
  }
  return sum(await Promise.all(Array.from({ length: concurrency }, worker)))
}

/** `concurrency` fibers that each run `once` in a loop until the deadline; `sent` tells a success from its value. */
const fiberWorkers = <A, E, R>(
  concurrency: number,
  once: Effect.Effect<A, E, R>,
  sent: (value: A) => boolean,
  deadline: number
) =>
  Effect.map(
    Effect.all(
      Array.from({ length: concurrency }, () =>
        Effect.suspend(() => {
          const counts: Counts = { ok: 0, failed: 0 }
          return Effect.as(
            Effect.whileLoop({
              while: () => performance.now() < deadline,
              body: () => Effect.either(once),
              step: (outcome) => {
                if (Either.isRight(outcome) && sent(outcome.right)) counts.ok++
                else counts.failed++
              }
            }),
            counts
          )
        })),
      { concurrency: "unbounded" }
    ),
    sum
  )

export const makeContender = (id: ContenderId, server: ServerInfo, concurrency: number): Contender => {
  const clientOptions: KaleyraConfig.Options = {
    sid: server.sid,
    apiKey: Redacted.make(server.apiKey),
    senderNumber: server.senderNumber,
    baseUrl: server.url
  }
  const config = Either.getOrThrow(KaleyraConfig.resolve(clientOptions))
  const url = `${config.accountUrl}/messages`
  // The very body and headers the library sends.
  const body = SendMediaRequest.toWireJson(Either.getOrThrow(MediaMessage.validate(imageMessage)))
  const headers = {
    "api-key": server.apiKey,
    "cache-control": "no-cache",
    accept: "application/json",
    "content-type": "application/json"
  }
  switch (id) {
    case "undici": {
      const path = new URL(url).pathname
      const pool = new Pool(server.url, { connections: concurrency })
      return {
        run: promiseWorkers(concurrency, async () => {
          const response = await pool.request({ path, method: "POST", headers, body })
          await response.body.text()
          return response.statusCode === 202
        }),
        close: () => pool.close()
      }
    }
    case "fetch":
      return {
        run: promiseWorkers(concurrency, async () => {
          const response = await fetch(url, { method: "POST", headers, body })
          await response.text()
          return response.status === 202
        }),
        close: () => Promise.resolve()
      }
    case "library": {
      const runtime = ManagedRuntime.make(KaleyraNode.layer(clientOptions))
      const send = sendMedia(imageMessage)
      return {
        run: (deadline) => runtime.runPromise(fiberWorkers(concurrency, send, () => true, deadline)),
        close: () => runtime.dispose()
      }
    }
    case "transport": {
      // The same request through the library's transport alone: the one the client sends through, with the
      // client's timeout.
      const runtime = ManagedRuntime.make(UndiciTransport.layer)
      const request: KaleyraTransport.Request = {
        method: "POST",
        url,
        headers,
        body,
        timeoutMillis: Duration.toMillis(config.timeout)
      }
      const sendAll = (deadline: number) =>
        Effect.flatMap(
          KaleyraTransport.KaleyraTransport,
          (transport) =>
            fiberWorkers(concurrency, transport.send(request), (response) => response.status === 202, deadline)
        )
      return {
        run: (deadline) => runtime.runPromise(sendAll(deadline)),
        close: () => runtime.dispose()
      }
    }
  }
}
