// The signed-in person's notifications, live: the unread count for the bell, and every notification the
// stream delivers for the screens that show something it is about (the list, a message thread).
import { useEffect, useState } from "preact/hooks";
import { api, unwrap } from "./api/client";
import type { Notification } from "./api/types";
import { follow, type StreamOpener } from "./sse";

let unread: number | null = null;
let asked = 0; // answers to older unread-count requests are dropped
const countSubscribers = new Set<(count: number | null) => void>();
const listeners = new Set<(n: Notification) => void>();

function setUnread(count: number | null): void {
  unread = count;
  countSubscribers.forEach((s) => s(count));
}

/** Ask the server for the unread count (after a change here, on each (re)connect and each live event). */
export async function refreshUnread(): Promise<void> {
  const mine = ++asked;
  const { count } = unwrap(await api.GET("/api/v1/notifications/unread-count"));
  if (mine === asked) setUnread(count);
}

/** The unread count, null until known. */
export function useUnreadCount(): number | null {
  const [count, setCount] = useState(unread);
  useEffect(() => {
    countSubscribers.add(setCount);
    setCount(unread);
    return () => {
      countSubscribers.delete(setCount);
    };
  }, []);
  return count;
}

/** Be told of each notification the live stream delivers while subscribed. */
export function onNotification(listener: (n: Notification) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const openStream: StreamOpener = async (lastEventId, signal) => {
  const { response, data } = await api.GET("/api/v1/notifications/stream", {
    params: { header: lastEventId === null ? {} : { "last-event-id": lastEventId } },
    parseAs: "stream",
    signal,
  });
  if (response.ok) void refreshUnread().catch(() => undefined); // what happened while it was closed
  return { status: response.status, body: data ?? null };
};

/** Follow the stream for the signed-in person until the returned function is called (at sign-out). */
export function startLive(): () => void {
  const stop = new AbortController();
  void follow(
    openStream,
    (event) => {
      if (event.event !== "notification") return;
      const notification = JSON.parse(event.data) as Notification;
      listeners.forEach((l) => l(notification));
      void refreshUnread().catch(() => undefined);
    },
    stop.signal,
  );
  return () => {
    stop.abort();
    asked += 1;
    setUnread(null);
  };
}
