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
 * validate the router. This feeds a fetch `Request` to one handler as that adapter does: the body
 * read and parsed first (invalid JSON is a PARSE_ERROR when the handler reads it), the answer
 * collected into a `Response`.
 */
export function restHandler<Context extends object>(options: RestOptions) {
  const contexts = new WeakMap<object, Context>();
  let handler: ReturnType<typeof createOpenApiNodeHttpHandler> | undefined;

  return async (request: Request, context: Context): Promise<Response> => {
    // Built on the first request: outside production building it generates the OpenAPI document.
    handler ??= createOpenApiNodeHttpHandler({
      router: options.router,
      responseMeta: options.responseMeta,
      onError: options.onError,
      // Every request is registered below before it is handled.
      createContext: ({ req }: { req: object }) => contexts.get(req)!,
    } as NodeHandlerOptions);
    const body = await parsedBody(request);
    const req = new Proxy(request, {
      get: (target, property) => {
        if (property !== "body") return Reflect.get(target, property, target);
        if (!body.ok) {
          throw new TRPCError({
            code: "PARSE_ERROR",
            message: "Failed to parse request body",
            cause: body.cause,
          });
        }
        return body.data;
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

/** JSON bodies parsed (the only kind the routes accept); any other body left for the handler. */
async function parsedBody(request: Request): Promise<Parsed> {
  if (!request.headers.get("content-type")?.includes("application/json")) {
    return { ok: true, data: request.body };
  }
  try {
    return { ok: true, data: JSON.parse(await request.text()) };
  } catch (cause) {
    return { ok: false, cause };
  }
}
