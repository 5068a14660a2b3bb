#!/usr/bin/env node
/**
 * The `kaleyra-wa` executable: `send-media`, `campaign` and `callbacks` (see `Cli`).
 *
 * Exit codes: 0 every message was sent, 1 some failed, are Ambiguous or Pending, 2 bad input (nothing was sent),
 * 130 interrupted (Ctrl-C; a second Ctrl-C exits at once).
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cli from "../Cli.js"
import * as Heap from "../Heap.js"

// A large CSV's import and sends make much short-lived garbage: keep the heap close to its live size.
Heap.limitGrowth()

// The first Ctrl-C stops gracefully (no new send; the sends in flight finish and are recorded). A second one exits
// at once: safe, since the ledger holds every intent before its request is written (those rows become Ambiguous).
let interrupts = 0
process.on("SIGINT", () => {
  interrupts++
  if (interrupts >= 2) {
    process.stderr.write("\nStopped at once (second Ctrl-C); rows in flight become Ambiguous on the next run.\n")
    process.exit(Cli.exitCodes.interrupted)
  }
})

NodeRuntime.runMain(Cli.run(process.argv.slice(2)).pipe(Effect.provide(Cli.layerProcessOutput)), {
  disableErrorReporting: false,
  teardown: (exit, onExit) => {
    const code = Exit.isSuccess(exit) && typeof exit.value === "number"
      ? exit.value
      : Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
      ? Cli.exitCodes.interrupted
      : Cli.exitCodes.failed
    process.exitCode = code
    onExit(code)
  }
})
