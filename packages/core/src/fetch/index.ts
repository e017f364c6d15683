import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import * as http from "node:http";
import * as tls from "node:https";
import ipaddr from "ipaddr.js";

/**
 * Fetching a URL a customer gave (an issuer's discovery document, its JWKS, a webhook endpoint)
 * from inside the network Pregón runs in. Such a URL could point at the cloud's metadata service, the database or
 * anything else only the server reaches, so it is refused unless it is HTTPS to a public address;
 * the address is checked when the request is made, and the connection goes to that very address
 * (a second DNS answer cannot swap it). Redirects are not followed, bodies are capped, and the
 * whole exchange has a deadline.
 */
export interface Rules {
  /**
   * Loopback addresses allowed, over HTTP too (the local stack's development issuer). Off except
   * on the local stack.
   */
  allowLoopback: boolean;
  timeoutMs: number;
  maxBytes: number;
  /**
   * A body over `maxBytes` is cut there (a webhook receiver's answer, kept as an excerpt) rather
   * than refused (a document Pregón must read whole).
   */
  truncate?: boolean;
}

/** What to send: a GET by default. */
export interface Outgoing {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
}

export class UnsafeUrl extends Error {
  override readonly name = "UnsafeUrl";
}

/** Why `address` may not be reached, or undefined when it may. */
function refusal(address: string, rules: Rules): string | undefined {
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const range = ipaddr.process(address).range();
  if (range === "unicast" || (range === "loopback" && rules.allowLoopback)) return undefined;
  return `${address} is a ${range} address`;
}

/** The addresses `url` may be fetched at, all checked; throws UnsafeUrl otherwise. */
export async function check(url: string, rules: Rules): Promise<LookupAddress[]> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UnsafeUrl(`${url} is not a URL`);
  }
  const https = target.protocol === "https:";
  if (!https && !(target.protocol === "http:" && rules.allowLoopback)) {
    throw new UnsafeUrl("only HTTPS URLs are fetched");
  }
  if (target.username || target.password) throw new UnsafeUrl("a URL with credentials is refused");
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: LookupAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === "ipv6" ? 6 : 4 }];
  } else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch {
      throw new UnsafeUrl(`${host} does not resolve`);
    }
  }
  // Every answer must pass: a name may resolve to a public and a private address at once.
  for (const { address } of addresses) {
    const refused = refusal(address, rules);
    if (refused) throw new UnsafeUrl(`${host}: ${refused}`);
  }
  const loopback = addresses.every(({ address }) => ipaddr.process(address).range() === "loopback");
  // Plain HTTP only to this machine, where no certificate can be had (the local stack).
  if (!https && !loopback) {
    throw new UnsafeUrl("only HTTPS URLs are fetched");
  }
  return addresses;
}

/** GETs `url` under `rules`; a refused URL, a redirect, a body over the cap or the deadline throws. */
export const get = (url: string, rules: Rules, signal?: AbortSignal): Promise<Response> =>
  request(url, { headers: { accept: "application/json" } }, rules, signal);

/**
 * Sends `outgoing` to `url` under `rules`; a refused URL, a redirect, a body over the cap (unless
 * `truncate`) or the deadline throws. Any other status is the caller's to judge.
 */
export async function request(
  url: string,
  outgoing: Outgoing,
  rules: Rules,
  signal?: AbortSignal,
): Promise<Response> {
  const [pinned] = await check(url, rules);
  const target = new URL(url);
  const deadline = AbortSignal.timeout(rules.timeoutMs);
  const send = target.protocol === "https:" ? tls.request : http.request;
  return new Promise<Response>((resolve, rejectWith) => {
    const reject = (error: unknown) =>
      rejectWith(
        deadline.aborted
          ? new UnsafeUrl(`${target.host} did not answer within ${rules.timeoutMs} ms`)
          : error,
      );
    const request = send(
      target,
      {
        method: outgoing.method ?? "GET",
        headers: outgoing.headers ?? {},
        signal: signal ? AbortSignal.any([deadline, signal]) : deadline,
        // The address checked above, and no other: the name is not resolved again.
        lookup: (_hostname, options, callback) => {
          const { address, family } = pinned!;
          if ((options as { all?: boolean }).all) {
            (callback as (e: null, a: LookupAddress[]) => void)(null, [{ address, family }]);
          } else {
            (callback as (e: null, a: string, f: number) => void)(null, address, family);
          }
        },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          response.destroy();
          reject(new UnsafeUrl(`${target.host} answered with a redirect, which is not followed`));
          return;
        }
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          const body = Buffer.concat(chunks).subarray(0, rules.maxBytes);
          // 204 and 205 have no body, and a Response refuses one for them.
          resolve(
            new Response(status === 204 || status === 205 ? null : body, { status, headers }),
          );
        };
        const tooLarge = () => new UnsafeUrl(`the answer exceeds ${rules.maxBytes} bytes`);
        if (!rules.truncate && Number(response.headers["content-length"] ?? 0) > rules.maxBytes) {
          response.destroy();
          reject(tooLarge());
          return;
        }
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          chunks.push(chunk);
          if (size > rules.maxBytes) {
            response.destroy();
            if (rules.truncate) finish();
            else reject(tooLarge());
          }
        });
        response.on("error", reject);
        response.on("end", finish);
      },
    );
    request.on("error", reject);
    request.end(outgoing.body);
  });
}
