import { and, eq } from "drizzle-orm";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import { otps } from "./otp.sql";
import { rules } from "./rules";
import type { OtpChannel, Status } from "./schema";

async function find(id: string) {
  const projectId = Actor.projectId();
  if (!Database.isUuid(id)) throw new AppError("not_found", `OTP ${id} not found`);
  const [row] = await Database.use()
    .select()
    .from(otps)
    .where(and(eq(otps.projectId, projectId), eq(otps.id, id)));
  if (!row) throw new AppError("not_found", `OTP ${id} not found`);
  return row;
}

function toStatus(row: typeof otps.$inferSelect): Status {
  const expired = row.status === "pending" && row.expiresAt <= Clock.now();
  return {
    id: row.id,
    channel: row.channel as OtpChannel,
    to: row.destinationMasked,
    purpose: row.purpose,
    status: expired ? "expired" : (row.status as "pending" | "verified" | "canceled"),
    attemptsRemaining: Math.max(0, rules().checksPerCode - row.attempts),
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}

export async function get(id: string) {
  return toStatus(await find(id));
}

/** Cancels a pending code; a message not yet sent is then not sent. */
export async function cancel(id: string) {
  const projectId = Actor.projectId();
  await find(id);
  await Database.use()
    .update(otps)
    .set({ status: "canceled" })
    .where(and(eq(otps.projectId, projectId), eq(otps.id, id), eq(otps.status, "pending")));
  return toStatus(await find(id));
}
