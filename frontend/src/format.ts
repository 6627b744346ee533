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
