/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to a running `waitctl serve` (default port 8080).
const api = process.env.WAIT_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", assetsDir: "assets", emptyOutDir: true },
  server: { proxy: { "/api": { target: api, changeOrigin: false } } },
  test: { include: ["tests/unit/**/*.test.ts"], environment: "node" },
});
