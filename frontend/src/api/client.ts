// Every API call goes through `api` (openapi-fetch, typed from the API's OpenAPI) and `authFetch`:
// the access token lives in this module only (never in storage or a readable cookie); the refresh token
// is an HttpOnly cookie the browser sends to /api/v1/auth only.
import createClient from "openapi-fetch";
import type { paths } from "./schema";
import type { Problem } from "./types";

let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(signedIn: boolean) => void>();

export function onSessionChange(listener: (signedIn: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setToken(token: string | null): void {
  const changed = (token === null) !== (accessToken === null);
  accessToken = token;
  if (changed) listeners.forEach((l) => l(token !== null));
}

export function hasSession(): boolean {
  return accessToken !== null;
}

/** Bearer header in, one silent refresh and one retry on a 401 outside /auth/. */
export async function authFetch(request: Request): Promise<Response> {
  const retry = request.clone(); // a body can be read once: keep a copy for the retry
  const response = await fetch(withToken(request));
  if (response.status !== 401 || new URL(request.url).pathname.startsWith("/api/v1/auth/")) return response;
  if (!(await refreshSession())) return response;
  return fetch(withToken(retry));
}

function withToken(request: Request): Request {
  if (accessToken) request.headers.set("Authorization", `Bearer ${accessToken}`);
  return request;
}

export const api = createClient<paths>({ baseUrl: location.origin, fetch: authFetch });

/** One refresh in flight per tab, and one at a time across tabs (each presents the current cookie). */
export function refreshSession(): Promise<boolean> {
  refreshing ??= inLock(async () => {
    const { data } = await api.POST("/api/v1/auth/session/refresh", { body: {} });
    setToken(data?.access_token ?? null);
    return data !== undefined;
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function inLock<T>(task: () => Promise<T>): Promise<T> {
  return navigator.locks ? (navigator.locks.request("auth-refresh", task) as Promise<T>) : task();
}

export async function signIn(email: string, password: string): Promise<void> {
  setToken(unwrap(await api.POST("/api/v1/auth/session", { body: { email, password } })).access_token);
}

export async function signOut(): Promise<void> {
  try {
    await api.POST("/api/v1/auth/session/logout", { body: {} });
  } finally {
    setToken(null);
  }
}

/** An API answer that is an error: the problem document (or a stand-in when the network failed). */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

/** The data of a successful answer; a problem is thrown as an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) throw failure(result);
  return result.data;
}

/** A successful answer without a body (204); a problem is thrown as an ApiError. */
export function done(result: { error?: unknown; response: Response }): void {
  if (result.error !== undefined || !result.response.ok) throw failure(result);
}

function failure(result: { error?: unknown; response: Response }): ApiError {
  const problem = result.error as Partial<Problem> | undefined;
  return new ApiError({
    type: problem?.type ?? "about:blank",
    code: problem?.code ?? "http_error",
    title: problem?.title ?? result.response.statusText,
    status: problem?.status ?? result.response.status,
    detail: problem?.detail ?? `The server answered ${result.response.status}.`,
  });
}

export function problemOf(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  return {
    type: "about:blank",
    code: "network_error",
    title: "Network error",
    status: 0,
    detail: "The server could not be reached. Check your connection and try again.",
  };
}
