/**
 * Every runnable example, run as its header documents (its script in examples/package.json, `tsx` with the sources'
 * export condition on the example's file), without KALEYRA_* credentials, so against the local simulator its header
 * promises, with the other variables its header names set. The file runs bundled from the same sources with the same
 * condition (scripts/bundle.mjs): tsx's loader cost each run seconds of CPU; `pnpm demo` and the pack check's
 * `pnpm kaleyra-wa` still go through tsx.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { bundle } from "../../scripts/bundle.mjs"

const examples = fileURLToPath(new URL("..", import.meta.url))
const scripts: Record<string, string> = JSON.parse(readFileSync(`${examples}/package.json`, "utf8")).scripts

interface Run {
  /** The example's command line, as its header shows it (`...` for a value of yours). */
  readonly documented: string
  readonly args: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  /** What its standard output says when the story went through. */
  readonly expected: RegExp
}

const runs: Record<string, Run> = {
  "send-by-link": {
    documented:
      "KALEYRA_SID=... KALEYRA_API_KEY=... KALEYRA_SENDER_NUMBER=... pnpm --filter @effect-kaleyra/examples send-by-link +919876543210",
    args: ["+919876543210"],
    env: {},
    expected: /accepted: wamid\.\S+ for \+919876543210/
  },
  "upload-and-send": {
    documented: "pnpm --filter @effect-kaleyra/examples upload-and-send ./invoice.pdf +919876543210",
    args: [],
    env: {},
    expected: /uploaded effect-kaleyra-example\.pdf \(application\/pdf, \d+ bytes\)[^]*sent as document: wamid\./
  },
  campaign: {
    documented: "pnpm --filter @effect-kaleyra/examples campaign",
    args: [],
    env: {},
    expected: /sent 999, failed 1/
  },
  "receive-callbacks": {
    documented: "KALEYRA_CALLBACK_SECRET=... pnpm --filter @effect-kaleyra/examples receive-callbacks",
    args: [],
    env: { KALEYRA_CALLBACK_SECRET: "a-secret-of-this-test" },
    expected: /wamid\.\S+ was read \(refs \{"ref":"order-7"\}\)/
  }
}

/** The environment without any KALEYRA_* variable of the machine running the tests. */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("KALEYRA_")))

/** The script's command line: tsx, the sources' condition, the example's file. */
const scriptFile = (script: string): string => {
  const match = /^tsx --conditions=@effect-kaleyra\/source (src\/[\w-]+\.ts)$/.exec(script)
  assert.isNotNull(match, `the script runs tsx with the sources' condition on an example's file: ${script}`)
  return match![1]!
}

const run = (script: string, args: ReadonlyArray<string>, env: Readonly<Record<string, string>>) =>
  Effect.flatMap(
    Effect.promise(() => bundle(`${examples}/${scriptFile(script)}`)),
    (program) =>
      Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
        const child = execFile(
          process.execPath,
          [program, ...args],
          { cwd: examples, env: { ...baseEnv, ...env }, timeout: 180_000, killSignal: "SIGKILL" },
          (error, stdout, stderr) =>
            resume(Effect.succeed({ code: error ? (error.code as number | null) : 0, stdout, stderr }))
        )
        return Effect.sync(() => child.kill("SIGKILL"))
      })
  )

describe("examples", () => {
  it("every example with a script is run here", () => {
    assert.deepStrictEqual(Object.keys(scripts).sort(), Object.keys(runs).sort())
    const documented = readdirSync(`${examples}/src`).filter((file) =>
      file.endsWith(".ts") &&
      readFileSync(`${examples}/src/${file}`, "utf8").includes("pnpm --filter @effect-kaleyra/examples")
    )
    assert.deepStrictEqual(documented.sort(), Object.keys(runs).map((name) => `${name}.ts`).sort())
  })

  for (const [name, { args, documented, env, expected }] of Object.entries(runs)) {
    it.live(`${name} runs as its header documents`, () =>
      Effect.gen(function*() {
        const header = readFileSync(`${examples}/src/${name}.ts`, "utf8")
        assert.include(header, ` *   ${documented}\n`, `the header of ${name}.ts documents how this test runs it`)
        const { code, stderr, stdout } = yield* run(scripts[name]!, args, env)
        assert.strictEqual(code, 0, `${name} exited with ${code}:\n${stdout}\n${stderr}`)
        assert.match(stdout, expected, `${name}'s output:\n${stdout}\n${stderr}`)
      }), { timeout: 200_000 })
  }
})
