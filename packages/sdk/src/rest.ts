import createClient from "openapi-fetch";
import { authorization, type PregonCredentials } from "./auth";
import type { paths } from "./openapi.gen";

export type { PregonCredentials } from "./auth";
export type { components, operations, paths, webhooks } from "./openapi.gen";

export type PregonRestClientOptions = PregonCredentials & {
  /** Where Pregón serves, e.g. "http://localhost:3000". */
  url: string;
  fetch?: typeof fetch;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
};

/**
 * A thin REST client typed from `/openapi.json`:
 * `const { data, error, response } = await pregon.POST("/v1/emails", { body })`.
 */
export function createPregonRestClient(options: PregonRestClientOptions) {
  const client = createClient<paths>({
    baseUrl: options.url.replace(/\/+$/, ""),
    ...(options.headers && { headers: options.headers }),
    ...(options.fetch && { fetch: options.fetch }),
  });
  client.use({
    async onRequest({ request }) {
      request.headers.set("authorization", await authorization(options));
      return request;
    },
  });
  return client;
}

export type PregonRestClient = ReturnType<typeof createPregonRestClient>;
