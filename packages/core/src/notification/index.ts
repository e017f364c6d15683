import { and, eq } from "drizzle-orm";
import { z } from "zod";
import * as Database from "../db";
import * as Delivery from "../delivery";
import { AppError } from "../error";
import { notifications } from "./notification.sql";

export const Channel = z.enum(["email", "sms", "push"]);
export type Channel = z.infer<typeof Channel>;

export const Recipients = z.object({
  accepted: z.number().int().meta({ description: "Recipients that will be sent a message" }),
  suppressed: z.number().int().meta({ description: "Recipients skipped: on the suppression list" }),
  duplicates: z.number().int().meta({ description: "Repeated recipients dropped (first wins)" }),
});

/** `queued` until a delivery ends, `sending` while some are pending, `completed` when none is. */
export const Status = z.enum(["queued", "sending", "completed"]);

export const Info = z.object({
  id: z.uuid(),
  channel: Channel,
  status: Status,
  recipients: Recipients,
  counts: z.partialRecord(Delivery.Status, z.number().int()),
  createdAt: z.iso.datetime(),
});
export type Info = z.infer<typeof Info>;

export type Row = typeof notifications.$inferSelect;

/** Throws not_found unless the notification exists in this project. */
export async function find(projectId: string, id: string): Promise<Row> {
  if (!Database.isUuid(id)) throw new AppError("not_found", `Notification ${id} not found`);
  const [row] = await Database.use()
    .select()
    .from(notifications)
    .where(and(eq(notifications.projectId, projectId), eq(notifications.id, id)));
  if (!row) throw new AppError("not_found", `Notification ${id} not found`);
  return row;
}

export async function get(projectId: string, id: string): Promise<Info> {
  const row = await find(projectId, id);
  const counts = await Delivery.counts(id);
  const pending = (counts.queued ?? 0) + (counts.sending ?? 0);
  const total = Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0);
  return {
    id: row.id,
    channel: row.channel as Channel,
    status: pending === 0 ? "completed" : pending === total ? "queued" : "sending",
    recipients: { accepted: row.accepted, suppressed: row.suppressed, duplicates: row.duplicates },
    counts,
    createdAt: row.createdAt.toISOString(),
  };
}
