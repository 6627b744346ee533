import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { problemOf } from "./api/client";
import type { Problem } from "./api/types";

/** A writing action: ignored while one is in flight (a double click sends one request), with its problem. */
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  const inFlight = useRef(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<Problem | null>(null);
  const run = useCallback(
    async (...args: A) => {
      if (inFlight.current) return;
      inFlight.current = true;
      setPending(true);
      setError(null);
      try {
        await action(...args);
      } catch (e) {
        setError(problemOf(e));
      } finally {
        inFlight.current = false;
        setPending(false);
      }
    },
    [action],
  );
  return { run, pending, error };
}

export type Loaded<T> = { data: T | undefined; error: Problem | null; loading: boolean; reload: () => void };

/** Data for a screen, loaded again whenever `key` changes (or on `reload()`). */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(problemOf(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, round]);
  return { data, error, loading, reload: () => setRound((r) => r + 1) };
}

/** A random Idempotency-Key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
