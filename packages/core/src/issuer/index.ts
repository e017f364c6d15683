import { and, asc, eq, inArray } from "drizzle-orm";
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { z } from "zod";
import * as Actor from "../actor";
import * as ApiKey from "../apikey";
import * as Clock from "../clock";
import * as Database from "../db";
import { AppError } from "../error";
import * as Fact from "../fact";
import * as Fetch from "../fetch";
import * as Log from "../log";
import { trustedIssuers } from "./issuer.sql";

export { UnsafeUrl } from "../fetch";

/** The signature algorithms a token may use: asymmetric ones only (no `none`, no HS*). */
export const algorithms = ["RS256", "ES256", "EdDSA"];

/** Clock skew tolerated between the issuer and Pregón on `exp`, `nbf` and `iat`. */
export const leewaySeconds = 60;

/** A token longer than this is refused before anything else. */
const maxTokenLength = 8192;

export interface Settings extends Fetch.Rules {
  /** How long an issuer's keys are used before they are fetched again. */
  cacheMaxAgeMs: number;
  /** The least time between two fetches of an issuer's keys (a token with an unknown `kid`). */
  cooldownMs: number;
}

const defaults: Settings = {
  allowLoopback: false,
  timeoutMs: 5_000,
  maxBytes: 256 * 1024,
  cacheMaxAgeMs: 10 * 60_000,
  cooldownMs: 30_000,
};
let settings = defaults;

/** Entry points set what differs from the defaults at start (the local stack allows loopback). */
export function configure(changes: Partial<Settings>): void {
  settings = { ...defaults, ...changes };
  keySets.clear();
}

const Url = z.url({ protocol: /^https?$/ }).max(2000);

export const ScopeClaim = z.enum(["scope", "scp"]);

export const Info = z.object({
  id: z.uuid(),
  projectId: z.uuid(),
  issuer: z.string().meta({ description: "The `iss` tokens carry, compared exactly" }),
  audience: z.string().meta({ description: "The `aud` tokens must carry, compared exactly" }),
  jwksUrl: z
    .string()
    .nullable()
    .meta({ description: "Its keys; null: found by OpenID discovery from the issuer" }),
  scopeClaim: ScopeClaim.nullable().meta({
    description: "The claim whose scopes a token holds, or null when `scopes` is fixed",
  }),
  scopes: z
    .array(ApiKey.Scope)
    .nullable()
    .meta({ description: "The scopes every token of this issuer holds, or null" }),
  createdAt: z.iso.datetime(),
});
export type Info = z.infer<typeof Info>;

const IssuerData = z.object({ issuerId: z.uuid().meta({ description: "The trusted issuer" }) });

/** A fact about a trusted issuer whose data is its id alone. */
const aboutIssuer = (type: string) =>
  Fact.define(type, { version: 1, subject: "issuerId", data: IssuerData });

export const facts = {
  created: aboutIssuer("issuer.created"),
  removed: aboutIssuer("issuer.removed"),
};

export const CreateInput = z
  .strictObject({
    issuer: Url.meta({ description: "The issuer URL, as tokens carry it in `iss`" }),
    audience: z.string().min(1).max(500),
    jwksUrl: Url.optional().meta({
      description: "Where its keys are; without it, `<issuer>/.well-known/openid-configuration`",
    }),
    scopeClaim: ScopeClaim.optional().meta({
      description: "Take each token's scopes from this claim (space-separated or a list)",
    }),
    scopes: z.array(ApiKey.Scope).min(1).optional().meta({
      description: "Or give every token of this issuer these scopes",
    }),
  })
  .refine((input) => (input.scopeClaim === undefined) !== (input.scopes === undefined), {
    message: "give either scopeClaim or scopes",
    path: ["scopes"],
  });
export type CreateInput = z.infer<typeof CreateInput>;

/** Who a valid token is: the API makes it the request's actor. */
export interface Principal {
  projectId: string;
  issuer: string;
  subject: string;
  scopes: ApiKey.Scope[];
}

