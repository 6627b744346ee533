import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

// The build goes into the Python package (app/web/), committed, so the service runs with only Python.
// `npm run dev` proxies the API, so development needs no CORS.
const api = process.env.API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "../app/web",
    emptyOutDir: true,
    // No inline scripts or data: URLs, so the strict CSP (default-src 'self') holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { "/api": api, "/health": api },
  },
  test: {
    environment: "happy-dom",
    environmentOptions: { happyDOM: { url: "http://127.0.0.1:8000/" } },
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
