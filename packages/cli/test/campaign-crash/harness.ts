/**
 * The crash test's harness: the worker bundled once (a child process then starts in a fraction of a second), the
 * simulator served in this process with faults and a hook that kills the worker when a request arrives, and workers
 * spawned with a kill plan.
 */
import * as KaleyraSimulator from "@effect-kaleyra/testing/KaleyraSimulator"
import * as SimulatorServer from "@effect-kaleyra/testing/SimulatorServer"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { bundle } from "../../../../scripts/bundle.mjs"
import type { WorkerConfig } from "./worker.js"

export { maxInWindow } from "../../../campaign/test/helpers.js"

/** The worker as one ES module (see scripts/bundle.mjs). */
export const workerScript: Effect.Effect<string> = Effect.promise(() =>
  bundle(fileURLToPath(new URL("worker.ts", import.meta.url)))
)

/** A seeded generator (mulberry32): the same seed, the same kill points. */
export const seeded = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What kills a worker. */
export type KillPlan =
  | { readonly kind: "hook"; readonly point: NonNullable<WorkerConfig["kill"]>["point"]; readonly nth: number }
  /** When the simulator receives the nth request: before processing it (written, not accepted) or after (accepted). */
  | { readonly kind: "request"; readonly phase: "written" | "processed"; readonly nth: number }
  /** `millis` after the worker's first request. */
  | { readonly kind: "random"; readonly millis: number }

export const describePlan = (plan: KillPlan | undefined): string =>
  plan === undefined
    ? "none"
    : plan.kind === "hook"
    ? `${plan.point} #${plan.nth}`
    : plan.kind === "request"
    ? `request ${plan.phase} #${plan.nth}`
    : `random ${plan.millis} ms`

export interface Served {
  readonly simulator: KaleyraSimulator.Simulator
  readonly url: string
  /** Arms a kill of `child` at the nth request from now (`phase`), or clears it. */
  readonly armRequestKill: (
    target: { readonly child: ChildProcess; readonly phase: "written" | "processed"; readonly nth: number } | undefined
  ) => void
  /** Resolves at the next request. */
  readonly nextRequest: () => Promise<void>
}

/** The simulator, served on 127.0.0.1, with a hook on every send request. */
export const serve = (
  options: KaleyraSimulator.SimulatorOptions
): Effect.Effect<Served, SimulatorServer.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const simulator = yield* KaleyraSimulator.makeScoped(options)
    let target: { child: ChildProcess; phase: "written" | "processed"; left: number } | undefined
    let waiters: Array<() => void> = []
    const kill = (phase: "written" | "processed") => {
      if (target === undefined || target.phase !== phase || target.left > 0) return
      target.child.kill("SIGKILL")
      target = undefined
    }
    const handle = (request: KaleyraSimulator.SimRequest) =>
      Effect.suspend(() => {
        if (!request.path.endsWith("/messages")) return simulator.handle(request)
        const ready = waiters
        waiters = []
        for (const w of ready) w()
        if (target !== undefined) target.left--
        kill("written")
        return Effect.tap(simulator.handle(request), () => Effect.sync(() => kill("processed")))
      })
    const served = yield* SimulatorServer.serve({ simulator: { ...simulator, handle } })
    return {
      simulator,
      url: served.url,
      armRequestKill: (t) => {
        target = t === undefined ? undefined : { child: t.child, phase: t.phase, left: t.nth }
      },
      nextRequest: () => new Promise<void>((resolve) => waiters.push(resolve))
    }
  })

export interface WorkerExit {
  readonly killed: boolean
  readonly code: number | null
  /** The times of the worker's HTTP attempts. */
  readonly sends: ReadonlyArray<number>
  readonly summary: unknown
  readonly stderr: string
}

/** Runs one worker to its end (or its death), killing it as `plan` says. */
export const runWorker = (
  served: Served,
  config: Omit<WorkerConfig, "kill">,
  plan: KillPlan | undefined
): Effect.Effect<WorkerExit> =>
  Effect.flatMap(workerScript, (script) =>
    Effect.async<WorkerExit>((resume) => {
      const workerConfig: WorkerConfig = plan?.kind === "hook"
        ? { ...config, kill: { point: plan.point, nth: plan.nth } }
        : config
      const child = spawn(process.execPath, [script, JSON.stringify(workerConfig)], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      if (plan?.kind === "request") served.armRequestKill({ child, phase: plan.phase, nth: plan.nth })
      let timer: ReturnType<typeof setTimeout> | undefined
      if (plan?.kind === "random") {
        void served.nextRequest().then(() => {
          timer = setTimeout(() => child.kill("SIGKILL"), plan.millis)
        })
      }
      let stdout = ""
      let stderr = ""
      child.stdout!.on("data", (data) => {
        stdout += String(data)
      })
      child.stderr!.on("data", (data) => {
        stderr += String(data)
      })
      child.once("close", (code, signal) => {
        if (timer !== undefined) clearTimeout(timer)
        if (plan?.kind === "request") served.armRequestKill(undefined)
        const lines = stdout.split("\n")
        const summary = lines.find((line) => line.startsWith("R "))
        resume(Effect.succeed({
          killed: signal === "SIGKILL",
          code,
          sends: lines.filter((line) => line.startsWith("S ")).map((line) => Number(line.slice(2))),
          summary: summary === undefined ? undefined : JSON.parse(summary.slice(2)),
          stderr
        }))
      })
      return Effect.sync(() => child.kill("SIGKILL"))
    }))
