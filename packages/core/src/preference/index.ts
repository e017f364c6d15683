import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Category from "../category";
import { categories } from "../category/category.sql";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import * as Fact from "../fact";
import { recipientHmac } from "../notification";
import * as Outbox from "../outbox";
import { preferences } from "./preference.sql";
import { type Claims, tokenOf, verify } from "./token";

export { type Claims, verify };

export const Source = z.enum(["link", "api"]);
export type Source = z.infer<typeof Source>;

const factData = z.object({
  category: Category.Key.meta({ description: "The category of email, by its key" }),
  recipientHmac: z.string().meta({
    // The same words as the deliveries' field of that name: one meaning per field.
    description:
      "HMAC-SHA256 of the recipient's address (never the address), the same for the same address of a project's channel; null for deliveries older than it",
  }),
  source: Source.meta({
    description:
      "`link`: the recipient, through a signed link (List-Unsubscribe); `api`: the project, through the API",
  }),
});

export const facts = {
  unsubscribed: Fact.define("recipient.unsubscribed", {
    version: 1,
    subject: null,
    data: factData,
  }),
  subscribed: Fact.define("recipient.subscribed", { version: 1, subject: null, data: factData }),
};

export const Info = z.object({
  category: Category.Key,
  subscribed: z.boolean().meta({ description: "Whether sends of this category reach them" }),
  source: z
    .enum(["default", ...Source.options])
    .meta({ description: "`default`: they never chose (the category's default applies)" }),
  updatedAt: z.iso.datetime().nullable().meta({ description: "When they chose; null if never" }),
});
export type Info = z.infer<typeof Info>;

let publicUrl: string | undefined;

/** Entry points that send email set the public base URL of the `/u/{token}` links once at start. */
export function configure(options: { publicUrl: string }): void {
  publicUrl = new URL(options.publicUrl).href.replace(/\/$/, "");
}

/**
 * The unsubscribe link of one recipient of one category, and the headers that announce it
 * (RFC 2369 `List-Unsubscribe`, RFC 8058 one-click `List-Unsubscribe-Post`).
 */
export function linkOf(claims: Claims): { url: string; headers: Record<string, string> } {
  if (!publicUrl)
    throw new Error("Public URL not configured: call Preference.configure() at start");
  const url = `${publicUrl}/u/${tokenOf(claims)}`;
  return {
    url,
    headers: {
      "List-Unsubscribe": `<${url}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
  };
}

/**
 * Of these recipients (by HMAC), those a send of `category` of the actor's project must skip: they
 * opted out, or never opted in to a category that starts opted out.
 */
export async function optedOut(
  category: Pick<Category.Info, "key" | "optedInByDefault">,
  hmacs: string[],
): Promise<Set<string>> {
  if (hmacs.length === 0) return new Set();
  const rows = await Database.use().execute<{ recipient_hmac: string; subscribed: boolean }>(sql`
    select recipient_hmac, subscribed from ${preferences}
    where project_id = ${Actor.projectId()} and category = ${category.key}
      and recipient_hmac in (select json_array_elements_text(${JSON.stringify(hmacs)}::json))`);
  const chosen = new Map(rows.map((row) => [row.recipient_hmac, row.subscribed]));
  return new Set(hmacs.filter((hmac) => !(chosen.get(hmac) ?? category.optedInByDefault)));
}

/**
 * Records a recipient's choice for a category of the actor's project, with a
 * `recipient.unsubscribed` or `recipient.subscribed` fact in the same statement when it changes
 * what they get; the same choice again writes nothing. 404 for a category the project lacks.
 */
export async function set(input: {
  category: string;
  recipientHmac: string;
  subscribed: boolean;
  source: Source;
}): Promise<void> {
  const { category, recipientHmac: hmac, subscribed, source } = input;
  await Category.get(category);
  const projectId = Actor.projectId();
  const now = Clock.now().toISOString();
  await Outbox.addFrom({
    change: sql`
      insert into ${preferences} (project_id, category, recipient_hmac, subscribed, source, updated_at)
      values (${projectId}, ${category}, ${hmac}, ${subscribed}, ${source}, ${now})
      on conflict (project_id, category, recipient_hmac) do update
        set subscribed = excluded.subscribed, source = excluded.source, updated_at = excluded.updated_at
        where ${preferences}.subscribed <> excluded.subscribed
      returning project_id, category, recipient_hmac, source`,
    topic: "events",
    body: Fact.sqlOf(subscribed ? facts.subscribed : facts.unsubscribed, sql`changed.project_id`, {
      category: sql`changed.category`,
      recipientHmac: sql`changed.recipient_hmac`,
      source: sql`changed.source`,
    }),
  });
}

/** The hmac an address of the actor's project is known by. */
const hmacOf = (address: string) => recipientHmac(Actor.projectId(), "email", address);

/** Sets an address's choice for a category of the actor's project (the API's way). */
export const setFor = (address: string, category: string, subscribed: boolean) =>
  set({ category, recipientHmac: hmacOf(address), subscribed, source: "api" });

/** A recipient's choices for every category of the actor's project, defaults included. */
export async function list(hmac: string): Promise<Info[]> {
  const rows = await Database.use()
    .select({
      category: categories.key,
      optedInByDefault: categories.optedInByDefault,
      subscribed: preferences.subscribed,
      source: preferences.source,
      updatedAt: preferences.updatedAt,
    })
    .from(categories)
    .leftJoin(
      preferences,
      and(
        eq(preferences.projectId, categories.projectId),
        eq(preferences.category, categories.key),
        eq(preferences.recipientHmac, hmac),
      ),
    )
    .where(eq(categories.projectId, Actor.projectId()))
    .orderBy(categories.key);
  return rows.map((row) => ({
    category: row.category,
    subscribed: row.subscribed ?? row.optedInByDefault,
    source: (row.source as Source | null) ?? "default",
    updatedAt: row.updatedAt?.toISOString() ?? null,
  }));
}

/** An address's choices for every category of the actor's project (the API's way). */
export const listFor = (address: string) => list(hmacOf(address));

/** What a link's page shows: its category, and whether the recipient gets it now. */
export async function ofLink(
  claims: Claims,
): Promise<{ category: Category.Info; subscribed: boolean }> {
  const category = await Category.find(claims.projectId, claims.category);
  if (!category) throw new AppError("not_found", "No such link");
  const [choice] = (await list(claims.recipientHmac)).filter((p) => p.category === category.key);
  return { category, subscribed: choice?.subscribed ?? category.optedInByDefault };
}
