import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import { categories } from "./category.sql";

/** The category of receipts, codes and alerts: no unsubscribe headers, no preferences. */
export const transactional = "transactional";

export const Key = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "1-63 lower-case letters, digits, `-` or `_`")
  .meta({ description: "The category's key, e.g. `newsletter`", example: "newsletter" });

/** A stored category's key: any key but the built-in one. */
export const CustomKey = Key.refine((key) => key !== transactional, {
  message: "`transactional` is built in",
});

export const Input = z.strictObject({
  name: z.string().min(1).max(200).meta({ description: "Shown to recipients" }),
  description: z
    .string()
    .max(1000)
    .nullable()
    .default(null)
    .meta({ description: "Shown to recipients on the preferences page" }),
  optedInByDefault: z.boolean().default(true).meta({
    description:
      "Whether recipients who never chose are sent this category (true: opt-out; false: opt-in)",
  }),
});
export type Input = z.infer<typeof Input>;

export const Info = z.object({
  key: Key,
  name: z.string(),
  description: z.string().nullable(),
  optedInByDefault: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Info = z.infer<typeof Info>;

type Row = typeof categories.$inferSelect;

const toInfo = (row: Row): Info => ({
  key: row.key,
  name: row.name,
  description: row.description,
  optedInByDefault: row.optedInByDefault,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** Creates or replaces a category of the actor's project. */
export async function put(key: string, input: Input): Promise<Info> {
  const now = Clock.now();
  const values = { ...input, updatedAt: now };
  const [row] = await Database.use()
    .insert(categories)
    .values({ projectId: Actor.projectId(), key, ...values, createdAt: now })
    .onConflictDoUpdate({ target: [categories.projectId, categories.key], set: values })
    .returning();
  return toInfo(row!);
}

/** The actor's project's categories, by key. */
export async function list(): Promise<Info[]> {
  const rows = await Database.use()
    .select()
    .from(categories)
    .where(eq(categories.projectId, Actor.projectId()))
    .orderBy(asc(categories.key));
  return rows.map(toInfo);
}

/** A category of `projectId`, or undefined. */
export async function find(projectId: string, key: string): Promise<Info | undefined> {
  const [row] = await Database.use()
    .select()
    .from(categories)
    .where(and(eq(categories.projectId, projectId), eq(categories.key, key)));
  return row && toInfo(row);
}

/** A category of the actor's project; 404 `category_not_found` if it has none of that key. */
export async function get(key: string): Promise<Info> {
  const found = await find(Actor.projectId(), key);
  if (!found) throw new AppError("category_not_found", `Category ${key} not found`);
  return found;
}
