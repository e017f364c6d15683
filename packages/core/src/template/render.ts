import { Liquid, type Template } from "liquidjs";
import { AppError } from "../error";

/**
 * Message content: a subject and an HTML and/or text body, each a LiquidJS template rendered with
 * the shared variables overlaid by the recipient's own. HTML output escapes every value; subject and
 * text do not (they are not HTML).
 */
export interface Content {
  subject: string;
  html?: string | null | undefined;
  text?: string | null | undefined;
}

export interface Rendered {
  subject: string;
  html?: string;
  text?: string;
}

export type Variables = Record<string, unknown>;

const limits = {
  ownPropertyOnly: true,
  strictFilters: true,
  parseLimit: 1_000_000,
  renderLimit: 1_000,
  memoryLimit: 10_000_000,
};
const htmlEngine = new Liquid({ ...limits, outputEscape: "escape" });
const plainEngine = new Liquid(limits);

export interface Compiled {
  subject: Template[];
  html?: Template[];
  text?: Template[];
}

function parse(engine: Liquid, source: string, part: string): Template[] {
  try {
    return engine.parse(source);
  } catch (error) {
    throw new AppError("invalid_template", `${part}: ${(error as Error).message}`);
  }
}

/** Parses the content once; a syntax error is an `invalid_template` naming the part. */
export function compile(content: Content): Compiled {
  return {
    subject: parse(plainEngine, content.subject, "subject"),
    ...(content.html && { html: parse(htmlEngine, content.html, "html") }),
    ...(content.text && { text: parse(plainEngine, content.text, "text") }),
  };
}

function renderPart(engine: Liquid, templates: Template[], variables: Variables, part: string) {
  try {
    return engine.renderSync(templates, variables) as string;
  } catch (error) {
    throw new AppError("invalid_template", `${part}: ${(error as Error).message}`);
  }
}

/** Renders the subject alone; one that renders with a line break is refused (header injection). */
export function renderSubject(compiled: Compiled, variables: Variables): string {
  const subject = renderPart(plainEngine, compiled.subject, variables, "subject");
  if (/[\r\n]/.test(subject)) {
    throw new AppError("invalid_template", "subject: renders with a line break");
  }
  return subject;
}

/** Renders everything for one recipient. */
export function render(compiled: Compiled, variables: Variables): Rendered {
  const subject = renderSubject(compiled, variables);
  return {
    subject,
    ...(compiled.html && { html: renderPart(htmlEngine, compiled.html, variables, "html") }),
    ...(compiled.text && { text: renderPart(plainEngine, compiled.text, variables, "text") }),
  };
}

/** A plain-text template on its own (an SMS, a push title or body): parsed once. */
export function compileText(source: string, part = "text"): Template[] {
  return parse(plainEngine, source, part);
}

/** Renders a `compileText` template for one recipient. */
export function renderText(templates: Template[], variables: Variables, part = "text"): string {
  return renderPart(plainEngine, templates, variables, part);
}
