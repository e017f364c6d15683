import { describe, expect, it } from "vitest";
import { databaseUrl, linkedEnv, loadLambdaConfig, loadLocalConfig } from "./config";

describe("local configuration", () => {
  it("defaults every setting of DESIGN.md §5", () => {
    expect(loadLocalConfig({})).toEqual({
      port: 3000,
      databaseUrl: undefined,
      databaseOwnerUrl: undefined,
      dataDir: ".pregon",
      pgPort: 54320,
      awsPort: 4566,
      mailboxPort: 8005,
      email: { from: "Pregón <no-reply@pregon.localhost>", senders: ["@pregon.localhost"] },
      sms: {
        countries: ["ES", "MX", "AR", "CO", "CL", "PE", "US", "CA", "GB"],
        senderId: undefined,
        originationNumber: undefined,
        rate: 20,
      },
      publicUrl: "http://localhost:3000",
      reputation: { windowHours: 24, minVolume: { project: 500, account: 1000 } },
      sesMaxSendRate: 200,
      bootstrapApiKey: undefined,
      otpPepper: undefined,
      region: "us-east-1",
      jwtAllowLoopback: true,
    });
  });

  it("reads every variable, treating empty as unset", () => {
    const config = loadLocalConfig({
      PORT: "8080",
      DATABASE_URL: "postgres://u:p@db.internal:5432/pregon",
      PREGON_DATA_DIR: "/var/lib/pregon",
      PREGON_PG_PORT: "6543",
      PREGON_AWS_PORT: "0",
      PREGON_MAILBOX_PORT: "9005",
      PREGON_EMAIL_FROM: "no-reply@example.com",
      PREGON_BOOTSTRAP_API_KEY: "",
      PREGON_JWT_ALLOW_LOOPBACK: "false",
      PREGON_PUBLIC_URL: "https://api.example.com",
      PREGON_REPUTATION_WINDOW_HOURS: "6",
      PREGON_REPUTATION_MIN_VOLUME: "100",
    });
    expect(config).toMatchObject({
      publicUrl: "https://api.example.com",
      reputation: { windowHours: 6, minVolume: { project: 100, account: 1000 } },
      port: 8080,
      databaseUrl: "postgres://u:p@db.internal:5432/pregon",
      dataDir: "/var/lib/pregon",
      pgPort: 6543,
      awsPort: 0,
      mailboxPort: 9005,
      email: { from: "no-reply@example.com", senders: ["@example.com"] },
      bootstrapApiKey: undefined,
      jwtAllowLoopback: false,
    });
  });

  it("accepts bootstrap keys of 32 to 128 characters of [A-Za-z0-9_-] only", () => {
    const key = (length: number, char = "a") => char.repeat(length);
    for (const ok of [key(32), key(128), `${key(30)}_-`, `Ab9${key(40, "Z")}`]) {
      expect(loadLocalConfig({ PREGON_BOOTSTRAP_API_KEY: ok }).bootstrapApiKey).toBe(ok);
    }
    for (const bad of [key(31), key(129), `${key(32)} `, `${key(32)}=`, `${key(32)}ñ`]) {
      expect(() => loadLocalConfig({ PREGON_BOOTSTRAP_API_KEY: bad })).toThrow(
        "PREGON_BOOTSTRAP_API_KEY: must be 32-128 characters from [A-Za-z0-9_-]",
      );
    }
  });

  it("names each invalid variable", () => {
    const message = (() => {
      try {
        loadLocalConfig({ PORT: "http", PREGON_PG_PORT: "70000", PREGON_EMAIL_FROM: "nobody" });
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/^ {2}PORT: /m);
    expect(message).toMatch(/^ {2}PREGON_PG_PORT: /m);
    expect(message).toMatch(
      /^ {2}PREGON_EMAIL_FROM: must be one email address, as `address` or `Name <address>`$/m,
    );
    expect(() => loadLocalConfig({ PREGON_EMAIL_FROM: "a@x.example, b@y.example" })).toThrow(
      /PREGON_EMAIL_FROM: must be one email address/,
    );
    expect(loadLocalConfig({ PREGON_EMAIL_FROM: "Pregón <a@B.co>" }).email).toEqual({
      from: "Pregón <a@B.co>",
      senders: ["@b.co"],
    });
    expect(
      loadLocalConfig({ PREGON_EMAIL_SENDERS: "Alerts@example.com, @example.org" }).email.senders,
    ).toEqual(["alerts@example.com", "@example.org"]);
    expect(() => loadLocalConfig({ PREGON_EMAIL_SENDERS: "example.org" })).toThrow(
      /PREGON_EMAIL_SENDERS.0: address or @domain/,
    );
  });

  it("reads the SMS settings, naming what is wrong", () => {
    expect(
      loadLocalConfig({
        PREGON_SMS_COUNTRIES: "es, mx",
        PREGON_SMS_SENDER_ID: "Pregon",
        PREGON_SMS_ORIGINATION_NUMBER: "+12065550100",
        PREGON_SMS_RATE: "5",
      }).sms,
    ).toEqual({
      countries: ["ES", "MX"],
      senderId: "Pregon",
      originationNumber: "+12065550100",
      rate: 5,
    });
    expect(() => loadLocalConfig({ PREGON_SMS_COUNTRIES: "Spain" })).toThrow(
      /PREGON_SMS_COUNTRIES.0: ISO 3166 alpha-2/,
    );
    expect(() => loadLocalConfig({ PREGON_SMS_SENDER_ID: "123" })).toThrow(/PREGON_SMS_SENDER_ID/);
    expect(() => loadLocalConfig({ PREGON_SMS_ORIGINATION_NUMBER: "555" })).toThrow(
      /PREGON_SMS_ORIGINATION_NUMBER: must be a valid phone number/,
    );
  });
});

describe("Lambda configuration", () => {
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

  it("become the variables the configuration reads; the environment wins for local tools", () => {
    const pepper = "q".repeat(40);
    const linked = { AppDatabase: app, OtpPepper: { value: pepper } };
    expect(linkedEnv({})).toEqual({});
    const env = linkedEnv(linked);
    expect(loadLambdaConfig(env)).toMatchObject({
      databaseUrl: databaseUrl(app),
      databaseOwnerUrl: undefined,
      otpPepper: pepper,
    });
    const own = "postgres://me@db.internal:5432/pregon";
    expect(loadLocalConfig({ ...env, DATABASE_URL: own }).databaseUrl).toBe(own);
    expect(loadLocalConfig(env).databaseUrl).toBe(databaseUrl(app));
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
