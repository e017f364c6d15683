import { and, asc, eq, gt, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import { Channel } from "../channel";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import * as Fact from "../fact";
import * as Outbox from "../outbox";
import { Phone } from "../phone";
import { suppressions } from "./suppression.sql";

export const Reason = z.enum(["bounce", "complaint", "manual", "unsubscribe"]);
export type Reason = z.infer<typeof Reason>;
export { Channel };

export const facts = {
  added: Fact.define("suppression.added", {
    version: 1,
    subject: null,
    data: z.object({
      channel: Fact.fields.channel,
      reason: Reason.meta({ description: "Why the address is suppressed" }),
    }),
  }),
};

export const Info = z.object({
  channel: Channel,
  address: z.string().meta({ description: "Lower-cased email address, E.164 number or device id" }),
  reason: Reason,
  createdAt: z.iso.datetime(),
});
export type Info = z.infer<typeof Info>;

/**
 * What suppressing an address takes: an email address, a phone number as SMS sends take it (E.164
 * and valid for its country), or a device id.
 */
export const AddInput = z
  .strictObject({
    channel: Channel,
    address: z.string().min(1).max(320),
    reason: Reason.default("manual"),
  })
  .superRefine((input, ctx) => {
    const issue =
      input.channel === "email"
        ? !z.email().safeParse(input.address).success && "must be an email address"
        : input.channel === "sms" &&
          !Phone.safeParse(input.address).success &&
          "must be a valid phone number in E.164 form";
    if (issue) ctx.addIssue({ code: "custom", path: ["address"], message: issue });
  });
export type AddInput = z.infer<typeof AddInput>;

const toInfo = (row: typeof suppressions.$inferSelect): Info => ({
  channel: row.channel as Channel,
  address: row.address,
  reason: row.reason as Reason,
  createdAt: row.createdAt.toISOString(),
});

/**
 * Suppresses an address for the actor's project's channel, with a `suppression.added` fact in the
 * same statement; suppressing it again keeps the first reason (and writes no fact).
 */
export async function add(input: { channel: Channel; address: string; reason: Reason }) {
  const { channel, address, reason } = input;
  await Outbox.addFrom({
    change: sql`
      insert into ${suppressions} (project_id, channel, address, reason, created_at)
      values (${Actor.projectId()}, ${channel}, ${address.toLowerCase()}, ${reason}, ${Clock.now().toISOString()})
      on conflict do nothing
      returning project_id, channel, reason`,
    topic: "events",
    body: Fact.sqlOf(facts.added, sql`changed.project_id`, {
      channel: sql`changed.channel`,
      reason: sql`changed.reason`,
    }),
  });
}

/**
 * Which of `addresses` (any case) the actor's project suppresses on `channel`, lower-cased: a read
 * to run beside others (`Database.readTogether`).
 */
export function listed(channel: Channel, addresses: string[]): Database.Read<Set<string>> {
  const lowered = JSON.stringify(addresses.map((address) => address.toLowerCase()));
  return {
    sql: sql`
      select coalesce(json_agg(address), '[]'::json) from ${suppressions}
      where project_id = ${Actor.projectId()} and channel = ${channel}
        and address in (select json_array_elements_text(${lowered}::json))`,
    parse: (value) => new Set(value as string[]),
  };
}

/** A page of the actor's project's suppressions by address, after `cursor` (the previous page's last). */
export async function list(options: {
  channel?: Channel | undefined;
  cursor?: string | undefined;
  limit: number;
}): Promise<{ suppressions: Info[]; nextCursor: string | null }> {
  const projectId = Actor.projectId();
  const rows = await Database.use()
    .select()
    .from(suppressions)
    .where(
      and(
        eq(suppressions.projectId, projectId),
        options.channel ? eq(suppressions.channel, options.channel) : undefined,
        options.cursor ? gt(suppressions.address, options.cursor) : undefined,
      ),
    )
    .orderBy(asc(suppressions.address), asc(suppressions.channel))
    .limit(options.limit + 1);
  const { items, nextCursor } = Database.page(rows, options.limit, (row) => row.address);
  return { suppressions: items.map(toInfo), nextCursor };
}

export async function get(channel: Channel, address: string): Promise<Info> {
  const projectId = Actor.projectId();
  const [row] = await Database.use()
    .select()
    .from(suppressions)
    .where(
      and(
        eq(suppressions.projectId, projectId),
        eq(suppressions.channel, channel),
        eq(suppressions.address, address.toLowerCase()),
      ),
    );
  if (!row) throw new AppError("not_found", `${address} is not suppressed on ${channel}`);
  return toInfo(row);
}

/** Lifts a suppression; 404 if there is none. */
export async function remove(channel: Channel, address: string): Promise<Info> {
  const projectId = Actor.projectId();
  const [row] = await Database.use()
    .delete(suppressions)
    .where(
      and(
        eq(suppressions.projectId, projectId),
        eq(suppressions.channel, channel),
        eq(suppressions.address, address.toLowerCase()),
      ),
    )
    .returning();
  if (!row) throw new AppError("not_found", `${address} is not suppressed on ${channel}`);
  return toInfo(row);
}
