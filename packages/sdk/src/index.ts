import type { AppRouter } from "@pregon/api";
import { createTRPCClient, httpLink } from "@trpc/client";

export type { AppRouter };

export interface PregonClientOptions {
  /** Where Pregón serves, e.g. "http://localhost:3000" (the client calls `${url}/trpc`). */
  url: string;
  apiKey: string;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

/** A typed client of every Pregón procedure: `pregon.me.get.query()`, `pregon.keys.create.mutate(...)`. */
export function createPregonClient(options: PregonClientOptions) {
  return createTRPCClient<AppRouter>({
    links: [
      // One request per call, as the server does not batch.
      httpLink({
        url: `${options.url.replace(/\/+$/, "")}/trpc`,
        ...(options.fetch && { fetch: options.fetch }),
        headers: () => ({ ...options.headers, authorization: `Bearer ${options.apiKey}` }),
      }),
    ],
  });
}
