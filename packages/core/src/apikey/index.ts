import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import * as Actor from "../actor";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import * as Fact from "../fact";
import { apiKeys } from "./apikey.sql";

export const scopes = [
  "emails:send",
  "sms:send",
  "push:send",
  "otp:send",
  "otp:verify",
  "notifications:read",
  "templates:read",
  "templates:write",
  "suppressions:read",
  "suppressions:write",
  "preferences:read",
  "preferences:write",
  "audit:read",
  "admin",
] as const;
export const Scope = z.enum(scopes);
export type Scope = z.infer<typeof Scope>;

/** What a request may accept as a key: ours (`prg_` + 43 chars) or a bootstrap key. */
export const Secret = z.string().regex(/^[A-Za-z0-9_-]{32,128}$/, {
  message: "must be 32-128 characters from [A-Za-z0-9_-]",
});

export const Name = z.string().trim().min(1).max(100);

export const Info = z.object({
  id: z.uuid(),
  projectId: z.uuid(),
  name: z.string(),
  hint: z.string().meta({ description: "First and last four characters of the key" }),
  scopes: z.array(Scope),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
});
export type Info = z.infer<typeof Info>;

const KeyData = z.object({ keyId: z.uuid().meta({ description: "The API key" }) });

/** A fact about a key whose data is its id alone. */
const aboutKey = (type: string) =>
  Fact.define(type, { version: 1, subject: "keyId", data: KeyData });

export const facts = {
  created: aboutKey("key.created"),
  revoked: aboutKey("key.revoked"),
};

/** What a valid key is: the API makes it the request's actor. */
export interface Principal {
  keyId: string;
  projectId: string;
  scopes: Scope[];
}

const hash = (secret: string) => createHash("sha256").update(secret).digest("hex");
const hint = (secret: string) => `${secret.slice(0, 4)}…${secret.slice(-4)}`;

/** How long a refused key is answered from memory, and how many keys are remembered. */
export const refusalMemory = { ttlMs: 60_000, maxKeys: 10_000 } as const;
/**
 * How long a valid key is answered from memory: a key revoked through another process (another
 * Lambda instance, the CLI) still works here for at most this long; revoked through this one, it is
 * refused at once.
 */
export const acceptanceMemory = { ttlMs: 5_000 } as const;

/**
 * Lookups under way and keys answered lately, by hash, so that a busy key costs one query every
 * few seconds and a flood of one bad key one query a minute: concurrent requests share the lookup,
 * later ones get its answer until `until`.
 */
const recent = new Map<string, { answer: Promise<Principal>; until: number }>();

function toInfo(row: typeof apiKeys.$inferSelect): Info {
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    hint: row.hint,
    scopes: row.scopes as Scope[],
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

export function generateSecret(): string {
  return `prg_${randomBytes(32).toString("base64url")}`;
}

/**
 * Creates a key in the actor's project (and its `key.created` fact); its secret is returned here
 * and never again.
 */
export async function create(input: {
  name: string;
  scopes: Scope[];
}): Promise<Info & { secret: string }> {
  const projectId = Actor.projectId();
  const secret = generateSecret();
  const row = await Database.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiKeys)
      .values({
        projectId,
        name: Name.parse(input.name),
        hash: hash(secret),
        hint: hint(secret),
        scopes: [...new Set(input.scopes)],
        createdAt: Clock.now(),
      })
      .returning();
    await Fact.emit(facts.created, projectId, { keyId: row!.id });
    return row!;
  });
  return { ...toInfo(row), secret };
}

/**
 * Makes `secret` an active key of the actor's project with every scope, whatever its previous
 * state: the operator who sets PREGON_BOOTSTRAP_API_KEY means for that key to work.
 */
