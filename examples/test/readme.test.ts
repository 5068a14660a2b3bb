/**
 * The README's code blocks are these files, verbatim, so that what a reader pastes is what CI type-checks and runs.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8")
const readme = read("../../README.md")

describe("README", () => {
  for (const file of ["../src/quick-start.ts", "./readme-testing.test.ts", "../src/template-quick-start.ts"]) {
    it(`quotes ${file} verbatim`, () => {
      const code = read(file).trim()
      assert.include(readme, code, `README.md must contain ${file} as a code block`)
    })
  }
})
