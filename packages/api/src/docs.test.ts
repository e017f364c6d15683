import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { settings } from "../../../test/support/fixtures";
import { createApp } from "./app";
import { docsAssets, docsScriptPath, scalarScriptFile } from "./docs";

describe("the API reference", () => {
  it("/docs loads its script from this server, named by the pinned version, and nothing from elsewhere", async () => {
    const html = await (await createApp(settings).request("/docs")).text();
    const pinned = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
      .dependencies["@scalar/api-reference"];
    expect(docsScriptPath).toBe(`/docs/assets/scalar-api-reference-${pinned}.js`);
    expect(html).toContain(`<script src="${docsScriptPath}"></script>`);
    expect(html.match(/(?:https?:)?\/\/[^\s"'<>)]+/gi)).toBeNull();
    // The pinned version is the one installed, whose build the script is.
    const script = readFileSync(scalarScriptFile(), "utf8");
    expect(script.includes(`* @scalar/api-reference ${pinned}\n`)).toBe(true);
  });

  it("on AWS, /docs loads the script from the origin it is given, under the same versioned path, and from nowhere else", async () => {
    const origin = "https://d111111abcdef8.cloudfront.net";
    const html = await (await createApp(settings, { docsOrigin: origin }).request("/docs")).text();
    expect(html).toContain(`<script src="${origin}${docsScriptPath}"></script>`);
    expect(html.match(/(?:https?:)?\/\/[^\s"'<>)]+/gi)).toEqual([`${origin}${docsScriptPath}`]);
  });

  it("serves the script gzipped to browsers, plain to others, cached for a year", async () => {
    const file = scalarScriptFile();
    const plain = readFileSync(file);
    const assets = docsAssets(file);

    const zipped = await assets.request(docsScriptPath, {
      headers: { "accept-encoding": "gzip, deflate, br" },
    });
    expect(zipped.status).toBe(200);
    expect(Object.fromEntries(zipped.headers)).toMatchObject({
      "content-type": "text/javascript; charset=utf-8",
      "content-encoding": "gzip",
      "cache-control": "public, max-age=31536000, immutable",
      vary: "accept-encoding",
    });
    const body = Buffer.from(await zipped.arrayBuffer());
    expect(body.length).toBeLessThan(plain.length / 3);
    expect(gunzipSync(body).equals(plain)).toBe(true);

    const bare = await assets.request(docsScriptPath);
    expect(bare.headers.get("content-encoding")).toBeNull();
    expect(Buffer.from(await bare.arrayBuffer()).equals(plain)).toBe(true);
  });

  it("answers 404 with the error shape for any other path", async () => {
    const response = await docsAssets(scalarScriptFile()).request("/docs/assets/other.js");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      code: "NOT_FOUND",
      reason: "not_found",
      message: "No such asset",
    });
  });
});
