import type { Liquid, Template } from "liquidjs";
import { AppError } from "../error";
import type { engines } from "./engine";

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

/**
 * What a template may cost. Whoever holds a sending key writes the templates and the variables, so
 * every limit assumes a hostile author; real messages stay far below them.
 */
export const limits = {
  /** Characters of one part (subject, HTML, text). */
  partChars: 500_000,
  /**
   * Liquid tags and outputs of one part (each line of a `{% liquid %}` tag is one), counted before
   * parsing: LiquidJS parses in time that grows with the square of its tokens past about 16,000.
   */
  partTags: 5_000,
  /**
   * Range items and characters that one render may allocate (ranges, filters, escaped output):
   * LiquidJS's `memoryLimit`, a count, so a template over it fails on every machine alike.
   */
  renderMemory: 1_000_000,
  /**
   * Milliseconds one render (one part for one recipient) may take: LiquidJS's `renderLimit`. Time
   * limits are wall-clock, so a stalled or throttled machine counts too: they leave room for it,
   * and a render stopped at one while it had the CPU less than half the time runs again (see
   * `stalledTries`).
   */
  renderMs: 100,
  /**
   * Tries of one render stopped at a time limit while its process used the CPU for less than half
   * the time (it waited for a core, it did not cost): a hostile template costs at most this many
   * times its limit, and a busy machine does not fail an ordinary message.
   */
  stalledTries: 3,
  /**
   * Milliseconds the renders of one request may take together (every recipient's subject, the
   * first one's message), and in the sender those of one delivery. 10,000 plain subjects take
   * about 50 ms of CPU; a 512 MB Lambda has about a third of a core, so wall time is ~3x that.
   */
  budgetMs: 1_000,
};

const format = (n: number) => n.toLocaleString("en-US");

type Engines = ReturnType<typeof engines>;

// LiquidJS is loaded with the engines, when a template is first compiled: a function that never
// renders (or an instance that has not rendered yet) neither compiles nor evaluates it at its cold
// start. A Liquid engine also reads the system's locale through Intl at construction. Every render
// takes a compiled template, so the engines exist by then.
let made: Engines | undefined;
let making: Promise<Engines> | undefined;
async function load(): Promise<Engines> {
  making ??= import("./engine").then((engine) => {
    made = engine.engines({
      // `parse` below checks the length first, with a clearer message; this is LiquidJS's own guard.
      parseLimit: limits.partChars,
      memoryLimit: limits.renderMemory,
      renderLimit: limits.renderMs,
    });
    return made;
  });
  return made ?? (await making);
}
/**
 * Loads LiquidJS and makes the engines now: for a function whose every invocation compiles a
 * template (the senders), at its start rather than in its first invocation.
 */
export async function loadEngines(): Promise<void> {
  await load();
}

const loaded = (): Engines => {
  if (!made) throw new Error("a template is rendered before any was compiled");
  return made;
};

/**
 * The time left to the renders of one request, or of one delivery in the sender. A render tried
 * again because it stalled (see `limits.stalledTries`) moves the deadline on by the time it waited.
 */
export interface Budget {
  readonly ms: number;
  deadline: number;
}

/** A new budget: `ms` from now for every render it is passed to. */
export const budget = (ms = limits.budgetMs): Budget => ({ ms, deadline: performance.now() + ms });

export interface Compiled {
  subject: Template[];
  html?: Template[];
  text?: Template[];
}

/** Tags and outputs of `source` (see `limits.partTags`), counted up to `limit + 1`. */
function tagsOf(source: string, limit: number): number {
  let tags = 0;
  let inTag = false;
  for (let i = 0; i < source.length && tags <= limit; i++) {
    const c = source[i];
    if (c === "{" && (source[i + 1] === "{" || source[i + 1] === "%")) {
      tags++;
      inTag = source[i + 1] === "%";
      i++;
    } else if (inTag && c === "%" && source[i + 1] === "}") {
      inTag = false;
    } else if (inTag && c === "\n") {
      tags++;
    }
  }
  return tags;
}

/** LiquidJS's own error, under the wrapping it adds for the tag where it happened. */
const causeOf = (error: unknown): string =>
  ((error as { originalError?: Error }).originalError ?? (error as Error)).message;

/**
 * Sources parsed lately, per engine: most sends reuse a few templates, and LiquidJS's parse is most
 * of what a one-recipient send spends on its content. A parsed template is only read by a render
 * (LiquidJS caches its own the same way). At most `parsedChars` characters are kept; past them the
 * cache starts again.
 */
const parsed = new Map<Liquid, Map<string, Template[]>>();
const parsedChars = 1_000_000;
let parsedSize = 0;

