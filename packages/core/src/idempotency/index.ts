import { createHash } from "node:crypto";
import { and, eq, gte, lt, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import { idempotencyKeys } from "./idempotency.sql";

/** How long a key's first response is replayed. */
export const retentionMs = 24 * 60 * 60 * 1000;

export const Key = z.string().min(1).max(255);

export interface Claim {
  projectId: string;
  key: string;
  operation: string;
  input: unknown;
}

/** The claim of a request sent with an Idempotency-Key (in the actor's project); none without one. */
export const claim = (
  key: string | undefined,
  operation: string,
  input: unknown,
): Claim | undefined => (key ? { projectId: Actor.projectId(), key, operation, input } : undefined);

const hashOf = (operation: string, input: unknown) =>
  createHash("sha256").update(operation).update("\0").update(JSON.stringify(input)).digest("hex");

/** The stored response to this key, if the same request was answered; 422 if another was. */
async function stored<T>(claim: Claim, requestHash: string) {
  const [first] = await Database.use()
    .select()
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.projectId, claim.projectId),
        eq(idempotencyKeys.key, claim.key),
        gte(idempotencyKeys.createdAt, new Date(Clock.now().getTime() - retentionMs)),
      ),
    );
  if (!first) return undefined;
  if (first.requestHash !== requestHash) {
    throw new AppError(
      "idempotency_key_reused",
      "This Idempotency-Key was used with another request; use a new key for a new request",
    );
  }
  return { response: first.response as T };
}

/** A cheap look before any work: the stored response for a repeated request, if there is one. */
export async function replay<T>(claim: Claim | undefined): Promise<T | undefined> {
  if (!claim) return undefined;
  return (await stored<T>(claim, hashOf(claim.operation, claim.input)))?.response;
}

/**
 * Runs `work` once per key: inside one transaction the key is claimed (a concurrent request with the
 * same key waits on the claim), `work` runs, and its response is stored before the commit. A waiting
 * request with the same key and input then gets the stored response; with another input,
 * `idempotency_key_reused`. If `work` fails nothing is kept and the key can be used again.
 */
export async function once<T>(
  claim: Claim | undefined,
  work: () => Promise<T>,
): Promise<{ response: T; replayed: boolean }> {
  if (!claim) return { response: await Database.transaction(work), replayed: false };
  const requestHash = hashOf(claim.operation, claim.input);
  const now = Clock.now();
  return Database.transaction(async (tx) => {
    // Keys older than the retention are free again.
    await tx
      .delete(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.projectId, claim.projectId),
          eq(idempotencyKeys.key, claim.key),
          lt(idempotencyKeys.createdAt, new Date(now.getTime() - retentionMs)),
        ),
      );
    const [claimed] = await tx
      .insert(idempotencyKeys)
      .values({
        projectId: claim.projectId,
        key: claim.key,
        operation: claim.operation,
        requestHash,
        response: sql`'null'::jsonb`,
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    if (!claimed) {
      const first = await stored<T>(claim, requestHash);
      return { response: first!.response, replayed: true };
    }
    const response = await work();
    await tx
      .update(idempotencyKeys)
      .set({ response: sql`${JSON.stringify(response)}::jsonb` })
      .where(
        and(eq(idempotencyKeys.projectId, claim.projectId), eq(idempotencyKeys.key, claim.key)),
      );
    return { response, replayed: false };
  });
}

/** Sweeper: forgets keys past the retention; returns how many. */
export async function purge(): Promise<number> {
  const before = new Date(Clock.now().getTime() - retentionMs);
  const rows = await Database.use()
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, before))
    .returning({ key: idempotencyKeys.key });
  return rows.length;
}
