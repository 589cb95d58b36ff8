import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ApiError, Client } from "../../src/lib/api";
import type { Fetch } from "../../src/lib/api";
import { historyQuery } from "../../src/lib/history";
import {
  DEFAULT_TEMPLATE,
  MAX_TEMPLATE_CHARS,
  NAMING_TOKENS,
  parseDefaults,
  previewRequest,
  templateProblem,
  templateToSave,
} from "../../src/lib/naming";
import { webhookChange } from "../../src/lib/webhooks";
import type { Webhook } from "../../src/types/api";

interface Call {
  method: string;
  url: string;
  body: unknown;
}

function recorder(status = 200, answer: unknown = {}): { fetch: Fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: Fetch = async (url, init) => {
    calls.push({ method: init?.method ?? "GET", url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    return new Response(JSON.stringify(answer), { status, headers: { "content-type": "application/json" } });
  };
  return { fetch, calls };
}

const here = dirname(fileURLToPath(import.meta.url));

describe("naming tokens", () => {
  it("lists exactly the tokens of the server's naming module, in its order", () => {
    const source = readFileSync(resolve(here, "../../../crates/catalog/src/naming.rs"), "utf8");
    const block = /pub const TOKENS: \[&str; \d+\] = \[([^\]]*)\]/.exec(source);
    expect(block, "TOKENS in naming.rs").not.toBeNull();
    const server = [...(block?.[1] ?? "").matchAll(/"([a-z]+)"/g)].map((m) => m[1]);
    expect(NAMING_TOKENS.map((t) => t.token)).toEqual(server);
    expect(source).toContain(`DEFAULT_FOLDER_TEMPLATE: &str = "${DEFAULT_TEMPLATE}"`);
    expect(source).toContain(`MAX_TEMPLATE_CHARS: usize = ${MAX_TEMPLATE_CHARS};`);
  });
});

describe("templateProblem", () => {
  it("accepts what the server's checker accepts", () => {
    for (const ok of ["{timestamp}_{board}", "{date}-{time}", "build {build} ({board})", "plain", "Ünïcode_{board}", "{board}{variant}"])
      expect(templateProblem(ok), ok).toBeNull();
  });

  it("names the problem the server would name", () => {
    expect(templateProblem("")).toMatch(/default/);
    expect(templateProblem("   ")).toMatch(/default/);
    expect(templateProblem("a".repeat(MAX_TEMPLATE_CHARS + 1))).toMatch(/201 characters/);
    expect(templateProblem("{boards}")).toMatch(/Unknown token \{boards\}/);
    expect(templateProblem("{Board}")).toMatch(/Unknown token/);
    expect(templateProblem("{}")).toMatch(/Unknown token \{\}/);
    expect(templateProblem("{board")).toMatch(/“\{” at character 1/);
    expect(templateProblem("board}")).toMatch(/“\}” at character 6/);
    expect(templateProblem("{{board}}")).toMatch(/“\{” at character 2/);
    expect(templateProblem("{customer}/{board}")).toMatch(/“\/” at character 11/);
    expect(templateProblem("C:{board}")).toMatch(/“:”/);
    expect(templateProblem("{board}\n")).toMatch(/control character/);
    expect(templateProblem("{board}\u202e")).toMatch(/control character/);
  });
});

describe("the customer form", () => {
  it("saves a blank template as the default", () => {
    expect(templateToSave("")).toBeNull();
    expect(templateToSave("  ")).toBeNull();
    expect(templateToSave("{board}")).toBe("{board}");
  });

  it("previews the default when blank, nothing when the quick check fails", () => {
    expect(previewRequest("", "")).toEqual({ naming_template: DEFAULT_TEMPLATE });
    expect(previewRequest("{customer}_{board}", "ACME")).toEqual({ naming_template: "{customer}_{board}", customer: "ACME" });
    expect(previewRequest("{customer}", " ACME ")).toEqual({ naming_template: "{customer}", customer: "ACME" });
    expect(previewRequest("{nope}", "ACME")).toBeNull();
    // a name still being typed that the server would refuse is left out
    expect(previewRequest("{customer}", "a b")).toEqual({ naming_template: "{customer}" });
  });

  it("reads the defaults as a JSON object or says why not", () => {
    expect(parseDefaults("")).toEqual({ value: {} });
    expect(parseDefaults('{"compression": "lzms"}')).toEqual({ value: { compression: "lzms" } });
    expect(parseDefaults("{nope")).toHaveProperty("error");
    expect(parseDefaults("[1]")).toEqual({ error: "Defaults must be a JSON object." });
    expect(parseDefaults("null")).toEqual({ error: "Defaults must be a JSON object." });
  });
});

describe("customer client", () => {
  it("reads, saves and previews at the documented paths", async () => {
    const { fetch, calls } = recorder();
    const c = new Client(fetch);
    await c.customers();
    await c.customer("A.B-c");
    await c.saveCustomer("ACME", { naming_template: null, defaults: {} });
    await c.previewFolder({ naming_template: "{board}", customer: "ACME" });
    expect(calls).toEqual([
      { method: "GET", url: "/api/customers", body: undefined },
      { method: "GET", url: "/api/customers/A.B-c", body: undefined },
      { method: "PUT", url: "/api/customers/ACME", body: { naming_template: null, defaults: {} } },
      { method: "POST", url: "/api/customers/preview", body: { naming_template: "{board}", customer: "ACME" } },
    ]);
  });

  it("brings the template's 422 back at its field", async () => {
    const { fetch } = recorder(422, {
      error: { code: "invalid_template", field: "naming_template", message: "naming template \"{x}\": unknown token {x}" },
    });
    const e = (await new Client(fetch).saveCustomer("ACME", { naming_template: "{x}" }).catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(422);
    expect(e.field).toBe("naming_template");
    expect(e.message).toContain("unknown token {x}");
  });

  it("sends user and webhook changes as PATCH bodies", async () => {
    const { fetch, calls } = recorder();
    const c = new Client(fetch);
    await c.updateUser(7, { password: "a long password" });
    await c.updateWebhook(3, { rotate_secret: true, format: "slack" });
    expect(calls).toEqual([
      { method: "PATCH", url: "/api/users/7", body: { password: "a long password" } },
      { method: "PATCH", url: "/api/webhooks/3", body: { rotate_secret: true, format: "slack" } },
    ]);
  });
});

describe("webhookChange", () => {
  const hook: Webhook = { id: 1, url: "https://a.example/h", events: ["job.failed", "job.completed"], format: "json", active: true };
  const same = { url: hook.url, events: ["job.completed", "job.failed"], format: "json" as const, active: true, rotate: false };

  it("sends nothing when nothing changed (event order does not count)", () => {
    expect(webhookChange(hook, same)).toEqual({});
  });

  it("sends only the changed fields", () => {
    expect(webhookChange(hook, { ...same, url: " https://b.example/h ", active: false })).toEqual({
      url: "https://b.example/h",
      active: false,
    });
    expect(webhookChange(hook, { ...same, events: ["job.queued"], format: "slack", rotate: true })).toEqual({
      events: ["job.queued"],
      format: "slack",
      rotate_secret: true,
    });
  });
});

describe("history paging", () => {
  it("pages the plain listing and the search alike", async () => {
    const filters = { status: "Completed", customer: " ACME ", board: "", since: "" };
    expect(historyQuery(filters, 2)).toEqual({
      status: "Completed",
      customer_name: "ACME",
      motherboard_model: "",
      since: undefined,
      limit: 25,
      offset: 50,
    });
    const { fetch, calls } = recorder(200, { jobs: [], total: 0 });
    const c = new Client(fetch);
    await c.searchJobs("x13", historyQuery(filters, 1));
    await c.jobs(historyQuery(filters, 1));
    expect(calls.map((x) => x.url)).toEqual([
      "/api/jobs/search?status=Completed&customer_name=ACME&limit=25&offset=25&q=x13",
      "/api/jobs?status=Completed&customer_name=ACME&limit=25&offset=25",
    ]);
  });
});
