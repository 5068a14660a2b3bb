/**
 * The failure responses of the specification (`seed/send-media-messages.txt`), copied by hand: the simulator must
 * answer exactly these.
 */
export const seed = {
  RBC001: {
    status: 401,
    body: {
      code: "RBC001",
      message: "Incorrect SID or API key.",
      data: [],
      error: { error: "Incorrect SID or API key." }
    }
  },
  WA401: {
    status: 401,
    body: {
      code: "WA401",
      message: "Phone number is not present or does not belong to the account.",
      data: {},
      error: { phone_number: "Phone number is not present or does not belong to the account." }
    }
  },
  WA400: {
    status: 400,
    body: {
      code: "WA400",
      message: "Refer to correct payload format",
      data: {},
      error: { payload: "Incorrect payload format" }
    }
  },
  WA500: {
    status: 500,
    body: {
      code: "WA500",
      message: "Please try again later",
      data: {},
      error: { error: "Internal server error" }
    }
  },
  E110: {
    status: 400,
    body: {
      code: "E110",
      message: "Please check your balance, You have a low balance!",
      data: {},
      error: { balance: "Please check your balance, You have a low balance!" }
    }
  },
  "WA-401-account": {
    status: 401,
    body: {
      code: "WA-401",
      message: "API is not available for given customer.Please contact support for more info",
      data: {},
      error: { account: "API is not available for given customer.Please contact support for more info" }
    }
  },
  "WA-401-phone_number": {
    status: 401,
    body: {
      code: "WA-401",
      message:
        "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint.",
      data: {},
      error: {
        phone_number:
          "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint."
      }
    }
  }
} as const

export type SeedCode = keyof typeof seed

export const seedCodes = Object.keys(seed) as ReadonlyArray<SeedCode>
