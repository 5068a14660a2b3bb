// The two files of undici that `undici.ts` loads instead of its index (undici declares types for its index only).
declare module "undici/lib/dispatcher/agent.js" {
  import type { Agent } from "undici"
  const AgentClass: typeof Agent
  export default AgentClass
}

declare module "undici/lib/web/fetch/formdata.js" {
  import type { FormData } from "undici"
  const formData: { readonly FormData: typeof FormData }
  export default formData
}
