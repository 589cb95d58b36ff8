// Browser tests of the web UI against a real `waitctl demo`, in Debian's chromium driven
// by playwright-core (no browser download). Screenshots of every page go to
// web/test-artifacts/screenshots. Any console error or uncaught page error fails the test.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startDemo, stopDemo } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const shots = resolve(here, "../../test-artifacts/screenshots");
const waitctl = resolve(process.env.WAITCTL ?? resolve(here, "../../../target/debug/waitctl"));
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const LONG = 180_000;

let server;
let browser;
const errors = [];

function sha256(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

// The session probe answers 401 before login by design (HTTP status, not a script error).
function expected(msg) {
  return /status of 401/.test(msg.text()) && /\/api\/auth\/(me|login)/.test(msg.location().url ?? "");
}

async function newPage() {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() === "error" && !expected(msg)) errors.push(`console: ${msg.text()} @ ${msg.location().url}`);
  });
  page.on("pageerror", (err) => errors.push(`page error: ${err.message}`));
  return page;
}

function assertNoErrors() {
  const found = errors.splice(0);
  assert.deepEqual(found, [], "the browser reported errors");
}

async function login(page, username, password) {
  await page.goto(`${server.base}/`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("whoami").waitFor();
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

describe("web UI against waitctl demo", { concurrency: false }, () => {
  before(async () => {
    mkdirSync(shots, { recursive: true });
    server = await startDemo(waitctl);
    browser = await chromium.launch({ executablePath: browserPath, args: ["--no-sandbox"] });
  });

  after(async () => {
    await browser?.close();
    await stopDemo(server);
  });

  test("login page, then the dashboard with the demo build", { timeout: LONG }, async () => {
    const page = await newPage();
    await page.goto(`${server.base}/history`);
    await page.getByRole("heading", { name: "Sign in to WAIT" }).waitFor();
    await shot(page, "01-login");
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    await page.getByLabel("Password").fill(server.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    // back where the user wanted to go
    await page.getByRole("heading", { name: "History" }).waitFor();
    await page.getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("heading", { name: "Recent builds" }).waitFor();
    await page.getByTestId("status-badge").first().waitFor();
    await shot(page, "02-dashboard");
    await page.getByRole("link", { name: "History" }).click();
    await page.getByText(/Page 1 of/).waitFor();
    await shot(page, "03-history");
    await page.context().close();
    assertNoErrors();
  });

  test("submit a build and watch it reach Completed, then read its detail", { timeout: LONG }, async () => {
    const page = await newPage();
    await login(page, "admin", server.password);
    await page.getByRole("link", { name: "New build" }).first().click();
    const base = page.getByLabel("Base image");
    await base.waitFor();
    const options = await base.locator("option").allTextContents();
    const image = options.find((o) => o.endsWith(".wim") || o.includes(".wim "));
    assert.ok(image, `a base image is offered: ${options.join(" | ")}`);
    await base.selectOption({ index: 1 });
    // the client check speaks before the server is asked
    await page.getByRole("button", { name: "Start build" }).click();
    await page.getByText("Choose a motherboard.").waitFor();
    await page.getByLabel("Motherboard").fill("x13");
    await page.getByRole("button", { name: /X13SAW.*% match/ }).click();
    await page.getByText("recommended").waitFor();
    await page.getByLabel("Product key").fill("abc");
    await page.getByRole("button", { name: "Start build" }).click();
    await page.getByText(/five groups of five/).waitFor();
    await page.getByLabel("Product key").fill("");
    await shot(page, "04-new-build");
    await page.getByRole("button", { name: "Start build" }).click();
    await page.waitForURL(/\/jobs\//);
    // live log and progress until the final status
    await page.getByTestId("status-badge").filter({ hasText: "Completed" }).waitFor({ timeout: LONG });
    const progress = await page.getByRole("progressbar").getAttribute("aria-valuenow");
    assert.equal(progress, "100");
    const log = await page.getByTestId("log").innerText();
    assert.match(log, /\[resolve\]/, "the log shows the build's lines");
    // manifest and input hashes, checked against the repository's files
    await page.getByTestId("manifest").waitFor();
    const manifest = JSON.parse(await page.getByTestId("manifest").innerText());
    assert.ok(Array.isArray(manifest.timings) && manifest.timings.length > 0, "manifest has timings");
    await page.getByRole("list", { name: "Stage timeline" }).waitFor();
    const inputs = page.getByRole("table", { name: "Inputs" });
    const repo = join(server.dataDir, "WAIT_Repository");
    const baseImages = join(repo, "1_BaseImages");
    const wim = readdirSync(baseImages).find((f) => f.endsWith(".wim"));
    assert.ok(wim, "the demo repository has a base image");
    await inputs.getByText(sha256(join(baseImages, wim))).waitFor();
    await shot(page, "05-job-detail");
    await page.context().close();
    assertNoErrors();
  });

  test("download the checksum file from Outputs", { timeout: LONG }, async () => {
    const page = await newPage();
    await login(page, "admin", server.password);
    await page.getByRole("link", { name: "Outputs" }).click();
    const first = page.getByTestId("output").first();
    await first.waitFor();
    await shot(page, "06-outputs");
    const shown = (await first.getByTestId("sha256").first().innerText()).replace("sha256 ", "").trim();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      first.getByRole("link", { name: "Checksums" }).click(),
    ]);
    const text = readFileSync(await download.path(), "utf8");
    assert.match(text, new RegExp(`^${shown} \\*install\\.wim$`, "m"), "the checksum file names the hash the page shows");
    // and that hash is the image's on disk, computed here independently
    const folder = await first.locator(".font-mono.font-medium").innerText();
    const customer = (await page.getByRole("region").first().getByRole("heading").first().innerText()).trim();
    const image = join(server.dataDir, "WAIT_Repository", "8_Output", customer, folder.trim(), "install.wim");
    assert.equal(sha256(image), shown);
    await page.context().close();
    assertNoErrors();
  });

  test("create a webhook and see its secret exactly once", { timeout: LONG }, async () => {
    const page = await newPage();
    await login(page, "admin", server.password);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByLabel("URL").fill("https://hooks.example.com/wait");
    await page.getByRole("button", { name: "Create webhook" }).click();
    const secret = page.getByTestId("secret");
    await secret.waitFor();
    assert.match(await secret.innerText(), /[0-9a-f]{32,}/);
    await page.getByTestId("webhook").first().waitFor();
    await shot(page, "07-webhooks");
    await page.reload();
    await page.getByTestId("webhook").first().waitFor();
    assert.equal(await page.getByTestId("secret").count(), 0, "the secret is not shown again");
    await page.getByRole("link", { name: "Users & tokens" }).click();
    await page.getByRole("heading", { name: "Users", exact: true }).waitFor();
    await shot(page, "08-users-tokens");
    await page.context().close();
    assertNoErrors();
  });

  test("edit a webhook and see the new secret once", { timeout: LONG }, async () => {
    const page = await newPage();
    await login(page, "admin", server.password);
    await page.getByRole("link", { name: "Webhooks" }).click();
    const url = `https://hooks.example.com/edited-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
    const hook = page.getByTestId("webhook").first();
    await hook.waitFor();
    await hook.getByRole("button", { name: "Edit" }).click();
    const form = hook.getByRole("form", { name: /Edit webhook/ });
    await form.getByLabel("URL").fill(url);
    await form.getByLabel("Format").selectOption("slack");
    await form.getByLabel("Replace the signing secret").check();
    await form.getByRole("button", { name: "Save changes" }).click();
    const secret = form.getByTestId("secret");
    await secret.waitFor();
    assert.match(await secret.innerText(), /[0-9a-f]{32,}/);
    await page.getByTestId("webhook").filter({ hasText: url }).filter({ hasText: "slack" }).first().waitFor();
    await shot(page, "10-webhook-edit");
    await page.reload();
    await page.getByTestId("webhook").filter({ hasText: url }).first().waitFor();
    assert.equal(await page.getByTestId("secret").count(), 0, "the new secret is not shown again");
    await page.context().close();
    assertNoErrors();
  });

  test("an admin edits a customer's template with a live preview", { timeout: LONG }, async () => {
    const page = await newPage();
    await login(page, "admin", server.password);
    await page.getByRole("link", { name: "Customers" }).click();
    await page.getByRole("heading", { name: "Template tokens" }).waitFor();
    const name = `ACME${process.pid}`;
    await page.getByLabel("Customer", { exact: true }).fill(name);
    const template = page.getByLabel("Folder naming template");
    const preview = page.getByTestId("folder-preview");
    await template.fill("{customer}-{board}");
    await preview.filter({ hasText: `${name}-BOARD` }).waitFor();
    // the quick check speaks at the field without asking the server
    await template.fill("{customer}/{nope");
    await page.getByText(/“\/” at character 11/).waitFor();
    await template.fill("{board}_{customer}_{date}");
    await preview.filter({ hasText: new RegExp(`^BOARD_${name}_\\d{8}$`) }).waitFor();
    await shot(page, "11-customers-edit");
    await page.getByRole("button", { name: "Save customer" }).click();
    await page.getByText(`Saved ${name}.`).waitFor();
    const row = page.getByTestId("customer").filter({ hasText: name });
    await row.getByText("{board}_{customer}_{date}").waitFor();
    // editing an existing one: its template is in the form, the name is fixed
    await row.getByRole("button", { name: `Edit ${name}` }).click();
    await page.getByRole("heading", { name: `Edit ${name}` }).waitFor();
    assert.equal(await page.getByLabel("Folder naming template").inputValue(), "{board}_{customer}_{date}");
    await page.getByLabel("Folder naming template").fill("{customer}_{timestamp}");
    await preview.filter({ hasText: new RegExp(`^${name}_\\d{8}_\\d{6}$`) }).waitFor();
    await page.getByRole("button", { name: "Save customer" }).click();
    await row.getByText("{customer}_{timestamp}").waitFor();
    await shot(page, "12-customers");
    await page.context().close();
    assertNoErrors();
  });

  test("a viewer sees no New build and no Cancel", { timeout: LONG }, async () => {
    // unique, so the test also runs again against one long-lived demo (WAIT_UI_BASE)
    const viewer = `viewer${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const admin = await newPage();
    await login(admin, "admin", server.password);
    await admin.getByRole("link", { name: "Users & tokens" }).click();
    await admin.getByLabel("Username").fill(viewer);
    await admin.getByLabel("Password", { exact: true }).fill("viewer password 1");
    await admin.getByRole("button", { name: "Add user" }).click();
    await admin.getByRole("cell", { name: viewer }).waitFor();
    // the admin resets the new user's password; too short is refused at the field
    await admin.getByRole("row", { name: viewer }).getByRole("button", { name: "Reset password" }).click();
    const reset = admin.getByLabel(`New password for ${viewer}`, { exact: true });
    await reset.fill("short");
    await admin.getByRole("button", { name: "Set password", exact: true }).click();
    await admin.getByText("Use at least 8 characters.").waitFor();
    await reset.fill("viewer password 2");
    await admin.getByRole("button", { name: "Set password", exact: true }).click();
    await admin.getByText("Password changed").waitFor();
    await shot(admin, "14-users-password-reset");
    await admin.context().close();

    const page = await newPage();
    await login(page, viewer, "viewer password 2");
    await page.getByRole("heading", { name: "Recent builds" }).waitFor();
    assert.equal(await page.getByRole("link", { name: "New build" }).count(), 0);
    await page.getByRole("table").last().getByRole("link").first().click();
    await page.getByRole("heading", { name: "Inputs" , exact: false }).first().waitFor();
    assert.equal(await page.getByRole("button", { name: "Cancel" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Clone" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: "Delete" }).count(), 0);
    await shot(page, "09-viewer-job-detail");
    // customers: readable, not editable
    await page.getByRole("link", { name: "Customers" }).click();
    await page.getByText("Only admins change customers").waitFor();
    await page.getByTestId("customer").first().waitFor();
    assert.equal(await page.getByRole("button", { name: "Save customer" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: /^Edit / }).count(), 0);
    assert.equal(await page.getByLabel("Folder naming template").count(), 0);
    await shot(page, "13-customers-viewer");
    await page.context().close();
    assertNoErrors();
  });
});
