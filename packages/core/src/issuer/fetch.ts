import type { LookupAddress } from "node:dns";
import { lookup } from "node:dns/promises";
import * as http from "node:http";
import * as tls from "node:https";
import ipaddr from "ipaddr.js";

/**
 * Fetching a URL a customer gave (an issuer's discovery document, its JWKS) from inside the
 * network Pregón runs in. Such a URL could point at the cloud's metadata service, the database or
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
export async function get(url: string, rules: Rules, signal?: AbortSignal): Promise<Response> {
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
        method: "GET",
        headers: { accept: "application/json" },
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
        const tooLarge = () => new UnsafeUrl(`the answer exceeds ${rules.maxBytes} bytes`);
        if (Number(response.headers["content-length"] ?? 0) > rules.maxBytes) {
          response.destroy();
          reject(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > rules.maxBytes) {
            response.destroy();
            reject(tooLarge());
            return;
          }
          chunks.push(chunk);
        });
        response.on("error", reject);
        response.on("end", () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value === "string") headers.set(name, value);
          }
          resolve(new Response(Buffer.concat(chunks), { status, headers }));
        });
      },
    );
    request.on("error", reject);
    request.end();
  });
}
