/**
 * @since 0.1.0
 */

/**
 * The Kaleyra WhatsApp API v2 simulator: a request handler and an `HttpApp`, with state, deterministic ids,
 * scripted failures and faults.
 *
 * @since 0.1.0
 */
export * as KaleyraSimulator from "./KaleyraSimulator.js"

/**
 * `KaleyraTest.layer()`: the real client over an in-memory transport to a fresh simulator.
 *
 * @since 0.1.0
 */
export * as KaleyraTest from "./KaleyraTest.js"

/**
 * fast-check arbitraries of valid and invalid media messages, phone numbers, links, captions and refs.
 *
 * @since 0.1.0
 */
export * as Arbitraries from "./Arbitraries.js"

/**
 * The simulator's registered templates and 24-hour customer-service window.
 *
 * @since 0.2.0
 */
export * as SimulatorTemplates from "./SimulatorTemplates.js"
