// The API reference at /docs, in a real browser, on `npm start`, with no internet: every request
// the page makes beyond this machine is refused (test/support/browser.ts).
import { expect } from "vitest";
import { browserTest as test } from "./support/browser";

test("/docs renders from this server alone and finds an operation by its summary", async ({
  page,
  pregon,
  external,
}) => {
  const html = await (await fetch(`${pregon.url}/docs`)).text();
  // No origin but the page's own: no CDN script, font or stylesheet.
  expect(html).toContain('<script src="/docs/assets/');
  expect(html.match(/(?:https?:)?\/\/[^\s"'<>)]+/gi)).toBeNull();

  const document = await (await fetch(`${pregon.url}/openapi.json`)).json();
  const summary: string = document.paths["/v1/emails"].post.summary;
  expect(summary).toMatch(/\w/);

  await page.goto(`${pregon.url}/docs`);
  // The reference's own search finds the operation, and choosing it shows it.
  await page
    .getByRole("button", { name: /Search/ })
    .first()
    .click();
  await page.keyboard.type(summary);
  await page.getByRole("option", { name: new RegExp(summary) }).click();
  await page.getByRole("heading", { name: summary }).waitFor();
  expect(new URL(page.url()).hash).toBe("#tag/emails/POST/v1/emails");
  // Nothing tried to leave the machine: no font, report or chat request was refused either.
  expect(external).toEqual([]);
}, 90_000);
