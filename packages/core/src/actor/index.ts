import { AsyncLocalStorage } from "node:async_hooks";

/** The entry points that work for no API caller: what a system actor names as its `reason`. */
export const systemReasons = [
  "sender",
  "feedback",
  "audit",
  "webhooks",
  "sweeper",
  "start",
  "cli",
  "unsubscribe",
] as const;
export type SystemReason = (typeof systemReasons)[number];

/**
 * Who a piece of work is done for. Set once where the work comes in: the API per request (first
 * `public`, with the request's id, then the key or token that authenticated it), each queue consumer per
 * message, the sweeper per run, the CLI per command. Core reads it from here (the project a caller
 * acts in, the key to record on rows and facts); log lines carry its ids.
 */
export type Actor =
  /** An API request not (yet) authenticated. */
  | { type: "public"; requestId: string }
  /** An API request made with an API key of `projectId`. */
  | {
      type: "key";
      projectId: string;
      keyId: string;
      scopes: readonly string[];
      requestId: string;
    }
  /** An API request made with a token of an issuer `projectId` trusts. */
  | {
      type: "token";
      projectId: string;
      /** The token's `iss` and `sub`: what rows, facts and logs record of it (never the token). */
      issuer: string;
      subject: string;
      scopes: readonly string[];
      requestId: string;
    }
  /**
   * Pregón itself: a consumer, the sweeper, the local stack's start, the CLI. `projectId` when it
   * acts inside one project (an operator's command about a project, feedback about one project's
   * delivery).
   */
  | { type: "system"; reason: SystemReason; projectId?: string };

const storage = new AsyncLocalStorage<Actor>();

/** Runs `fn` (and everything it starts) as `actor`. */
export function provide<T>(actor: Actor, fn: () => T): T {
  return storage.run(actor, fn);
}

/** The current actor, if any (the logger reads it; business code uses `use`). */
export function current(): Actor | undefined {
  return storage.getStore();
}

/** The current actor; throws when the entry point provided none (a bug, not bad input). */
export function use(): Actor {
  const actor = storage.getStore();
  if (!actor) throw new Error("No actor: the entry point must run its work in Actor.provide()");
  return actor;
}

/** The current actor if it is of `type`; throws otherwise. */
export function assert<T extends Actor["type"]>(type: T): Extract<Actor, { type: T }> {
  const actor = use();
  if (actor.type !== type) throw new Error(`Expected a ${type} actor, not ${actor.type}`);
  return actor as Extract<Actor, { type: T }>;
}

/** The project the current actor acts in; throws for one that acts in none. */
export function projectId(): string {
  const actor = use();
  if (actor.type === "public" || !actor.projectId) {
    throw new Error(`No project: a ${actor.type} actor acts in none`);
  }
  return actor.projectId;
}

/** The API key behind the current work, or null (what rows and refusals record). */
export function keyId(): string | null {
  const actor = use();
  return actor?.type === "key" ? actor.keyId : null;
}

/** The API request behind the current work, or null. */
export function requestId(): string | null {
  const actor = use();
  return "requestId" in actor ? actor.requestId : null;
}
