import { sql } from "drizzle-orm";
import { z } from "zod";
import * as Clock from "../clock";
import * as Database from "../db";
import { suppressions } from "./suppression.sql";

export const Reason = z.enum(["bounce", "complaint", "manual", "unsubscribe"]);
export type Reason = z.infer<typeof Reason>;
export type Channel = "email" | "sms" | "push";

/** Suppresses an address for a project's channel; suppressing it again keeps the first reason. */
export async function add(input: {
  projectId: string;
  channel: Channel;
  address: string;
  reason: Reason;
}): Promise<void> {
  await Database.use()
    .insert(suppressions)
    .values({ ...input, address: input.address.toLowerCase(), createdAt: Clock.now() })
    .onConflictDoNothing();
}

/** Which of `addresses` (any case) the project suppresses on `channel`, lower-cased. */
export async function filter(
  tx: Database.Tx | Database.Db,
  projectId: string,
  channel: Channel,
  addresses: string[],
): Promise<Set<string>> {
  if (addresses.length === 0) return new Set();
  const lowered = JSON.stringify(addresses.map((address) => address.toLowerCase()));
  const rows = await tx.execute<{ address: string }>(sql`
    select address from ${suppressions}
    where project_id = ${projectId} and channel = ${channel}
      and address in (select json_array_elements_text(${lowered}::json))`);
  return new Set(rows.map((row) => row.address));
}
