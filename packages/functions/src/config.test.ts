import { describe, expect, it } from "vitest";
import { databaseUrl, linkedEnv, loadLambdaConfig } from "./config";

describe("Lambda configuration", () => {
  it("takes the API reference's script origin as an https origin alone", () => {
    const base = { DATABASE_URL: "postgres://x@y/z" };
    const origin = "https://d111111abcdef8.cloudfront.net";
    expect(loadLambdaConfig(base).docsOrigin).toBeUndefined();
    expect(loadLambdaConfig({ ...base, PREGON_DOCS_ORIGIN: origin }).docsOrigin).toBe(origin);
    for (const wrong of [`${origin}/docs`, `${origin}/`, "http://d111111abcdef8.cloudfront.net"]) {
      expect(() => loadLambdaConfig({ ...base, PREGON_DOCS_ORIGIN: wrong }), wrong).toThrow(
        /PREGON_DOCS_ORIGIN/,
      );
    }
  });

  it("requires DATABASE_URL; the pepper only where OTP is used (startLambda)", () => {
    expect(() => loadLambdaConfig({})).toThrow(/DATABASE_URL/);
    expect(loadLambdaConfig({ DATABASE_URL: "postgres://x@y/z" }).otpPepper).toBeUndefined();
    expect(() =>
      loadLambdaConfig({ DATABASE_URL: "postgres://x@y/z", PREGON_OTP_PEPPER: "short" }),
    ).toThrow(/PREGON_OTP_PEPPER: must have 32 characters or more/);
    const pepper = "p".repeat(32);
    expect(
      loadLambdaConfig({ DATABASE_URL: "postgres://x@y/z", PREGON_OTP_PEPPER: pepper }),
    ).toMatchObject({
      databaseUrl: "postgres://x@y/z",
      otpPepper: pepper,
      emailSenderConcurrency: 2,
      sesMaxSendRate: undefined,
      push: { apns: undefined, fcm: undefined, apnsSandbox: false },
    });
  });
});

describe("SST links", () => {
  const proxy = {
    host: "pregon-production-databaseproxy.proxy-abc.us-east-1.rds.amazonaws.com",
    port: 5432,
    username: "postgres",
    password: "p@ss/w:rd",
    database: "pregon",
  };

  it("turn Resource.Database into a TLS-verified URL, and keep loopback (sst dev) plain", () => {
    const url = databaseUrl(proxy);
    expect(url).toBe(
      `postgres://postgres:p%40ss%2Fw%3Ard@${proxy.host}:5432/pregon?sslmode=verify-full`,
    );
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.password)).toBe(proxy.password);
    expect(databaseUrl({ ...proxy, host: "127.0.0.1", port: 54320 })).toBe(
      "postgres://postgres:p%40ss%2Fw%3Ard@127.0.0.1:54320/pregon",
    );
  });

  const app = { ...proxy, username: "pregon_app", password: "app-secret" };

  it("become the variables the configuration reads", () => {
    const pepper = "q".repeat(40);
    const linked = { AppDatabase: app, OtpPepper: { value: pepper } };
    expect(linkedEnv({})).toEqual({});
    const env = linkedEnv(linked);
    expect(loadLambdaConfig(env)).toMatchObject({
      databaseUrl: databaseUrl(app),
      databaseOwnerUrl: undefined,
      otpPepper: pepper,
    });
    expect(() => linkedEnv({ AppDatabase: { host: "h" } })).toThrow();
  });

  it("connect a function as the application role; the owner (master user) only where linked, the Migrator", () => {
    const functionEnv = linkedEnv({ AppDatabase: app });
    expect(new URL(functionEnv.DATABASE_URL!).username).toBe("pregon_app");
    expect(JSON.stringify(functionEnv)).not.toContain(encodeURIComponent(proxy.password));
    const migrator = loadLambdaConfig(linkedEnv({ AppDatabase: app, Database: proxy }));
    expect(migrator.databaseUrl).toBe(databaseUrl(app));
    expect(migrator.databaseOwnerUrl).toBe(databaseUrl(proxy));
  });
});
