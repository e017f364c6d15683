import { describe, expect, it } from "vitest";
import { AppError } from "../error";
import { compile, render, renderSubject } from "./render";

const reasonAndMessage = (run: () => unknown) => {
  try {
    run();
    return "no error";
  } catch (error) {
    return error instanceof AppError ? `${error.reason}: ${error.message}` : String(error);
  }
};

describe("message templates", () => {
  it("escapes values in HTML only", () => {
    const compiled = compile({ subject: "{{ a }}", html: "<i>{{ a }}</i>", text: "{{ a }}" });
    expect(render(compiled, { a: `<script>"x" & 'y'</script>` })).toEqual({
      subject: `<script>"x" & 'y'</script>`,
      html: "<i>&lt;script&gt;&#34;x&#34; &amp; &#39;y&#39;&lt;/script&gt;</i>",
      text: `<script>"x" & 'y'</script>`,
    });
  });

  it("refuses a subject that renders with a line break", () => {
    const compiled = compile({ subject: "Hi {{ name }}", text: "t" });
    expect(renderSubject(compiled, { name: "Ana" })).toBe("Hi Ana");
    for (const name of ["a\nBcc: x@evil.example", "a\r", "\n"]) {
      expect(reasonAndMessage(() => renderSubject(compiled, { name }))).toBe(
        "invalid_template: subject: renders with a line break",
      );
    }
  });

  it("names the part with a syntax error, and refuses unknown filters", () => {
    expect(reasonAndMessage(() => compile({ subject: "ok", html: "{% if %}" }))).toMatch(
      /^invalid_template: html: /,
    );
    expect(reasonAndMessage(() => compile({ subject: "{{ a | nope }}" }))).toMatch(
      /^invalid_template: subject: .*nope/,
    );
  });

  it("reads own properties only", () => {
    const compiled = compile({ subject: "[{{ a.constructor }}][{{ a.__proto__ }}]" });
    expect(render(compiled, { a: {} }).subject).toBe("[][]");
  });

  it("stops runaway templates", () => {
    const compiled = compile({ subject: "s", text: "{% for i in (1..100000000) %}x{% endfor %}" });
    expect(reasonAndMessage(() => render(compiled, {}))).toMatch(/^invalid_template: text: /);
  });
});
