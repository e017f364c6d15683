import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp } from "@pregon/api";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectWithKey, settings } from "../../../test/support/fixtures";
import { type AppRouter, createPregonClient } from "./index";

let server: Server;
let url: string;
beforeAll(async () => {
  server = serve({ fetch: createApp(settings).fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise((ready) => server.once("listening", ready));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise((done) => server.close(done)));

describe("@pregon/sdk", () => {
  it("calls procedures with the key as a bearer token, typed end to end", async () => {
    const { project, secret } = await projectWithKey(["admin"]);
    const pregon = createPregonClient({ url, apiKey: secret });
    const me = await pregon.me.get.query();
    expect(me.project.id).toBe(project.id);
    const created = await pregon.keys.create.mutate({ name: "sdk", scopes: ["sms:send"] });
    expect(created.key).toMatch(/^prg_/);
    const again = createPregonClient({ url, apiKey: created.key });
    expect((await again.me.get.query()).scopes).toEqual(["sms:send"]);
  });

  it("surfaces errors with their code and reason", async () => {
    const { secret } = await projectWithKey(["sms:send"]);
    const pregon = createPregonClient({ url, apiKey: secret });
    const error = await pregon.keys.list.query().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    const { data } = error as TRPCClientError<AppRouter>;
    expect(data).toMatchObject({ code: "FORBIDDEN", httpStatus: 403, reason: "missing_scope" });
  });
});
