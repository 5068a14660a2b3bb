#!/usr/bin/env node
/**
 * The `kaleyra-wa` executable: `send-media` and `campaign` (see `Cli`).
 *
 * Exit codes: 0 every message was sent, 1 some failed, 2 bad input (nothing was sent), 130 interrupted.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Cli from "../Cli.js"

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
