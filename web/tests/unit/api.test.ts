import { describe, expect, it } from "vitest";
import { ApiError, Client, downloadUrl, withQuery } from "../../src/lib/api";
import type { Fetch } from "../../src/lib/api";

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fake(status: number, body: unknown, contentType = "application/json"): { fetch: Fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: Fetch = async (url, init) => {
    calls.push({ url, init });
    const text = typeof body === "string" ? body : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers: { "content-type": contentType } });
  };
  return { fetch, calls };
}

describe("withQuery", () => {
  it("leaves out empty values and encodes the rest", () => {
    expect(withQuery("/api/jobs", { status: "Completed", customer_name: "", limit: 10, q: undefined })).toBe(
      "/api/jobs?status=Completed&limit=10",
    );
    expect(withQuery("/api/jobs", { q: "a b&c" })).toBe("/api/jobs?q=a+b%26c");
    expect(withQuery("/api/jobs")).toBe("/api/jobs");
    expect(withQuery("/api/jobs", { a: null })).toBe("/api/jobs");
  });
});

describe("Client", () => {
  it("posts JSON with the session cookie and returns the parsed answer", async () => {
    const { fetch, calls } = fake(200, { user: { id: 1, username: "admin", role: "admin" } });
    const user = await new Client(fetch).login("admin", "pw");
    expect(user.user.role).toBe("admin");
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.url).toBe("/api/auth/login");
    expect(call.init?.method).toBe("POST");
    expect(call.init?.credentials).toBe("same-origin");
    expect(JSON.parse(String(call.init?.body))).toEqual({ username: "admin", password: "pw" });
    expect((call.init?.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
  });

  it("sends no body or content type on GET", async () => {
    const { fetch, calls } = fake(200, { jobs: [], total: 0 });
    await new Client(fetch).jobs({ status: "Queued", offset: 25 });
    expect(calls[0]!.url).toBe("/api/jobs?status=Queued&offset=25");
    expect(calls[0]!.init?.body).toBeUndefined();
    expect((calls[0]!.init?.headers as Record<string, string>)["Content-Type"]).toBeUndefined();
  });

  it("turns an API error body into ApiError with code, message and field", async () => {
    const { fetch } = fake(422, {
      error: { code: "not_found", message: "base_image nope.wim is not in 1_BaseImages", field: "base_image" },
    });
    const err = await new Client(fetch).createJob({ motherboard_model: "X", base_image: "nope.wim" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(422);
    expect(e.code).toBe("not_found");
    expect(e.field).toBe("base_image");
    expect(e.message).toContain("nope.wim");
  });

  it("explains a non-JSON failure in human words", async () => {
    const { fetch } = fake(502, "<html>bad gateway</html>", "text/html");
    const e = (await new Client(fetch).queue().catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(502);
    expect(e.field).toBeUndefined();
    expect(e.message).toMatch(/server had a problem/);
  });

  it("says the session ended on a bare 401", async () => {
    const { fetch } = fake(401, "", "text/plain");
    const e = (await new Client(fetch).me().catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/sign in again/);
  });

  it("reports a network failure as ApiError status 0", async () => {
    const fetch: Fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    const e = (await new Client(fetch).me().catch((x: unknown) => x)) as ApiError;
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(0);
    expect(e.code).toBe("network");
  });

  it("returns undefined for 204 and text for non-JSON answers", async () => {
    expect(await new Client(fake(204, "").fetch).logout()).toBeUndefined();
    const text = await new Client(fake(200, "a  b\n", "text/plain").fetch).request<string>("GET", "/x");
    expect(text).toBe("a  b\n");
  });

  it("puts job ids in paths encoded and cancel's id in the query", async () => {
    const { fetch, calls } = fake(200, {});
    const c = new Client(fetch);
    await c.job("a/b");
    await c.cancelJob("j1");
    await c.deleteJob("j2", true);
    await c.manifest("j3");
    expect(calls.map((x) => `${x.init?.method} ${x.url}`)).toEqual([
      "GET /api/jobs/a%2Fb",
      "POST /api/job/cancel?job_id=j1",
      "DELETE /api/job?job_id=j2&purge_output=true",
      "GET /api/job/manifest?job_id=j3&format=json",
    ]);
  });
});

describe("downloadUrl", () => {
  it("builds the output download paths", () => {
    expect(downloadUrl("DEMO/20261126_X13SAW", "")).toBe("/api/outputs/DEMO/20261126_X13SAW/download");
    expect(downloadUrl("DEMO/20261126_X13SAW", "checksum")).toBe(
      "/api/outputs/DEMO/20261126_X13SAW/download/checksum",
    );
    expect(downloadUrl("A B/f", "wim")).toBe("/api/outputs/A%20B/f/download/wim");
  });
});
