import { and, asc, eq, inArray, isNotNull, isNull, or } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import { Platform } from "../channel";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import { devices } from "./device.sql";

export { Platform };

export const UserId = z
  .string()
  .min(1)
  .max(200)
  .meta({ description: "Your app's id for the user" });

export const RegisterInput = z.strictObject({
  userId: UserId,
  platform: Platform.meta({ description: "apns (iOS) or fcm (Android, web)" }),
  token: z
    .string()
    .min(1)
    .max(4096)
    .regex(/^\S+$/, "must not contain spaces")
    .meta({ description: "The push token the platform gave the app" }),
});
export type RegisterInput = z.infer<typeof RegisterInput>;

export const Info = z.object({
  id: z.uuid(),
  userId: z.string(),
  platform: Platform,
  active: z.boolean().meta({ description: "false once the provider reported it gone" }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Info = z.infer<typeof Info>;

export type Row = typeof devices.$inferSelect;

const toInfo = (row: Row): Info => ({
  id: row.id,
  userId: row.userId,
  platform: row.platform as Platform,
  active: row.active,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/**
 * Registers a token for a user of the actor's project, once: the same token again (a reinstall,
 * another user signing in on the device) updates its user and makes it active again, keeping its
 * id and endpoint.
 */
export async function register(input: RegisterInput): Promise<Info> {
  const projectId = Actor.projectId();
  const now = Clock.now();
  const [row] = await Database.use()
    .insert(devices)
    .values({ projectId, ...input, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [devices.projectId, devices.platform, devices.token],
      set: { userId: input.userId, active: true, updatedAt: now },
    })
    .returning();
  return toInfo(row!);
}

export async function list(userId: string): Promise<Info[]> {
  const projectId = Actor.projectId();
  const rows = await Database.use()
    .select()
    .from(devices)
    .where(and(eq(devices.projectId, projectId), eq(devices.userId, userId)))
    .orderBy(asc(devices.createdAt));
  return rows.map(toInfo);
}

export async function remove(id: string): Promise<Info> {
  const projectId = Actor.projectId();
  const [row] = Database.isUuid(id)
    ? await Database.use()
        .delete(devices)
        .where(and(eq(devices.projectId, projectId), eq(devices.id, id)))
        .returning()
    : [];
  if (!row) throw new AppError("not_found", `Device ${id} not found`);
  return toInfo(row);
}

/** The actor's project's devices of `userIds` and with `ids` (whatever their state). */
export async function resolve(userIds: string[], ids: string[]): Promise<Row[]> {
  const projectId = Actor.projectId();
  return Database.use()
    .select()
    .from(devices)
    .where(
      and(
        eq(devices.projectId, projectId),
        or(inArray(devices.userId, userIds), inArray(devices.id, ids)),
      ),
    )
    .orderBy(asc(devices.createdAt));
}

export async function find(id: string): Promise<Row | undefined> {
  const [row] = await Database.use().select().from(devices).where(eq(devices.id, id));
  return row;
}

/** Keeps the first endpoint made for a device (two senders racing make the same one in SNS). */
export async function setEndpoint(id: string, endpointArn: string): Promise<void> {
  await Database.use()
    .update(devices)
    .set({ endpointArn, updatedAt: Clock.now() })
    .where(and(eq(devices.id, id), isNull(devices.endpointArn)));
}

/**
 * After a region's promotion: every endpoint was made in another region's platform application,
 * which this region cannot publish to. Each device's next send makes one here. Returns how many.
 */
export async function forgetEndpoints(): Promise<number> {
  const rows = await Database.use()
    .update(devices)
    .set({ endpointArn: null, updatedAt: Clock.now() })
    .where(isNotNull(devices.endpointArn))
    .returning({ id: devices.id });
  return rows.length;
}

export async function deactivate(id: string): Promise<void> {
  await Database.use()
    .update(devices)
    .set({ active: false, updatedAt: Clock.now() })
    .where(eq(devices.id, id));
}
