import type { AnyProcedure } from "@trpc/server";
import { generateOpenApiDocument } from "trpc-to-openapi";
import { appRouter } from "./router";
import type { Meta } from "./trpc";

const procedures = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;

function metaOf(path: string): Meta | undefined {
  return procedures[path]?._def.meta as Meta | undefined;
}

/** The REST status of a procedure's success (trpc-to-openapi alone would answer 200). */
export function successStatus(path: string | undefined): number {
  return (path && metaOf(path)?.successStatus) || 200;
}

export function buildOpenApiDocument() {
  const document = generateOpenApiDocument(appRouter, {
    title: "Pregón API",
    version: "1.0.0",
    description:
      "Email, SMS and push notifications and one-time codes. Authenticate with `Authorization: Bearer <API key>`.",
    baseUrl: "/",
    securitySchemes: {
      bearerAuth: { type: "http", scheme: "bearer", description: "A Pregón API key" },
    },
  });
  // Document the status each operation really answers with.
  for (const path of Object.keys(procedures)) {
    const openapi = metaOf(path)?.openapi;
    const status = successStatus(path);
    if (!openapi || status === 200) continue;
    const operation = document.paths?.[openapi.path]?.[openapi.method.toLowerCase() as "post"];
    const responses = operation?.responses;
    if (responses?.["200"]) {
      responses[String(status)] = responses["200"];
      delete responses["200"];
    }
  }
  return document;
}
