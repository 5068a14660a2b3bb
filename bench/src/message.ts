/**
 * The messages the benchmarks send: a realistic image by link, with a caption and the three refs.
 */
import { type SendMediaInput } from "@effect-kaleyra/core"

/** The message of the throughput and CPU benchmarks. */
export const imageMessage: SendMediaInput = {
  type: "image",
  to: "+919876543210",
  image: {
    link: "https://cdn.example.com/campaigns/2024/diwali/banner-1080x1080.png",
    caption: "Happy Diwali from Example Store! 20% off everything until Sunday. Reply STOP to opt out."
  },
  extraInfo: { ref: "campaign-diwali-2024", ref1: "customer-000042", ref2: "variant-b" }
}

/** Message `index` of a campaign: the same image to a different recipient, with its own refs. */
export const campaignMessage = (index: number): SendMediaInput => ({
  type: "image",
  to: `+91987${String(index).padStart(7, "0")}`,
  image: {
    link: "https://cdn.example.com/campaigns/2024/diwali/banner-1080x1080.png",
    caption: "Happy Diwali from Example Store! 20% off everything until Sunday. Reply STOP to opt out."
  },
  extraInfo: { ref: "campaign-diwali-2024", ref1: `customer-${index}` }
})

/** The inputs of a campaign of `count` messages, made as they are pulled (like rows from a database cursor). */
export function* campaign(count: number): Generator<SendMediaInput> {
  for (let i = 0; i < count; i++) yield campaignMessage(i)
}
