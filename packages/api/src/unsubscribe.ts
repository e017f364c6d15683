import * as Actor from "@pregon/core/actor";
import { AppError } from "@pregon/core/error";
import * as Preference from "@pregon/core/preference";
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { html } from "hono/html";
import { errorBody } from "./error";

/**
 * The links in bulk email (`List-Unsubscribe`, `{{ unsubscribe_url }}`): public, authenticated by
 * their signed token alone. A POST records the choice at once (RFC 8058 one-click, as mailbox
 * providers send it, or the page's own buttons); a GET only shows the page, since mail scanners
 * follow links. A token that is not one of ours, or names a category the project no longer has,
 * gets the same 404 as any unknown route: nothing tells whether an address is known.
 */

/** Answers never cached, never indexed, and never leaking the token through a Referer. */
const privateHeaders = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Robots-Tag": "noindex",
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

const notFound = (c: Context) =>
  c.json(errorBody("NOT_FOUND", "not_found", "No such route"), 404, privateHeaders);

/** The link's claims, its category and the recipient's current choice; undefined for a bad link. */
async function linkOf(token: string) {
  const claims = Preference.verify(token);
  if (!claims) return undefined;
  return Actor.provide({ type: "system", reason: "unsubscribe", projectId: claims.projectId }, () =>
    Preference.ofLink(claims).then(
      (found) => ({ claims, ...found }),
      (error: unknown) => {
        if (error instanceof AppError && error.reason === "not_found") return undefined;
        throw error;
      },
    ),
  );
}

type Link = NonNullable<Awaited<ReturnType<typeof linkOf>>>;

function page(link: Link, note?: string) {
  const { category, subscribed } = link;
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Email preferences</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}button{font:inherit;padding:.5rem 1rem}</style>
</head>
<body>
<h1>${category.name}</h1>
${category.description ? html`<p>${category.description}</p>` : ""}
${note ? html`<p role="status"><strong>${note}</strong></p>` : ""}
<p>${subscribed ? "You receive these emails." : "You do not receive these emails."}</p>
<form method="post">
${
  subscribed
    ? html`<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button>`
    : html`<input type="hidden" name="subscribe" value="1"><button type="submit">Subscribe again</button>`
}
</form>
</body>
</html>`;
}

export function unsubscribeRoutes(app: Hono) {
  app.use(
    "/u/*",
    bodyLimit({
      maxSize: 4096,
      onError: (c) =>
        c.json(errorBody("PAYLOAD_TOO_LARGE", "body_too_large", "The body exceeds 4 KB"), 413),
    }),
  );

  app.get("/u/:token", async (c) => {
    const link = await linkOf(c.req.param("token"));
    if (!link) return notFound(c);
    return c.html(page(link), 200, privateHeaders);
  });

  app.post("/u/:token", async (c) => {
    const link = await linkOf(c.req.param("token"));
    if (!link) return notFound(c);
    // Any POST but the page's "subscribe again" unsubscribes: a provider that sends the RFC 8058
    // body slightly differently must not keep mail flowing to someone who asked it to stop.
    const form = c.req.header("content-type")?.includes("form") ? await c.req.parseBody() : {};
    const subscribed = form.subscribe === "1";
    await Actor.provide(
      { type: "system", reason: "unsubscribe", projectId: link.claims.projectId },
      () => Preference.set({ ...link.claims, subscribed, source: "link" }),
    );
    const note = subscribed ? "You are subscribed again." : "You are unsubscribed.";
    return c.html(page({ ...link, subscribed }, note), 200, privateHeaders);
  });
}
