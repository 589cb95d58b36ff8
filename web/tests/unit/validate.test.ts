import { describe, expect, it } from "vitest";
import { normaliseProductKey, productKeyError, validateJobRequest } from "../../src/lib/validate";
import { fitFor } from "../../src/lib/fit";
import { formatBytes, formatDuration, secondsBetween } from "../../src/lib/format";
import type { ImageIndex, RepoFile } from "../../src/types/api";

const ok = { motherboard_model: "X13SAW", base_image: "win.wim" };

describe("product key", () => {
  it("normalises as the user types", () => {
    expect(normaliseProductKey("abcde")).toBe("ABCDE");
    expect(normaliseProductKey("abcdef")).toBe("ABCDE-F");
    expect(normaliseProductKey("ab cd-e1 2345")).toBe("ABCDE-12345");
    expect(normaliseProductKey("X".repeat(40))).toBe("XXXXX-XXXXX-XXXXX-XXXXX-XXXXX");
  });

  it.each([
    ["", null],
    ["ABCDE-12345-ABCDE-12345-ABCDE", null],
    ["ABCDE-12345-ABCDE-12345", "five groups"],
    ["ABCDE-12345-ABCDE-12345-ABCD", "five groups"],
    ["abcde-12345-abcde-12345-abcde", "five groups"],
    ["ABCDE_12345_ABCDE_12345_ABCDE", "five groups"],
    ["ABCDE-12345-ABCDE-12345-ABCDE-", "five groups"],
  ])("%j gives %j", (key, problem) => {
    const got = productKeyError(key);
    if (problem === null) expect(got).toBeNull();
    else expect(got).toContain(problem);
  });
});

describe("validateJobRequest", () => {
  it("accepts a minimal request", () => {
    expect(validateJobRequest(ok)).toEqual({});
  });

  it("names the field of every problem", () => {
    expect(Object.keys(validateJobRequest({ motherboard_model: " ", base_image: "" })).sort()).toEqual([
      "base_image",
      "motherboard_model",
    ]);
    expect(validateJobRequest({ ...ok, customer_name: "a b" }).customer_name).toBeDefined();
    expect(validateJobRequest({ ...ok, customer_name: "x".repeat(65) }).customer_name).toBeDefined();
    expect(validateJobRequest({ ...ok, customer_name: "ACME_01" })).toEqual({});
    expect(validateJobRequest({ ...ok, product_key: "ABC" }).product_key).toBeDefined();
  });

  it("wants a key for the key variants that carry one", () => {
    expect(validateJobRequest({ ...ok, key_variants: "both" }).key_variants).toBeDefined();
    expect(validateJobRequest({ ...ok, key_variants: "key" }).key_variants).toBeDefined();
    expect(validateJobRequest({ ...ok, key_variants: "nokey" })).toEqual({});
    expect(
      validateJobRequest({ ...ok, key_variants: "key", product_key: "ABCDE-12345-ABCDE-12345-ABCDE" }),
    ).toEqual({});
  });
});

describe("fitFor", () => {
  const image: ImageIndex = {
    index: 1,
    name: "Windows 11",
    edition: "IoTEnterpriseS",
    arch: "x64",
    build: 26100,
    version: "10.0.26100.1",
    languages: ["en-US"],
    size: 1,
  };
  const file = (info: RepoFile["info"], extra: Partial<RepoFile> = {}): RepoFile => ({
    path: "4_Updates/a.cab",
    file: "a.cab",
    size: 1,
    info,
    error: null,
    ...extra,
  });

  it("fits when arch and build match or are not stated", () => {
    expect(fitFor(file({ arch: "x64", build: 26100 }), image, "").fits).toBe(true);
    expect(fitFor(file({ arch: null, build: null }), image, "").fits).toBe(true);
  });

  it("gives the reason when it does not fit", () => {
    expect(fitFor(file({ arch: "arm64", build: 26100 }), image, "")).toEqual({
      fits: false,
      reason: "for arm64, the image is x64",
    });
    expect(fitFor(file({ arch: "x64", build: 22631 }), image, "").reason).toContain("22631");
    expect(fitFor(file({}, { customer: "ACME" }), image, "OTHER").reason).toContain("ACME");
    expect(fitFor(file(null, { error: "a.cab: not a package" }), image, "").reason).toBe("a.cab: not a package");
  });
});

describe("format", () => {
  it("shows sizes in human units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(19018246)).toBe("18.1 MiB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GiB");
    expect(formatBytes(-1)).toBe("—");
  });

  it("shows durations in human units", () => {
    expect(formatDuration(0.0659)).toBe("66 ms");
    expect(formatDuration(12.34)).toBe("12.3 s");
    expect(formatDuration(125)).toBe("2 min 5 s");
    expect(formatDuration(null)).toBe("—");
    expect(secondsBetween("2026-01-01T00:00:00Z", "2026-01-01T00:01:30Z")).toBe(90);
    expect(secondsBetween(null, "2026-01-01T00:00:00Z")).toBeNull();
  });
});
