import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import * as Fact from "../fact";
import { budget, type Content, compile, type Rendered, render, type Variables } from "./render";
import type { Store } from "./store";
import { templates } from "./template.sql";

export {
  type Budget,
  budget,
  type Compiled,
  type Content,
  compile,
  compileText,
  limits,
  loadEngines,
  type Rendered,
  render,
  renderSubject,
  renderText,
  type Variables,
} from "./render";
export { fileStore, type Store } from "./store";

/** A template's name: a single path segment of the project's own prefix, never `..` or a URL. */
export const Key = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "letters, digits, '.', '_' and '-' (at most 128)")
  .refine((key) => !key.includes(".."), "must not contain '..'");

export const Locale = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Z]{2}|-\d{3})?$/, "a language tag such as es or es-MX");

export const Source = z.object({
  subject: z.string().min(1).max(998).meta({ description: "LiquidJS template" }),
  html: z.string().min(1).meta({ description: "LiquidJS template; values are HTML-escaped" }),
  text: z.string().min(1).optional().meta({ description: "LiquidJS template" }),
});
export type Source = z.infer<typeof Source>;

export const facts = {
  changed: Fact.define("template.changed", {
    version: 1,
    subject: "templateKey",
    data: z.object({
      templateKey: z.string().meta({ description: "The template's key" }),
      locale: z.string().meta({ description: "The locale stored: a language tag or `default`" }),
    }),
  }),
};

export const Info = z.object({
  key: z.string(),
  locale: z.string().meta({ description: "The locale stored: a language tag or `default`" }),
  version: z.string().meta({ description: "The immutable stored version; sends record it" }),
  updatedAt: z.iso.datetime(),
});
export type Info = z.infer<typeof Info>;

/** The stored version a send renders: recorded on its notification. */
export interface Ref {
  key: string;
  locale: string;
  version: string;
}

const defaultLocale = "default";

let store: Store | undefined;

/** Entry points set the store once at start. */
export function configure(value: Store): void {
  store = value;
}

function use(): Store {
  if (!store) throw new Error("Template store not configured: call Template.configure() at start");
  return store;
}

const toInfo = (row: typeof templates.$inferSelect): Info => ({
  key: row.key,
  locale: row.locale,
  version: row.version,
  updatedAt: row.updatedAt.toISOString(),
});

/** Stores a new version (after checking it compiles) and makes it the current one. */
export async function put(key: string, locale: string | undefined, source: Source): Promise<Info> {
  const projectId = Actor.projectId();
  await compile(source);
  const now = Clock.now();
  const stored = locale ?? defaultLocale;
  // Time-ordered and unique: versions list in the order they were written.
  const id = `${now.getTime().toString(36).padStart(9, "0")}-${randomUUID()}`;
  const version = `projects/${projectId}/templates/${Key.parse(key)}/${stored}/${id}.json`;
  await use().put(version, JSON.stringify(source));
  const row = await Database.transaction(async (tx) => {
    const [row] = await tx
      .insert(templates)
      .values({ projectId, key, locale: stored, version, updatedAt: now })
      .onConflictDoUpdate({
        target: [templates.projectId, templates.key, templates.locale],
        set: { version, updatedAt: now },
      })
      .returning();
    await Fact.emit(facts.changed, projectId, { templateKey: key, locale: stored });
    return row!;
  });
  return toInfo(row);
}

/** The actor's project's template: `es-MX` → `es-MX`, `es`, `default`, the first that exists. */
export async function resolve(key: string, locale?: string): Promise<Info> {
  const projectId = Actor.projectId();
  const candidates = [...new Set([locale, locale?.split("-")[0], defaultLocale])].filter(
    (c): c is string => Boolean(c),
  );
  const rows = await Database.use()
    .select()
    .from(templates)
    .where(
      and(
        eq(templates.projectId, projectId),
        eq(templates.key, key),
        inArray(templates.locale, candidates),
      ),
    );
  const row = candidates.map((c) => rows.find((r) => r.locale === c)).find(Boolean);
  if (!row) throw new AppError("template_not_found", `Template "${key}" not found`);
  return toInfo(row);
}

/** The version a send of `key` renders and records (see `resolve`). */
export async function ref(key: string, locale?: string): Promise<Ref> {
  const info = await resolve(key, locale);
  return { key: info.key, locale: info.locale, version: info.version };
}

const cache = new Map<string, Source>();
const cacheSize = 500;

/** A stored version's source. Versions never change, so each is fetched once per process. */
export async function load(version: string): Promise<Source> {
  const hit = cache.get(version);
  if (hit) return hit;
  const source = Source.parse(JSON.parse(await use().get(version)));
  if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
  cache.set(version, source);
  return source;
}

export async function get(key: string, locale?: string) {
  const info = await resolve(key, locale);
  return { ...info, ...(await load(info.version)) };
}

export async function list(): Promise<Info[]> {
  const projectId = Actor.projectId();
  const rows = await Database.use()
    .select()
    .from(templates)
    .where(eq(templates.projectId, projectId))
    .orderBy(asc(templates.key), asc(templates.locale));
  return rows.map(toInfo);
}

export async function preview(
  key: string,
  locale: string | undefined,
  variables: Variables,
): Promise<Info & Rendered> {
  const info = await resolve(key, locale);
  const source: Content = await load(info.version);
  return { ...info, ...render(await compile(source), variables, budget()) };
}
