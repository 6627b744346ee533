// The bell in the header and the notifications page, both live from the stream (src/notifications.ts).
import { useEffect, useState } from "preact/hooks";
import { api, done, unwrap } from "../api/client";
import type { Notification } from "../api/types";
import { Alert, Loading, SignedIn } from "../components";
import { dateTime } from "../format";
import { useAction } from "../hooks";
import { onNotification, refreshUnread, startLive, useUnreadCount } from "../notifications";

/** Mounted while someone is signed in: it holds their live stream. */
export function Bell() {
  const count = useUnreadCount();
  useEffect(() => startLive(), []);
  return (
    <a href="/notifications" class="bell" aria-label={count === null ? "Notifications" : `Notifications, ${count} unread`}>
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
        <path
          fill="currentColor"
          d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
        />
      </svg>
      {count ? <span class="count">{count}</span> : null}
    </a>
  );
}

/** A notification's link, when it is a path in this app (anything else is not followed). */
function appPath(link: string): string | null {
  return link.startsWith("/") && !link.startsWith("//") ? link : null;
}

export function NotificationsPage() {
  return (
    <SignedIn>
      <NotificationList />
    </SignedIn>
  );
}

function NotificationList() {
  const [items, setItems] = useState<Notification[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const add = (page: Notification[], atTop: boolean) =>
    setItems((old) => {
      const seen = new Set(page.map((n) => n.id));
      const rest = (old ?? []).filter((n) => !seen.has(n.id));
      return atTop ? [...page, ...rest] : [...rest, ...page];
    });
  const more = useAction(async (after: string | undefined) => {
    const page = unwrap(await api.GET("/api/v1/notifications", { params: { query: { limit: 20, cursor: after } } }));
    add(page.items, false);
    setCursor(page.next_cursor);
  });
  useEffect(() => {
    void more.run(undefined);
    return onNotification((n) => add([n], true));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const readAll = useAction(async () => {
    done(await api.POST("/api/v1/notifications/read-all"));
    const now = new Date().toISOString();
    setItems((old) => (old ?? []).map((n) => (n.read_at ? n : { ...n, read_at: now })));
    await refreshUnread();
  });
  const replace = (read: Notification) => setItems((old) => (old ?? []).map((n) => (n.id === read.id ? read : n)));

  return (
    <section>
      <h1>Notifications</h1>
      <div class="actions">
        <button type="button" onClick={() => void readAll.run()} disabled={readAll.pending}>
          Mark all read
        </button>
      </div>
      <Alert problem={readAll.error} />
      {items === null ? (
        more.error ? null : <Loading />
      ) : items.length === 0 ? (
        <p class="muted">Nothing yet.</p>
      ) : (
        <ul class="plain notifications">
          {items.map((n) => (
            <NotificationItem key={n.id} notification={n} onRead={replace} />
          ))}
        </ul>
      )}
      <Alert problem={more.error} />
      {cursor ? (
        <button type="button" class="secondary" onClick={() => void more.run(cursor)} disabled={more.pending}>
          Load more
        </button>
      ) : null}
    </section>
  );
}

function NotificationItem({ notification: n, onRead }: { notification: Notification; onRead: (n: Notification) => void }) {
  const read = useAction(async () => {
    const path = { params: { path: { notification_id: n.id } } };
    onRead(unwrap(await api.POST("/api/v1/notifications/{notification_id}/read", path)));
    await refreshUnread();
  });
  const path = appPath(n.link);
  return (
    <li class={n.read_at ? "read" : "unread"}>
      {n.read_at ? null : <span class="badge badge-pending">unread</span>} {path ? <a href={path}>{n.title}</a> : n.title}{" "}
      <span class="muted">{dateTime(n.created_at)}</span>
      {n.body ? <p class="quote">{n.body}</p> : null}
      {n.read_at ? null : (
        <button type="button" class="secondary small" onClick={() => void read.run()} disabled={read.pending}>
          Mark read
        </button>
      )}
      <Alert problem={read.error} />
    </li>
  );
}
