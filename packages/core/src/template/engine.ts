import { Liquid, type LiquidOptions, Tag, type TagToken, type TopLevelToken } from "liquidjs";

/**
 * Tags that read other templates. Without a template store of their own they would read files of
 * the working directory (configuration, keys), so they are refused where they are written.
 */
const fileTags = ["include", "render", "layout"];

class Refused extends Tag {
  constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
    super(token, remainTokens, liquid);
    throw new Error(`${token.name} is not allowed: templates cannot read files or other templates`);
  }

  *render() {}
}

/** LiquidJS's own guards, which the caller sets. */
type Limits = Pick<LiquidOptions, "parseLimit" | "memoryLimit" | "renderLimit">;

function engine(limits: Limits, options: { outputEscape?: "escape" }): Liquid {
  const liquid = new Liquid({
    ...options,
    ownPropertyOnly: true,
    strictFilters: true,
    // No file system: a tag that slipped past `Refused` would find no template to read.
    templates: {},
    ...limits,
  });
  for (const name of fileTags) liquid.registerTag(name, Refused);
  return liquid;
}

/** The two engines: HTML output escapes every value, plain (subject, text) does not. */
export const engines = (limits: Limits) => ({
  html: engine(limits, { outputEscape: "escape" }),
  plain: engine(limits, {}),
});
