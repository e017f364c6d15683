import { index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { projects } from "../project/project.sql";

/**
 * The identity providers a project trusts: a token whose `iss` and `aud` match a row acts in its
 * project. An (issuer, audience) pair is unique across projects, so a token names one project.
 */
export const trustedIssuers = pgTable(
  "trusted_issuers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id),
    /** The `iss` tokens carry, exactly. */
    issuer: text("issuer").notNull(),
    /** The `aud` tokens must carry, exactly. */
    audience: text("audience").notNull(),
    /** Where its keys are; without it, the issuer's OpenID discovery document says. */
    jwksUrl: text("jwks_url"),
    /** The claim that carries the token's scopes (`scope` or `scp`), or null for fixed scopes. */
    scopeClaim: text("scope_claim"),
    /** The scopes every token of this issuer has, or null when a claim carries them. */
    scopes: text("scopes").array(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("trusted_issuers_issuer_audience_idx").on(t.issuer, t.audience),
    index("trusted_issuers_project_id_idx").on(t.projectId),
  ],
);