function toInfo(row: typeof trustedIssuers.$inferSelect): Info {
  return {
    id: row.id,
    projectId: row.projectId,
    issuer: row.issuer,
    audience: row.audience,
    jwksUrl: row.jwksUrl,
    scopeClaim: row.scopeClaim as Info["scopeClaim"],
    scopes: row.scopes as ApiKey.Scope[] | null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Refuses a URL the server would not fetch, when it is given rather than when a token comes. */
async function assertFetchable(field: string, url: string) {
  try {
    await Fetch.check(url, settings);
  } catch (error) {
    if (!(error instanceof Fetch.UnsafeUrl)) throw error;
    throw new AppError("invalid_input", `${field}: ${error.message}`);
  }
}

/**
 * Trusts an issuer in the actor's project (with an `issuer.created` fact). Its URLs pass the same
 * rules now as when they are fetched.
 */
export async function create(input: CreateInput): Promise<Info> {
  const projectId = Actor.projectId();
  const parsed = CreateInput.parse(input);
  await assertFetchable(parsed.jwksUrl ? "jwksUrl" : "issuer", parsed.jwksUrl ?? parsed.issuer);
  const row = await Database.transaction(async (tx) => {
    const [row] = await tx
      .insert(trustedIssuers)
      .values({
        projectId,
        issuer: parsed.issuer,
        audience: parsed.audience,
        jwksUrl: parsed.jwksUrl ?? null,
        scopeClaim: parsed.scopeClaim ?? null,
        scopes: parsed.scopes ? [...new Set(parsed.scopes)] : null,
        createdAt: Clock.now(),
      })
      .onConflictDoNothing({ target: [trustedIssuers.issuer, trustedIssuers.audience] })
      .returning();
    if (!row) {
      throw new AppError(
        "already_exists",
        "This issuer is already trusted with this audience (in this or another project)",
      );
    }
    await Fact.emit(facts.created, projectId, { issuerId: row.id });
    return row;
  });
  recent.clear();
  return toInfo(row);
}

/**
 * Makes `issuer` with `audience` a trusted issuer of the actor's project with these settings,
 * whatever it was (the local stack's development issuer, whose port may change).
 */
export async function ensure(input: CreateInput): Promise<Info> {
  const parsed = CreateInput.parse(input);
  const values = {
    projectId: Actor.projectId(),
    issuer: parsed.issuer,
    audience: parsed.audience,
    jwksUrl: parsed.jwksUrl ?? null,
    scopeClaim: parsed.scopeClaim ?? null,
    scopes: parsed.scopes ?? null,
    createdAt: Clock.now(),
  };
  const [row] = await Database.use()
    .insert(trustedIssuers)
    .values(values)
    .onConflictDoUpdate({
      target: [trustedIssuers.issuer, trustedIssuers.audience],
      set: { ...values, createdAt: undefined },
    })
    .returning();
  recent.clear();
  return toInfo(row!);
}

/** The actor's project's trusted issuers, oldest first. */
export async function list(): Promise<Info[]> {
  const rows = await Database.use()
    .select()
    .from(trustedIssuers)
    .where(eq(trustedIssuers.projectId, Actor.projectId()))
    .orderBy(asc(trustedIssuers.createdAt), asc(trustedIssuers.id));
  return rows.map(toInfo);
}

/** Stops trusting an issuer of the actor's project (with an `issuer.removed` fact). */
export async function remove(id: string): Promise<Info> {
  const projectId = Actor.projectId();
  if (!Database.isUuid(id)) throw new AppError("not_found", `Issuer ${id} not found`);
  const row = await Database.transaction(async (tx) => {
    const [row] = await tx
      .delete(trustedIssuers)
      .where(and(eq(trustedIssuers.projectId, projectId), eq(trustedIssuers.id, id)))
      .returning();
    if (!row) throw new AppError("not_found", `Issuer ${id} not found`);
    await Fact.emit(facts.removed, projectId, { issuerId: row.id });
    return row;
  });
  return toInfo(row);
}

/** A bearer value shaped as a JWS in compact form (an API key never has a dot). */
export function isToken(bearer: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(bearer);
}

const invalid = (why: string) => new AppError("invalid_token", `The token is not valid: ${why}`);
const expired = () => new AppError("token_expired", "The token has expired");

/** The claims a token says it has, read without trusting them: what is checked before any query. */
function claimsOf(token: string): JWTPayload & { iss: string; aud: string[] } {
  if (token.length > maxTokenLength) throw invalid(`longer than ${maxTokenLength} characters`);
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    throw invalid("malformed");
  }
  if (!header.alg || !algorithms.includes(header.alg)) {
    throw invalid(`the algorithm must be one of ${algorithms.join(", ")}`);
  }
  if (typeof claims.iss !== "string") throw invalid("no 'iss' claim");
  if (typeof claims.exp !== "number") throw invalid("no 'exp' claim");
  const now = Clock.now().getTime() / 1000;
  if (claims.exp <= now - leewaySeconds) throw expired();
  const aud = typeof claims.aud === "string" ? [claims.aud] : (claims.aud ?? []);
  if (aud.length === 0 || aud.length > 10) throw invalid("'aud' must name 1 to 10 audiences");
  return { ...claims, iss: claims.iss, aud };
}

/** How long an unknown issuer is answered from memory, and how many are remembered. */
const refusalMemory = { ttlMs: 60_000, maxEntries: 10_000 } as const;
/** (iss, aud) pairs refused lately: a flood of tokens from an unknown issuer costs one query. */
const recent = new Map<string, number>();

async function trustedIssuerOf(iss: string, aud: string[]) {
  const memo = JSON.stringify([iss, aud]);
  const now = Clock.now().getTime();
  const notTrusted = () =>
    new AppError("issuer_not_trusted", "No project trusts this token's issuer and audience");
  if ((recent.get(memo) ?? 0) > now) throw notTrusted();
  const [row] = await Database.use()
    .select()
    .from(trustedIssuers)
    .where(and(eq(trustedIssuers.issuer, iss), inArray(trustedIssuers.audience, aud)))
    .limit(1);
  if (!row) {
    recent.delete(memo);
    if (recent.size >= refusalMemory.maxEntries) recent.delete(recent.keys().next().value!);
    recent.set(memo, now + refusalMemory.ttlMs);
    throw notTrusted();
  }
  return row;
}

/**
 * Each issuer's keys, fetched once and kept (`cacheMaxAgeMs`); a `kid` they lack fetches them
 * again at most once per `cooldownMs`. Without a `jwksUrl`, the discovery document is read once,
 * and a failed discovery is not tried again before the cooldown has passed.
 */
const keySets = new Map<string, { keys: Promise<JWTVerifyGetKey>; failedAt?: number }>();

const fetchWithRules = (url: string, options: { signal?: AbortSignal }) =>
  Fetch.get(url, settings, options.signal);

async function discover(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const response = await Fetch.get(url, settings);
  if (response.status !== 200) throw new Error(`discovery answered ${response.status}`);
  const document = z
    .object({ issuer: z.string(), jwks_uri: z.string() })
    .safeParse(await response.json().catch(() => undefined));
  if (!document.success) throw new Error("discovery document without issuer and jwks_uri");
  if (document.data.issuer !== issuer) throw new Error("discovery names another issuer");
  return document.data.jwks_uri;
}

function keySetOf(row: typeof trustedIssuers.$inferSelect): Promise<JWTVerifyGetKey> {
  const memo = JSON.stringify([row.issuer, row.jwksUrl]);
  const known = keySets.get(memo);
  const now = Clock.now().getTime();
  if (known && (known.failedAt === undefined || known.failedAt + settings.cooldownMs > now)) {
    return known.keys;
  }
  const entry: { keys: Promise<JWTVerifyGetKey>; failedAt?: number } = {
    keys: (async () => {
      const jwksUrl = row.jwksUrl ?? (await discover(row.issuer));
      return createRemoteJWKSet(new URL(jwksUrl), {
        cacheMaxAge: settings.cacheMaxAgeMs,
        cooldownDuration: settings.cooldownMs,
        timeoutDuration: settings.timeoutMs,
        [customFetch]: fetchWithRules,
      });
    })(),
  };
  entry.keys.catch(() => {
    entry.failedAt = Clock.now().getTime();
  });
  keySets.set(memo, entry);
  return entry.keys;
}

/** The scopes a verified token holds under its issuer's mapping (unknown names are ignored). */
function scopesOf(row: typeof trustedIssuers.$inferSelect, claims: JWTPayload): ApiKey.Scope[] {
  if (row.scopes) return row.scopes as ApiKey.Scope[];
  const value = claims[row.scopeClaim ?? "scope"];
  const names = typeof value === "string" ? value.split(" ") : Array.isArray(value) ? value : [];
  return [...new Set(names.filter((name) => ApiKey.Scope.safeParse(name).success))];
}

/**
 * The token's principal. Cheap checks first (form, algorithm, expiry), then one query for the
 * issuer, then the signature against the issuer's cached keys. Refused with `invalid_token`,
 * `token_expired` or `issuer_not_trusted` (AppError).
 */
export async function authenticate(token: string): Promise<Principal> {
  const claims = claimsOf(token);
  const row = await trustedIssuerOf(claims.iss, claims.aud);
  let keys: JWTVerifyGetKey;
  try {
    keys = await keySetOf(row);
  } catch (error) {
    Log.logger.warn("issuer discovery failed", { issuer: row.issuer, reason: describe(error) });
    throw invalid("the issuer's keys could not be fetched");
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      algorithms,
      issuer: row.issuer,
      audience: row.audience,
      clockTolerance: leewaySeconds,
      requiredClaims: ["exp", "sub"],
      currentDate: Clock.now(),
    }));
  } catch (error) {
    throw refusalOf(error, row.issuer);
  }
  const now = Clock.now().getTime() / 1000;
  if (typeof payload.iat === "number" && payload.iat > now + leewaySeconds) {
    throw invalid("issued in the future");
  }
  return {
    projectId: row.projectId,
    issuer: row.issuer,
    subject: payload.sub!,
    scopes: scopesOf(row, payload),
  };
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** jose's verdict as Pregón's refusal. */
function refusalOf(error: unknown, issuer: string): AppError {
  if (error instanceof errors.JWTExpired) return expired();
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalid(error.claim === "nbf" ? "not valid yet" : `the '${error.claim}' claim`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return invalid("signed with an unknown key");
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid("bad signature");
  if (error instanceof errors.JOSEError) return invalid(error.code);
  // Fetching the keys failed: the URL refused, the issuer down or answering nonsense.
  Log.logger.warn("issuer keys unavailable", { issuer, reason: describe(error) });
  return invalid("the issuer's keys could not be fetched");
}
