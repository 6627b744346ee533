import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { api, problemOf, unwrap } from "../api/client";
import type { Category, JobCard, Problem, Skill } from "../api/types";
import { cityCoordinates } from "../cities";
import { Alert, CityList, Loading } from "../components";
import { label, money } from "../format";
import { useLoad } from "../hooks";

type Sort = "newest" | "pay" | "distance";

export function useCatalog(): { categories: Category[]; skills: Skill[] } {
  const { data } = useLoad(async () => {
    const [categories, skills] = await Promise.all([api.GET("/api/v1/categories"), api.GET("/api/v1/skills")]);
    return { categories: unwrap(categories), skills: unwrap(skills) };
  }, "catalog");
  return data ?? { categories: [], skills: [] };
}

/** The search form mirrors the URL (so a search is a link); the URL holds the API's query parameters. */
export function Search() {
  const { query, route } = useLocation();
  const { categories, skills } = useCatalog();
  const [q, setQ] = useState(query.q ?? "");
  const [category, setCategory] = useState(query.category ?? "");
  const [skill, setSkill] = useState(query.skill ?? "");
  const [payMin, setPayMin] = useState(query.pay_min ? String(Number(query.pay_min) / 100) : "");
  const [payMax, setPayMax] = useState(query.pay_max ? String(Number(query.pay_max) / 100) : "");
  const [place, setPlace] = useState(query.city ?? (query.near ? "My location" : ""));
  const [near, setNear] = useState(query.near ?? "");
  const [radius, setRadius] = useState(query.radius_km ?? "50");
  const [sort, setSort] = useState<Sort>((query.sort as Sort) ?? "newest");
  const [formError, setFormError] = useState<Problem | null>(null);

  const params = new URLSearchParams(location.search);
  params.delete("city");
  const key = params.toString();

  const search = () => {
    const next = new URLSearchParams();
    if (q.trim()) next.set("q", q.trim());
    if (category) next.set("category", category);
    if (skill) next.set("skill", skill);
    if (payMin) next.set("pay_min", String(Math.round(Number(payMin) * 100)));
    if (payMax) next.set("pay_max", String(Math.round(Number(payMax) * 100)));
    let at = near;
    if (place && place !== "My location") {
      const coordinates = cityCoordinates(place);
      if (!coordinates) {
        setFormError({ ...localProblem, detail: `Unknown city "${place}": pick one from the list, or use Near me.` });
        return;
      }
      at = coordinates.join(",");
      next.set("city", place);
    }
    if (!place) at = "";
    if (at) {
      next.set("near", at);
      next.set("radius_km", radius);
    }
    if (sort !== "newest") next.set("sort", sort);
    setFormError(null);
    route(`/?${next.toString()}`);
  };

  const nearMe = () => {
    if (!navigator.geolocation) {
      setFormError({ ...localProblem, detail: "This browser cannot tell where you are; type a city instead." });
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setNear(`${position.coords.latitude.toFixed(4)},${position.coords.longitude.toFixed(4)}`);
        setPlace("My location");
        setFormError(null);
      },
      () => setFormError({ ...localProblem, detail: "Your location is not available; type a city instead." }),
    );
  };

  return (
    <section>
      <h1>Find work</h1>
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          search();
        }}
      >
        <label class="wide">
          Keyword
          <input type="search" value={q} maxLength={200} onInput={(e) => setQ(e.currentTarget.value)} />
        </label>
        <label>
          Category
          <select value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
            <option value="">Any category</option>
            {categories.map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Skill
          <select value={skill} onChange={(e) => setSkill(e.currentTarget.value)}>
            <option value="">Any skill</option>
            {skills.map((s) => (
              <option key={s.slug} value={s.slug}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Min pay
          <input type="number" min="0" step="0.01" value={payMin} onInput={(e) => setPayMin(e.currentTarget.value)} />
        </label>
        <label>
          Max pay
          <input type="number" min="0" step="0.01" value={payMax} onInput={(e) => setPayMax(e.currentTarget.value)} />
        </label>
        <label>
          City
          <input list="cities" value={place} onInput={(e) => setPlace(e.currentTarget.value)} />
        </label>
        <CityList />
        <button type="button" class="secondary" onClick={nearMe}>
          Near me
        </button>
        <label>
          Radius (km)
          <input type="number" min="1" max="1000" value={radius} onInput={(e) => setRadius(e.currentTarget.value)} />
        </label>
        <label>
          Sort
          <select value={sort} onChange={(e) => setSort(e.currentTarget.value as Sort)}>
            <option value="newest">Newest</option>
            <option value="pay">Best paid</option>
            <option value="distance">Nearest</option>
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <Alert problem={formError} />
      <Results key={key} search={key} />
    </section>
  );
}

const localProblem: Problem = { type: "about:blank", code: "invalid_input", title: "Invalid input", status: 0, detail: "" };

function Results({ search }: { search: string }) {
  const [more, setMore] = useState<JobCard[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [moreError, setMoreError] = useState<Problem | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const first = useLoad(() => page(search, null), search);

  if (first.loading) return <Loading />;
  if (first.error) return <Alert problem={first.error} />;
  const items = [...(first.data?.items ?? []), ...more];
  const next = cursor === undefined ? first.data?.next_cursor : cursor;

  const loadMore = async () => {
    if (!next || loadingMore) return;
    setLoadingMore(true);
    try {
      const result = await page(search, next);
      setMore((m) => [...m, ...result.items]);
      setCursor(result.next_cursor);
      setMoreError(null);
    } catch (e) {
      setMoreError(problemOf(e));
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <>
      <p class="muted" aria-live="polite">
        {items.length === 0 ? "No open jobs match this search." : `${items.length}${next ? "+" : ""} open jobs`}
      </p>
      <ul class="cards">
        {items.map((job) => (
          <li key={job.id}>
            <Card job={job} />
          </li>
        ))}
      </ul>
      <Alert problem={moreError} />
      {next ? (
        <button type="button" class="secondary" onClick={() => void loadMore()} disabled={loadingMore}>
          Load more
        </button>
      ) : null}
    </>
  );
}

async function page(search: string, cursor: string | null) {
  const p = new URLSearchParams(search);
  const skill = p.get("skill");
  return unwrap(
    await api.GET("/api/v1/jobs", {
      params: {
        query: {
          q: p.get("q") ?? undefined,
          category: p.get("category") ?? undefined,
          skill: skill ? [skill] : undefined,
          pay_min: p.has("pay_min") ? Number(p.get("pay_min")) : undefined,
          pay_max: p.has("pay_max") ? Number(p.get("pay_max")) : undefined,
          near: p.get("near") ?? undefined,
          radius_km: p.has("radius_km") ? Number(p.get("radius_km")) : undefined,
          sort: (p.get("sort") as Sort | null) ?? undefined,
          cursor: cursor ?? undefined,
          limit: 20,
        },
      },
    }),
  );
}

function Card({ job }: { job: JobCard }) {
  return (
    <article class="card">
      <h2>
        <a href={`/jobs/${job.id}`}>{job.title}</a>
      </h2>
      <p class="pay">
        {money(job.pay_rate_minor, job.currency)}
        {job.pay_type === "hourly" ? ` / hour · ${job.hours} h` : " fixed"}
      </p>
      <p class="muted">
        {job.category.name}
        {job.location?.city ? ` · ${job.location.city}` : ""}
        {job.distance_km !== null && job.distance_km !== undefined ? ` · ${job.distance_km.toFixed(1)} km` : ""}
        {job.openings > 1 ? ` · ${job.openings} openings` : ""}
      </p>
      <p class="muted">
        {label(job.status)} · by {job.client.full_name}
      </p>
    </article>
  );
}
