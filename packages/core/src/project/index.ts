import { asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import { projects } from "./project.sql";

/** The project the local stack and `PREGON_BOOTSTRAP_API_KEY` use. */
export const defaultName = "default";

export const Name = z.string().trim().min(1).max(100);

export const Info = z.object({
  id: z.uuid(),
  name: z.string(),
  createdAt: z.iso.datetime(),
});
export type Info = z.infer<typeof Info>;

function toInfo(row: typeof projects.$inferSelect): Info {
  return { id: row.id, name: row.name, createdAt: row.createdAt.toISOString() };
}

export async function create(name: string): Promise<Info> {
  const [row] = await Database.use()
    .insert(projects)
    .values({ name: Name.parse(name), createdAt: Clock.now() })
    .onConflictDoNothing({ target: projects.name })
    .returning();
  if (!row) throw new AppError("already_exists", `A project named "${name}" already exists`);
  return toInfo(row);
}

/** Returns the project with this name, creating it if needed (safe to race). */
export async function ensure(name: string): Promise<Info> {
  const db = Database.use();
  await db
    .insert(projects)
    .values({ name: Name.parse(name), createdAt: Clock.now() })
    .onConflictDoNothing({ target: projects.name });
  const [row] = await db.select().from(projects).where(eq(projects.name, name));
  return toInfo(row!);
}

export async function get(id: string): Promise<Info> {
  if (!Database.isUuid(id)) throw new AppError("not_found", `Project ${id} not found`);
  const [row] = await Database.use().select().from(projects).where(eq(projects.id, id));
  if (!row) throw new AppError("not_found", `Project ${id} not found`);
  return toInfo(row);
}

export async function findByName(name: string): Promise<Info | undefined> {
  const [row] = await Database.use().select().from(projects).where(eq(projects.name, name));
  return row && toInfo(row);
}

export async function list(): Promise<Info[]> {
  const rows = await Database.use().select().from(projects).orderBy(asc(projects.createdAt));
  return rows.map(toInfo);
}

/**
 * Sets the limits a project's `channel` has (the rate limiter validates and reads them): those
 * given replace the channel's, and without any it is back to the defaults.
 */
export async function setLimits(id: string, channel: string, limits: object): Promise<void> {
  await Database.use()
    .update(projects)
    .set({
      limits: sql`jsonb_set(${projects.limits}, ${`{${channel}}`}::text[], ${JSON.stringify(limits)}::jsonb)`,
    })
    .where(eq(projects.id, id));
}
