export function money(minor: number, currency: string): string {
  return new Intl.NumberFormat("en", { style: "currency", currency }).format(minor / 100);
}

/** A money field typed in major units ("12.50") as minor units, or undefined when empty or invalid. */
export function toMinor(text: string): number | undefined {
  const value = Number(text.trim());
  return text.trim() === "" || !Number.isFinite(value) || value <= 0 ? undefined : Math.round(value * 100);
}

export function date(iso: string): string {
  return new Date(iso).toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric" });
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" });
}

export function label(status: string): string {
  return status.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

export function rating(avg: number | null | undefined, count?: number): string {
  if (avg === null || avg === undefined) return "no ratings yet";
  return `${avg.toFixed(1)} ★${count === undefined ? "" : ` (${count})`}`;
}

/** A shift's time span: "Mar 3, 2026, 9:00 AM – 5:00 PM" (the end's date only when it differs). */
export function span(startsAt: string, endsAt: string): string {
  const start = new Date(startsAt);
  const end = new Date(endsAt);
  const sameDay = start.toDateString() === end.toDateString();
  const endText = sameDay ? end.toLocaleTimeString("en", { timeStyle: "short" }) : dateTime(endsAt);
  return `${dateTime(startsAt)} – ${endText}`;
}

/** A worker's attendance record in words: "3 attended, 1 no-show, 0 late cancellations". */
export function attendance(r: { attended: number; no_shows: number; late_cancellations: number }): string {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return `${r.attended} attended, ${plural(r.no_shows, "no-show", "no-shows")}, ${plural(r.late_cancellations, "late cancellation", "late cancellations")}`;
}
