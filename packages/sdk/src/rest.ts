import createClient from "openapi-fetch";
import type { paths } from "./openapi.gen";

export type { components, operations, paths } from "./openapi.gen";

export interface PregonRestClientOptions {
  /** Where Pregón serves, e.g. "http://localhost:3000". */
  url: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
}

/**
 * A thin REST client typed from `/openapi.json`:
 * `const { data, error, response } = await pregon.POST("/v1/emails", { body })`.
 */
export function createPregonRestClient(options: PregonRestClientOptions) {
  return createClient<paths>({
    baseUrl: options.url.replace(/\/+$/, ""),
    headers: { ...options.headers, authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch && { fetch: options.fetch }),
  });
}

export type PregonRestClient = ReturnType<typeof createPregonRestClient>;
