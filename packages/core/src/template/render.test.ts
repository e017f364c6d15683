import { afterEach, describe, expect, it, vi } from "vitest";
import { stallRenderClock } from "../../../../test/support/stall";
import { AppError } from "../error";
import { budget, compile, compileText, render, renderSubject, renderText } from "./render";

const reasonAndMessage = async (run: () => unknown) => {
  try {
    await run();
    return "no error";
  } catch (error) {
    return error instanceof AppError ? `${error.reason}: ${error.message}` : String(error);
  }
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe("message templates", () => {
  it("escapes values in HTML only", async () => {
    const compiled = await compile({ subject: "{{ a }}", html: "<i>{{ a }}</i>", text: "{{ a }}" });
    expect(render(compiled, { a: `<script>"x" & 'y'</script>` }, budget())).toEqual({
      subject: `<script>"x" & 'y'</script>`,
      html: "<i>&lt;script&gt;&#34;x&#34; &amp; &#39;y&#39;&lt;/script&gt;</i>",
      text: `<script>"x" & 'y'</script>`,
    });
  });

  it("escapes by part when the same source is compiled again, and refuses a bad one every time", async () => {
    for (let i = 0; i < 2; i++) {
      const compiled = await compile({ subject: "{{ a }}", html: "{{ a }}", text: "{{ a }}" });
      expect(render(compiled, { a: "<b>" }, budget())).toEqual({
        subject: "<b>",
        html: "&lt;b&gt;",
        text: "<b>",
      });
      expect(render(compiled, { a: "&" }, budget()).html).toBe("&amp;");
      expect(await reasonAndMessage(() => compile({ subject: "{% include 'x' %}" }))).toMatch(
        /^invalid_template: subject: include is not allowed/,
      );
    }
  });

  it("refuses a subject that renders with a line break", async () => {
    const compiled = await compile({ subject: "Hi {{ name }}", text: "t" });
    expect(renderSubject(compiled, { name: "Ana" }, budget())).toBe("Hi Ana");
    for (const name of ["a\nBcc: x@evil.example", "a\r", "\n"]) {
      expect(await reasonAndMessage(() => renderSubject(compiled, { name }, budget()))).toBe(
        "invalid_template: subject: renders with a line break",
      );
    }
  });

  it("names the part with a syntax error, and refuses unknown filters", async () => {
    expect(await reasonAndMessage(() => compile({ subject: "ok", html: "{% if %}" }))).toMatch(
      /^invalid_template: html: /,
    );
    expect(await reasonAndMessage(() => compile({ subject: "{{ a | nope }}" }))).toMatch(
      /^invalid_template: subject: .*nope/,
    );
  });

  it("reads own properties only", async () => {
    const compiled = await compile({ subject: "[{{ a.constructor }}][{{ a.__proto__ }}]" });
    expect(render(compiled, { a: {} }, budget()).subject).toBe("[][]");
  });

  it("refuses include, render and layout when parsing, naming the part and the tag", async () => {
    for (const tag of ["include", "render", "layout"]) {
      for (const source of [
        `{% ${tag} "package.json" %}`,
        `x {%- ${tag} 'package.json' -%}`,
        `{% liquid\n${tag} "package.json" %}`,
        `{% if true %}{% ${tag} "package.json" %}{% endif %}`,
      ]) {
        const expected = new RegExp(`^invalid_template: html: ${tag} is not allowed`);
        expect(await reasonAndMessage(() => compile({ subject: "s", html: source }))).toMatch(
          expected,
        );
      }
      expect(await reasonAndMessage(() => compileText(`{% ${tag} "package.json" %}`))).toMatch(
        new RegExp(`^invalid_template: text: ${tag} is not allowed`),
      );
    }
  });

  it("refuses a part too long or with too many tags to parse in bounded time", async () => {
    expect(await reasonAndMessage(() => compile({ subject: "s", html: "x".repeat(500_001) }))).toBe(
      "invalid_template: html: longer than 500,000 characters",
    );
    expect((await compile({ subject: "s", html: "{{ a }}".repeat(5_000) })).html).toHaveLength(
      5_000,
    );
    for (const html of [
      "{{ a }}".repeat(5_001),
      "{% if a %}{% endif %}".repeat(2_501),
      `{% liquid\n${"echo a\n".repeat(5_001)}%}`,
    ]) {
      expect(await reasonAndMessage(() => compile({ subject: "s", html }))).toBe(
        "invalid_template: html: more than 5,000 Liquid tags and outputs",
      );
    }
  });

  it("stops a render at its time limit, and the renders of one budget at the budget", async () => {
    // 9 million iterations over a variable: no allocation the memory limit counts, only time.
    const slow = await compile({
      subject: "{% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}!",
    });
    const xs = Array(3_000).fill(0);
    expect(await reasonAndMessage(() => renderSubject(slow, { xs }, budget()))).toBe(
      "invalid_template: subject: render time limit of 100 ms exceeded",
    );
    const quick = await compile({ subject: "Hi {{ name }}" });
    const shared = budget(60);
    expect(renderSubject(quick, { name: "Ana" }, shared)).toBe("Hi Ana");
    expect(await reasonAndMessage(() => renderSubject(slow, { xs }, shared))).toBe(
      "invalid_template: subject: render budget of 60 ms exceeded",
    );
    // Spent: nothing more renders within it.
    expect(await reasonAndMessage(() => renderSubject(quick, { name: "Bo" }, shared))).toBe(
      "invalid_template: subject: render budget of 60 ms exceeded",
    );
    const text = await compileText("x");
    expect(await reasonAndMessage(() => renderText(text, {}, budget(0)))).toBe(
      "invalid_template: text: render budget of 0 ms exceeded",
    );
  });

  it("renders again, within the budget, a render held up past its time limit while it used no CPU", async () => {
    // The machine was busy (or the process paused): LiquidJS's first time check after its start
    // finds the clock 150 ms on, though the render itself did nothing.
    stallRenderClock(150);
    const compiled = await compile({ subject: "Hi {{ name }}", text: "Hello {{ name }}" });
    const shared = budget(200);
    expect(render(compiled, { name: "Ana" }, shared)).toEqual({
      subject: "Hi Ana",
      text: "Hello Ana",
    });
    // The stall is not counted against the budget either.
    expect(renderSubject(compiled, { name: "Bo" }, shared)).toBe("Hi Bo");
  });

  it("stops a render that allocates too much, whatever the machine's speed", async () => {
    const compiled = await compile({
      subject: "s",
      text: "{% for i in (1..100000000) %}x{% endfor %}",
    });
    expect(await reasonAndMessage(() => render(compiled, {}, budget()))).toBe(
      "invalid_template: text: render memory limit of 1,000,000 exceeded",
    );
    const joined = await compile({ subject: "{{ xs | join: ',' }}" });
    expect(
      await reasonAndMessage(() => renderSubject(joined, { xs: Array(600_000).fill(1) }, budget())),
    ).toBe("invalid_template: subject: render memory limit of 1,000,000 exceeded");
  });
});
