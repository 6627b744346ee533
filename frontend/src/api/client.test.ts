import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

type Client = typeof import("./client");

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });
const problem = (status: number, code: string) =>
  json(status, { type: `tag:marketplace,2026:problem:${code}`, code, title: "t", status, detail: `${code} detail` });

let calls: { url: string; auth: string | null; body: string }[];
let serve: (request: Request) => Promise<Response>;

async function freshClient(): Promise<Client> {
  vi.resetModules(); // the access token is module state: each test starts signed out
  return import("./client");
}

beforeEach(() => {
  calls = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      calls.push({ url: new URL(request.url).pathname, auth: request.headers.get("Authorization"), body: await request.clone().text() });
      return serve(request);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  sessionStorage.clear();
});

/** A fake API: tokens "t1", "t2", ... issued by sign-in and each refresh; only the newest is valid. */
function fakeApi(options: { refreshDelay?: number } = {}) {
  let issued = 0;
  serve = async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/api/v1/auth/session" || path === "/api/v1/auth/session/refresh") {
      if (path.endsWith("refresh") && options.refreshDelay) await new Promise((r) => setTimeout(r, options.refreshDelay));
      issued += 1;
      return json(200, { access_token: `t${issued}`, token_type: "bearer", expires_in: 900 });
    }
    if (request.headers.get("Authorization") !== `Bearer t${issued}`) return problem(401, "unauthorized");
    return json(200, { id: 7, echo: await request.text() });
  };
  return { expire: () => (issued += 100) }; // the server moves on: the client's token is now stale
}

const refreshes = () => calls.filter((c) => c.url === "/api/v1/auth/session/refresh").length;

describe("authFetch", () => {
  it("sends the bearer token it holds", async () => {
    fakeApi();
    const { api, signIn } = await freshClient();
    await signIn("a@example.com", "pw");
    const { data } = await api.GET("/api/v1/users/me");
    expect(data).toMatchObject({ id: 7 });
    expect(calls.at(-1)).toMatchObject({ url: "/api/v1/users/me", auth: "Bearer t1" });
  });

  it("refreshes once for concurrent 401s and retries each request once, body included", async () => {
    const server = fakeApi({ refreshDelay: 20 });
    const { api, signIn } = await freshClient();
    await signIn("a@example.com", "pw");
    server.expire();
    const [a, b, c] = await Promise.all([
      api.GET("/api/v1/users/me"),
      api.PATCH("/api/v1/users/me", { body: { headline: "hello" } }),
      api.GET("/api/v1/users/me"),
    ]);
    expect(refreshes()).toBe(1);
    expect([a.response.status, b.response.status, c.response.status]).toEqual([200, 200, 200]);
    expect(b.data).toMatchObject({ echo: JSON.stringify({ headline: "hello" }) });
    const retried = calls.filter((x) => x.url === "/api/v1/users/me" && x.auth === "Bearer t102");
    expect(retried).toHaveLength(3);
  });

  it("retries only once: a second 401 is returned, not refreshed again", async () => {
    fakeApi();
    serve = async (request) =>
      new URL(request.url).pathname.endsWith("/refresh")
        ? json(200, { access_token: "fresh", token_type: "bearer", expires_in: 900 })
        : problem(401, "unauthorized");
    const { api } = await freshClient();
    const { error, response } = await api.GET("/api/v1/users/me");
    expect(response.status).toBe(401);
    expect(error).toMatchObject({ code: "unauthorized" });
    expect(refreshes()).toBe(1);
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/users/me", "/api/v1/auth/session/refresh", "/api/v1/users/me"]);
  });

  it("never refreshes for a 401 from the auth endpoints themselves", async () => {
    serve = async () => problem(401, "invalid_credentials");
    const { api } = await freshClient();
    const { error } = await api.POST("/api/v1/auth/session", { body: { email: "a@example.com", password: "bad" } });
    expect(error).toMatchObject({ code: "invalid_credentials", detail: "invalid_credentials detail" });
    expect(calls).toHaveLength(1);
  });

  it("serialises refreshes across tabs with the Web Locks API", async () => {
    const requested: string[] = [];
    vi.stubGlobal("navigator", {
      ...navigator,
      locks: { request: (name: string, task: () => Promise<unknown>) => (requested.push(name), task()) },
    });
    const server = fakeApi();
    const { api, signIn } = await freshClient();
    await signIn("a@example.com", "pw");
    server.expire();
    await api.GET("/api/v1/users/me");
    expect(requested).toEqual(["auth-refresh"]);
  });

  it("keeps the access token out of every storage a script could read later", async () => {
    fakeApi();
    const { signIn, hasSession } = await freshClient();
    await signIn("a@example.com", "pw");
    expect(hasSession()).toBe(true);
    expect(localStorage.length).toBe(0);
    expect(sessionStorage.length).toBe(0);
    expect(document.cookie).not.toContain("t1");
  });

  it("forgets the session when the refresh fails", async () => {
    const server = fakeApi();
    const { api, signIn, hasSession, onSessionChange } = await freshClient();
    await signIn("a@example.com", "pw");
    const changes: boolean[] = [];
    onSessionChange((signedIn) => changes.push(signedIn));
    server.expire();
    serve = async () => problem(401, "invalid_refresh_token");
    await api.GET("/api/v1/users/me");
    expect(hasSession()).toBe(false);
    expect(changes).toEqual([false]);
  });
});
