import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Fetch from "./index";

const strict: Fetch.Rules = { allowLoopback: false, timeoutMs: 1_000, maxBytes: 1024 };
const local: Fetch.Rules = { ...strict, allowLoopback: true };

/** A loopback server with a route per behaviour, counting what reaches it. */
let server: Server;
let base: string;
let hits = 0;
beforeAll(async () => {
  server = createServer((request, response) => {
    hits++;
    if (request.url === "/redirect") {
      response.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
    } else if (request.url === "/large") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ keys: "x".repeat(4096) }));
    } else if (request.url === "/large-chunked") {
      // No Content-Length: only counting the bytes as they come can stop it.
      response.writeHead(200, { "content-type": "application/json" });
      for (let i = 0; i < 8; i++) response.write("x".repeat(512));
      response.end();
    } else if (request.url === "/slow") {
      setTimeout(() => response.end("{}"), 3_000).unref();
    } else {
      response.writeHead(200, { "content-type": "application/json" }).end('{"keys":[]}');
    }
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("fetching a customer's URL (loopback setting off)", () => {
  it.each([
    ["http://example.com/jwks.json", /only HTTPS/],
    ["ftp://example.com/jwks.json", /only HTTPS/],
    ["https://user:secret@example.com/jwks.json", /credentials/],
    ["https://127.0.0.1/jwks.json", /loopback/],
    ["https://localhost/jwks.json", /loopback/],
    ["https://[::1]/jwks.json", /loopback/],
    ["https://10.1.2.3/jwks.json", /private/],
    ["https://172.16.0.1/jwks.json", /private/],
    ["https://192.168.1.1/jwks.json", /private/],
    ["https://169.254.169.254/latest/meta-data/", /linkLocal/],
    ["https://[fd00:ec2::254]/latest/meta-data/", /uniqueLocal/],
    ["https://100.100.100.200/latest/meta-data/", /carrierGradeNat/],
    ["https://[::ffff:10.0.0.1]/jwks.json", /private/],
    ["https://[fe80::1]/jwks.json", /linkLocal/],
    ["https://0.0.0.0/jwks.json", /unspecified/],
    ["https://224.0.0.1/jwks.json", /multicast/],
  ])("refuses %s", async (url, why) => {
    await expect(Fetch.get(url, strict)).rejects.toThrow(why);
    await expect(Fetch.get(url, strict)).rejects.toBeInstanceOf(Fetch.UnsafeUrl);
  });

  it("refuses the loopback server itself, which it never reaches", async () => {
    const before = hits;
    await expect(Fetch.get(`${base}/jwks.json`, strict)).rejects.toThrow(/HTTPS|loopback/);
    await expect(Fetch.get(`${base.replace("http:", "https:")}/x`, strict)).rejects.toThrow(
      /loopback/,
    );
    expect(hits).toBe(before);
  });
});

describe("fetching with the loopback setting on (the local stack)", () => {
  it("fetches a JSON document from loopback", async () => {
    const response = await Fetch.get(`${base}/jwks.json`, local);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ keys: [] });
  });

  it("still refuses private and metadata addresses", async () => {
    await expect(Fetch.get("https://169.254.169.254/", local)).rejects.toThrow(/linkLocal/);
    await expect(Fetch.get("http://10.0.0.1/", local)).rejects.toThrow(/private/);
  });

  it("does not follow a redirect", async () => {
    await expect(Fetch.get(`${base}/redirect`, local)).rejects.toThrow(/redirect/);
  });

  it("refuses a body over the cap, announced or not", async () => {
    await expect(Fetch.get(`${base}/large`, local)).rejects.toThrow(/exceeds 1024 bytes/);
    await expect(Fetch.get(`${base}/large-chunked`, local)).rejects.toThrow(/exceeds 1024 bytes/);
  });

  it("gives up at the deadline", async () => {
    await expect(Fetch.get(`${base}/slow`, { ...local, timeoutMs: 200 })).rejects.toThrow(
      /did not answer within 200 ms/,
    );
  });
});
