import type { AnyTRPCRouter } from "@trpc/server";
import { TRPCError } from "@trpc/server";
import { createOpenApiNodeHttpHandler } from "trpc-to-openapi";

type NodeHandlerOptions = Parameters<typeof createOpenApiNodeHttpHandler>[0];

interface RestOptions {
  router: AnyTRPCRouter;
  responseMeta: NodeHandlerOptions["responseMeta"];
  onError: NodeHandlerOptions["onError"];
}

/**
 * The REST face of the router: trpc-to-openapi's handler, built once. Its fetch adapter
 * (`createOpenApiFetchHandler`) builds a new handler per request, which walks the router into a
 * route table each time and, outside `NODE_ENV=production`, generates the whole OpenAPI document to
 * validate the router. This feeds a fetch `Request` to one handler as that adapter does, its body
 * (read by the caller: `body`, undefined for a GET or HEAD) parsed first (invalid JSON is a
 * PARSE_ERROR when the handler reads it), the answer collected into a `Response`.
 */
export function restHandler<Context extends object>(options: RestOptions) {
  const contexts = new WeakMap<object, Context>();
  let handler: ReturnType<typeof createOpenApiNodeHttpHandler> | undefined;

  return async (
    request: Request,
    body: Uint8Array | undefined,
    context: Context,
  ): Promise<Response> => {
    // Built on the first request: outside production building it generates the OpenAPI document.
    handler ??= createOpenApiNodeHttpHandler({
      router: options.router,
      responseMeta: options.responseMeta,
      onError: options.onError,
      // Every request is registered below before it is handled.
      createContext: ({ req }: { req: object }) => contexts.get(req)!,
    } as NodeHandlerOptions);
    const { headers, input } = received(request, body);
    const req = new Proxy(request, {
      get: (target, property) => {
        if (property === "headers") return headers;
        if (property === "body") {
          if (!input.ok) {
            throw new TRPCError({
              code: "PARSE_ERROR",
              message: "Failed to parse request body",
              cause: input.cause,
            });
          }
          return input.data;
        }
        // The handler only passes it on in `info`, which nothing here reads; asking a Node
        // server's request for it would build the whole fetch Request.
        if (property === "signal") return undefined;
        return Reflect.get(target, property, target);
      },
    });
    contexts.set(req, context);
    const handle = handler;
    return new Promise<Response>((resolve, reject) => {
      const headers = new Headers();
      const res = {
        statusCode: 200,
        setHeader(name: string, value: string | string[]) {
          if (typeof value === "string") headers.set(name, value);
          else for (const one of value) headers.append(name, one);
        },
        end(text?: string) {
          resolve(new Response(text, { status: res.statusCode, headers }));
        },
      };
      handle(req as never, res as never).catch(reject);
    });
  };
}

type Parsed = { ok: true; data: unknown } | { ok: false; cause: unknown };

/**
 * The headers and input the handler reads. A POST, PUT or PATCH without a body and without a
 * content type (as the document describes `POST /v1/otp/{id}/cancel`) carries an empty JSON object
 * instead of being refused with 415; a body without a content type still is. A JSON body is
 * parsed; no other is read (the handler refuses its type with 415 first).
 */
function received(
  request: Request,
  body: Uint8Array | undefined,
): { headers: Headers; input: Parsed } {
  const type = request.headers.get("content-type");
  if (type === null && body?.length === 0 && ["POST", "PUT", "PATCH"].includes(request.method)) {
    const headers = new Headers(request.headers);
    headers.set("content-type", "application/json");
    return { headers, input: { ok: true, data: {} } };
  }
  if (!type?.includes("application/json") || body === undefined) {
    return { headers: request.headers, input: { ok: true, data: undefined } };
  }
  try {
    return {
      headers: request.headers,
      input: { ok: true, data: JSON.parse(decoder.decode(body)) },
    };
  } catch (cause) {
    return { headers: request.headers, input: { ok: false, cause } };
  }
}

const decoder = new TextDecoder();
