/**
 * The READMEs' code blocks are these files, verbatim, so that what a reader pastes is what CI type-checks and runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8")

const quotes: ReadonlyArray<readonly [readme: string, files: ReadonlyArray<string>]> = [
  ["../../README.md", ["../src/quick-start.ts", "./readme-testing.test.ts", "../src/template-quick-start.ts"]],
  ["../../packages/core/README.md", ["../src/packages/core.ts"]],
  ["../../packages/node/README.md", ["../src/packages/node.ts"]],
  ["../../packages/testing/README.md", ["./readme-testing.test.ts"]],
  ["../../packages/campaign/README.md", ["../src/packages/campaign.ts"]]
]

describe("README", () => {
  for (const [readme, files] of quotes) {
    for (const file of files) {
      it(`${readme} quotes ${file} verbatim`, () => {
        const code = read(file).trim()
        assert.include(read(readme), "```ts\n" + code + "\n```", `${readme} must contain ${file} as a code block`)
      })
    }
  }
})
