import { databaseUrl, linkedEnv } from "@pregon/functions/config";
import { describe, expect, it } from "vitest";
import { loadLocalConfig } from "./config";

describe("local configuration", () => {
  it("defaults every setting (docs/local-stack.md)", () => {
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
      reputation: { windowHours: 24, minVolume: { project: 500, account: 1000 } },
      publicUrl: "http://localhost:3000",
      sesMaxSendRate: 200,
      bootstrapApiKey: undefined,
      otpPepper: undefined,
      region: "us-east-1",
      jwtAllowLoopback: true,
      webhookAllowLoopback: true,
      webhookRetrySeconds: 5,
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
      PREGON_WEBHOOK_ALLOW_LOOPBACK: "false",
      PREGON_WEBHOOK_RETRY_SECONDS: "0",
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
      webhookAllowLoopback: false,
      webhookRetrySeconds: 0,
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

describe("SST links under `sst shell`", () => {
  it("give the local tools the stage's database, unless the environment names another", () => {
    const app = {
      host: "pregon-production-databaseproxy.proxy-abc.us-east-1.rds.amazonaws.com",
      port: 5432,
      username: "pregon_app",
      password: "app-secret",
      database: "pregon",
    };
    const env = linkedEnv({ AppDatabase: app });
    const own = "postgres://me@db.internal:5432/pregon";
    expect(loadLocalConfig({ ...env, DATABASE_URL: own }).databaseUrl).toBe(own);
    expect(loadLocalConfig(env).databaseUrl).toBe(databaseUrl(app));
  });
});
