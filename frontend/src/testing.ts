// Test helpers: a stubbed fetch that records every request and answers with `serve`.
import { cleanup } from "@testing-library/preact";
import { afterEach, beforeEach, vi } from "vitest";

export type Call = { method: string; path: string; headers: Headers; body: string };

export const fake = {
  calls: [] as Call[],
  serve: (() => json(500, {})) as (call: Call) => Response | Promise<Response>,
};

export const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });

export const problem = (status: number, code: string, detail: string) =>
  json(status, { type: `tag:marketplace,2026:problem:${code}`, code, title: "Conflict", status, detail });

export function deferred() {
  let resolve!: (r: Response) => void;
  const promise = new Promise<Response>((r) => (resolve = r));
  return { promise, resolve };
}

/** Call once per test file: every test gets a fresh call log and a fetch answered by `fake.serve`. */
export function stubFetch() {
  beforeEach(() => {
    fake.calls = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (request: Request) => {
        const call = {
          method: request.method,
          path: new URL(request.url).pathname,
          headers: request.headers,
          body: await request.text(),
        };
        fake.calls.push(call);
        return fake.serve(call);
      }),
    );
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });
}
