// Starts a real `waitctl demo` (synthetic repository, admin user, one finished build) on
// a free port of 127.0.0.1 in a fresh data folder, and stops it again.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const READY = /Serving http:\/\/(\S+)/;

function startOnce(waitctl, dataDir, port) {
  return new Promise((resolve, reject) => {
    const child = spawn(waitctl, ["demo", "--data-dir", dataDir, "--bind", `127.0.0.1:${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const onData = (chunk) => {
      out += chunk.toString();
      const m = READY.exec(out);
      if (m) {
        child.stdout.off("data", onData);
        child.stdout.resume();
        resolve({ child, base: `http://${m[1]}`, output: () => out });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => {
      out += chunk.toString();
    });
    child.on("exit", (code) => reject(Object.assign(new Error(`waitctl demo exited with ${code}:\n${out}`), { out })));
  });
}

export async function startDemo(waitctl) {
  // an already running demo (e.g. `vite preview` in front of one) instead of a new one
  if (process.env.WAIT_UI_BASE && process.env.WAIT_UI_DATA_DIR) {
    const dataDir = process.env.WAIT_UI_DATA_DIR;
    const password = readFileSync(join(dataDir, "demo-admin-password"), "utf8").trim();
    return { child: null, base: process.env.WAIT_UI_BASE, dataDir, password, output: () => "" };
  }
  const dataDir = mkdtempSync(join(tmpdir(), "wait-ui-test-"));
  // a taken port makes `waitctl demo` exit at once (it binds before preparing); try another
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    try {
      const server = await startOnce(waitctl, dataDir, port);
      const password = readFileSync(join(dataDir, "demo-admin-password"), "utf8").trim();
      return { ...server, dataDir, password };
    } catch (e) {
      if (!/in use|AddrInUse|address/i.test(String(e.out ?? e))) throw e;
    }
  }
  throw new Error("no free port found for waitctl demo after 5 tries");
}

export async function stopDemo(server) {
  if (!server?.child) return;
  if (server.child.exitCode === null) {
    await new Promise((resolve) => {
      server.child.once("exit", resolve);
      server.child.kill("SIGINT");
    });
  }
  // only the folder this module made; an outside demo's (WAIT_UI_DATA_DIR) is left alone
  rmSync(server.dataDir, { recursive: true, force: true });
}
