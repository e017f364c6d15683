import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { Actor, ApiKey, AppError, Clock, Database, Project } from "../index";

async function twoProjects() {
  const suffix = Math.random().toString(36).slice(2);
  return Promise.all([Project.create(`a-${suffix}`), Project.create(`b-${suffix}`)]);
}

/** Runs `work` as an operator of `project`. */
const inProject = <T>(project: { id: string }, work: () => Promise<T>) =>
  Actor.provide({ type: "system", reason: "cli", projectId: project.id }, work);

const reasonOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "resolved",
    (error) => (error instanceof AppError ? error.reason : `unexpected: ${error}`),
  );

describe("API keys", () => {
  it("authenticates a new key and keeps only its SHA-256", async () => {
    const [project] = await twoProjects();
    const key = await inProject(project, () =>
      ApiKey.create({ name: "ci", scopes: ["emails:send"] }),
    );

    expect(key.secret).toMatch(/^prg_[A-Za-z0-9_-]{43}$/);
    expect(await ApiKey.authenticate(key.secret)).toEqual({
      keyId: key.id,
      projectId: project.id,
      scopes: ["emails:send"],
    });
    const rows = await Database.use().execute(sql`select * from api_keys where id = ${key.id}`);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(key.secret);
    expect(stored).not.toContain(key.secret.slice(4, 20));
    const { createHash } = await import("node:crypto");
    expect(stored).toContain(createHash("sha256").update(key.secret).digest("hex"));
  });

  it("refuses missing, unknown and revoked keys with distinct reasons", async () => {
    const [project] = await twoProjects();
    const key = await inProject(project, () => ApiKey.create({ name: "x", scopes: ["admin"] }));
    expect(await reasonOf(ApiKey.authenticate(undefined))).toBe("missing_api_key");
    expect(await reasonOf(ApiKey.authenticate(`${key.secret}x`))).toBe("invalid_api_key");

    const revoked = await inProject(project, () => ApiKey.revoke(key.id));
    expect(revoked.revokedAt).not.toBeNull();
    expect(await reasonOf(ApiKey.authenticate(key.secret))).toBe("api_key_revoked");
    // Revoking again keeps the first revocation time.
    expect((await inProject(project, () => ApiKey.revoke(key.id))).revokedAt).toBe(
      revoked.revokedAt,
    );
  });

  it("never shows or revokes a key of another project", async () => {
    const [a, b] = await twoProjects();
    const key = await inProject(a, () => ApiKey.create({ name: "a", scopes: ["admin"] }));
    expect(await reasonOf(inProject(b, () => ApiKey.get(key.id)))).toBe("not_found");
    expect(await reasonOf(inProject(b, () => ApiKey.revoke(key.id)))).toBe("not_found");
    expect(await inProject(b, () => ApiKey.list())).toEqual([]);
    expect(await reasonOf(ApiKey.authenticate(key.secret))).toBe("resolved");
    expect(await reasonOf(inProject(a, () => ApiKey.get("not-a-uuid")))).toBe("not_found");
  });

  it("checks the actor's scopes, with admin holding all of them", () => {
    const actor = { type: "key", keyId: "k", projectId: "p", requestId: "r" } as const;
    const withScopes = (scopes: string[], scope: ApiKey.Scope) => () =>
      Actor.provide({ ...actor, scopes }, () => ApiKey.assertScope(scope));
    expect(withScopes(["emails:send"], "emails:send")).not.toThrow();
    expect(withScopes(["emails:send"], "otp:send")).toThrow(/otp:send/);
    expect(withScopes(["admin"], "otp:send")).not.toThrow();
    // Only a key holds scopes.
    const system = () =>
      Actor.provide({ type: "system", reason: "cli" }, () => ApiKey.assertScope("admin"));
    expect(system).toThrow(/admin/);
  });

  it("ensures a bootstrap key: full scope, revived if revoked, moved to the given project", async () => {
    const [a, b] = await twoProjects();
    const secret = "x".repeat(31) + Math.random().toString(36).slice(2);
    const first = await inProject(a, () => ApiKey.ensure({ name: "bootstrap", secret }));
    expect(first.scopes).toEqual([...ApiKey.scopes]);
    await inProject(a, () => ApiKey.revoke(first.id));

    const again = await inProject(b, () => ApiKey.ensure({ name: "bootstrap", secret }));
    expect(again.id).toBe(first.id);
    expect(await ApiKey.authenticate(secret)).toMatchObject({ projectId: b.id });
    expect(() => ApiKey.Secret.parse("short")).toThrow();
  });

  it("remembers a refused key for a while, unless this process makes it valid", async () => {
    const [project] = await twoProjects();
    const secret = `prg_${randomBytes(32).toString("base64url")}`;
    const clock = Clock.manual(new Date());
    const restore = Clock.use(clock);
    try {
      expect(await reasonOf(ApiKey.authenticate(secret))).toBe("invalid_api_key");
      // Made valid elsewhere (another process's ensure): refused from memory until the time passes.
      await Database.use().execute(sql`
        insert into api_keys (project_id, name, hash, hint, scopes, created_at)
        values (${project.id}, 'elsewhere', encode(sha256(convert_to(${secret}, 'UTF8')), 'hex'),
                'x', array['admin'], now())`);
      expect(await reasonOf(ApiKey.authenticate(secret))).toBe("invalid_api_key");
      clock.advance(ApiKey.refusalMemory.ttlMs + 1);
      expect(await reasonOf(ApiKey.authenticate(secret))).toBe("resolved");

      const bootstrap = `prg_${randomBytes(32).toString("base64url")}`;
      expect(await reasonOf(ApiKey.authenticate(bootstrap))).toBe("invalid_api_key");
      await inProject(project, () => ApiKey.ensure({ name: "bootstrap", secret: bootstrap }));
      expect(await reasonOf(ApiKey.authenticate(bootstrap))).toBe("resolved");
    } finally {
      restore();
    }
  });

  it("answers a valid key from memory for a few seconds, unless this process revokes it", async () => {
    const [project] = await twoProjects();
    const clock = Clock.manual(new Date());
    const restore = Clock.use(clock);
    try {
      const elsewhere = await inProject(project, () =>
        ApiKey.create({ name: "elsewhere", scopes: ["admin"] }),
      );
      expect(await reasonOf(ApiKey.authenticate(elsewhere.secret))).toBe("resolved");
      // Revoked by another process (another instance, the CLI): still accepted here, from memory,
      // for at most acceptanceMemory.ttlMs.
      await Database.use().execute(
        sql`update api_keys set revoked_at = now() where id = ${elsewhere.id}`,
      );
      clock.advance(ApiKey.acceptanceMemory.ttlMs - 1);
      expect(await reasonOf(ApiKey.authenticate(elsewhere.secret))).toBe("resolved");
      clock.advance(2);
      expect(await reasonOf(ApiKey.authenticate(elsewhere.secret))).toBe("api_key_revoked");

      const here = await inProject(project, () =>
        ApiKey.create({ name: "here", scopes: ["admin"] }),
      );
      expect(await reasonOf(ApiKey.authenticate(here.secret))).toBe("resolved");
      await inProject(project, () => ApiKey.revoke(here.id));
      expect(await reasonOf(ApiKey.authenticate(here.secret))).toBe("api_key_revoked");
    } finally {
      restore();
    }
  });

  it("takes its times from the clock", async () => {
    const [project] = await twoProjects();
    const restore = Clock.use(Clock.manual(new Date("2030-01-02T03:04:05.000Z")));
    try {
      const key = await inProject(project, () => ApiKey.create({ name: "t", scopes: ["admin"] }));
      expect(key.createdAt).toBe("2030-01-02T03:04:05.000Z");
    } finally {
      restore();
    }
  });
});