function parse(engine: Liquid, source: string, part: string): Template[] {
  let ofEngine = parsed.get(engine);
  const known = ofEngine?.get(source);
  if (known) return known;
  const templates = parseNew(engine, source, part);
  if (source.length <= parsedChars) {
    if (parsedSize + source.length > parsedChars) {
      parsed.clear();
      parsedSize = 0;
      ofEngine = undefined;
    }
    if (!ofEngine) {
      ofEngine = new Map();
      parsed.set(engine, ofEngine);
    }
    ofEngine.set(source, templates);
    parsedSize += source.length;
  }
  return templates;
}

function parseNew(engine: Liquid, source: string, part: string): Template[] {
  if (source.length > limits.partChars) {
    throw new AppError(
      "invalid_template",
      `${part}: longer than ${format(limits.partChars)} characters`,
    );
  }
  if (tagsOf(source, limits.partTags) > limits.partTags) {
    throw new AppError(
      "invalid_template",
      `${part}: more than ${format(limits.partTags)} Liquid tags and outputs`,
    );
  }
  try {
    return engine.parse(source);
  } catch (error) {
    throw new AppError("invalid_template", `${part}: ${(error as Error).message}`);
  }
}

/**
 * Parses the content once; a syntax error is an `invalid_template` naming the part. The first call
 * loads LiquidJS.
 */
export async function compile(content: Content): Promise<Compiled> {
  const { html, plain } = await load();
  return {
    subject: parse(plain, content.subject, "subject"),
    ...(content.html && { html: parse(html, content.html, "html") }),
    ...(content.text && { text: parse(plain, content.text, "text") }),
  };
}

/** Milliseconds of CPU the process used since `start` (a `process.cpuUsage()`). */
const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(start);
  return (user + system) / 1000;
};

function renderPart(
  engine: Liquid,
  templates: Template[],
  variables: Variables,
  part: string,
  budget: Budget,
): string {
  const overBudget = () =>
    new AppError("invalid_template", `${part}: render budget of ${format(budget.ms)} ms exceeded`);
  for (let tries = 1; ; tries++) {
    const startedAt = performance.now();
    const left = budget.deadline - startedAt;
    if (left <= 0) throw overBudget();
    // The engines' own renderLimit is `limits.renderMs`; options only when less is left (passing
    // render options at all makes a short render about twice as slow).
    const budgetBinds = left < limits.renderMs;
    const cpu = process.cpuUsage();
    try {
      const options = budgetBinds ? { renderLimit: left } : undefined;
      return engine.renderSync(templates, variables, options) as string;
    } catch (error) {
      const cause = causeOf(error);
      if (cause.startsWith("template render limit exceeded")) {
        const cpuMs = cpuMsSince(cpu);
        const waitedMs = performance.now() - startedAt - cpuMs;
        if (waitedMs > cpuMs && tries < limits.stalledTries) {
          budget.deadline += waitedMs;
          continue;
        }
        if (budgetBinds) throw overBudget();
        throw new AppError(
          "invalid_template",
          `${part}: render time limit of ${limits.renderMs} ms exceeded`,
        );
      }
      if (cause.startsWith("memory alloc limit exceeded")) {
        throw new AppError(
          "invalid_template",
          `${part}: render memory limit of ${format(limits.renderMemory)} exceeded`,
        );
      }
      throw new AppError("invalid_template", `${part}: ${(error as Error).message}`);
    }
  }
}

/** Renders the subject alone; one that renders with a line break is refused (header injection). */
export function renderSubject(compiled: Compiled, variables: Variables, budget: Budget): string {
  const subject = renderPart(loaded().plain, compiled.subject, variables, "subject", budget);
  if (/[\r\n]/.test(subject)) {
    throw new AppError("invalid_template", "subject: renders with a line break");
  }
  return subject;
}

/** Renders everything for one recipient. */
export function render(compiled: Compiled, variables: Variables, budget: Budget): Rendered {
  const subject = renderSubject(compiled, variables, budget);
  return {
    subject,
    ...(compiled.html && {
      html: renderPart(loaded().html, compiled.html, variables, "html", budget),
    }),
    ...(compiled.text && {
      text: renderPart(loaded().plain, compiled.text, variables, "text", budget),
    }),
  };
}

/** A plain-text template on its own (an SMS, a push title or body): parsed once (see `compile`). */
export async function compileText(source: string, part = "text"): Promise<Template[]> {
  return parse((await load()).plain, source, part);
}

/** Renders a `compileText` template for one recipient. */
export function renderText(
  templates: Template[],
  variables: Variables,
  budget: Budget,
  part = "text",
): string {
  return renderPart(loaded().plain, templates, variables, part, budget);
}