export async function ensure(input: { name: string; secret: string }) {
  const values = {
    projectId: Actor.projectId(),
    name: Name.parse(input.name),
    hash: hash(Secret.parse(input.secret)),
    hint: hint(input.secret),
    scopes: [...scopes],
    createdAt: Clock.now(),
  };
  const [row] = await Database.use()
    .insert(apiKeys)
    .values(values)
    .onConflictDoUpdate({
      target: apiKeys.hash,
      set: { projectId: values.projectId, scopes: values.scopes, revokedAt: null },
    })
    .returning();
  // Refused a moment ago perhaps; it works from now on.
  recent.delete(values.hash);
  return toInfo(row!);
}

async function lookup(keyHash: string): Promise<Principal> {
  const [row] = await Database.use().select().from(apiKeys).where(eq(apiKeys.hash, keyHash));
  if (!row) throw new AppError("invalid_api_key", "The API key is not valid");
  if (row.revokedAt) throw new AppError("api_key_revoked", "The API key has been revoked");
  return { keyId: row.id, projectId: row.projectId, scopes: row.scopes as Scope[] };
}

/** The key's principal; a missing, malformed, unknown or revoked key is refused (AppError). */
export async function authenticate(secret: string | undefined): Promise<Principal> {
  if (!secret)
    throw new AppError("missing_api_key", "Send your API key as 'Authorization: Bearer <key>'");
  // No key has another form: refused without a query.
  if (!Secret.safeParse(secret).success) {
    throw new AppError("invalid_api_key", "The API key is not valid");
  }
  const keyHash = hash(secret);
  const now = Clock.now().getTime();
  const known = recent.get(keyHash);
  if (known && known.until > now) return known.answer;
  recent.delete(keyHash);
  if (recent.size >= refusalMemory.maxKeys) recent.delete(recent.keys().next().value!);
  const entry = { answer: lookup(keyHash), until: now + refusalMemory.ttlMs };
  recent.set(keyHash, entry);
  const forget = () => {
    if (recent.get(keyHash) === entry) recent.delete(keyHash);
  };
  // A failed query is not remembered: the next request looks the key up again.
  entry.answer.then(
    () => {
      entry.until = Clock.now().getTime() + acceptanceMemory.ttlMs;
    },
    (error) => {
      if (!(error instanceof AppError)) forget();
    },
  );
  return entry.answer;
}

/** Refuses an actor that is not a key or token holding `scope` (`admin` holds every scope). */
export function assertScope(scope: Scope): void {
  const actor = Actor.use();
  const scopes = actor.type === "key" || actor.type === "token" ? actor.scopes : [];
  if (!scopes.includes(scope) && !scopes.includes("admin")) {
    const caller = actor.type === "token" ? "token" : "API key";
    throw new AppError("missing_scope", `This ${caller} lacks the '${scope}' scope`);
  }
}

/** A key of the actor's project. */
export async function get(id: string): Promise<Info> {
  const projectId = Actor.projectId();
  if (!Database.isUuid(id)) throw new AppError("not_found", `API key ${id} not found`);
  const [row] = await Database.use()
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, projectId), eq(apiKeys.id, id)));
  if (!row) throw new AppError("not_found", `API key ${id} not found`);
  return toInfo(row);
}

/** The actor's project's keys, newest first. */
export async function list(): Promise<Info[]> {
  const projectId = Actor.projectId();
  const rows = await Database.use()
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.projectId, projectId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
  return rows.map(toInfo);
}

/** Revokes a key of the actor's project (with a `key.revoked` fact); revoking again changes nothing. */
export async function revoke(id: string): Promise<Info> {
  const projectId = Actor.projectId();
  if (!Database.isUuid(id)) throw new AppError("not_found", `API key ${id} not found`);
  const row = await Database.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: Clock.now() })
      .where(and(eq(apiKeys.projectId, projectId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    if (row) await Fact.emit(facts.revoked, projectId, { keyId: row.id });
    return row;
  });
  // Lookups under way may have read the key before the revocation: every key is looked up again.
  recent.clear();
  return row ? toInfo(row) : get(id);
}
