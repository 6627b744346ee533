import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { api, unwrap } from "../api/client";
import type { JobCreate, PayType, Problem } from "../api/types";
import { cityCoordinates } from "../cities";
import { Alert, CityList, SignedIn } from "../components";
import { toMinor } from "../format";
import { useAction } from "../hooks";
import { useCatalog } from "./Search";

export function NewJob() {
  return (
    <SignedIn role="client">
      <JobForm />
    </SignedIn>
  );
}

function JobForm() {
  const { route } = useLocation();
  const { categories, skills } = useCatalog();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [category, setCategory] = useState("");
  const [chosenSkills, setChosenSkills] = useState<string[]>([]);
  const [payType, setPayType] = useState<PayType>("fixed");
  const [payRate, setPayRate] = useState("");
  const [hours, setHours] = useState("");
  const [openings, setOpenings] = useState("1");
  const [city, setCity] = useState("");
  const [lat, setLat] = useState("");
  const [lng, setLng] = useState("");
  const [startsAt, setStartsAt] = useState("");
  const [endsAt, setEndsAt] = useState("");
  const [shifts, setShifts] = useState<{ start: string; end: string }[]>([]);
  const [formError, setFormError] = useState<Problem | null>(null);

  const post = useAction(async () => {
    const rate = toMinor(payRate);
    if (rate === undefined) {
      setFormError(invalid("Pay rate must be a positive amount."));
      return;
    }
    const scheduled = shifts.length > 0; // then the hours (of an hourly job) and the dates come from the shifts
    const body: JobCreate = {
      title,
      description,
      category: category || (categories[0]?.slug ?? ""),
      skills: chosenSkills,
      pay_type: payType,
      pay_rate_minor: rate,
      hours: payType === "hourly" && !scheduled ? Number(hours) : null,
      openings: Number(openings),
      location: city && lat && lng ? { city, lat: Number(lat), lng: Number(lng) } : null,
      starts_at: startsAt && !scheduled ? new Date(startsAt).toISOString() : null,
      ends_at: endsAt && !scheduled ? new Date(endsAt).toISOString() : null,
      shifts: scheduled ? shifts.map((x) => ({ starts_at: isoOf(x.start), ends_at: isoOf(x.end) })) : null,
    };
    setFormError(null);
    const job = unwrap(await api.POST("/api/v1/jobs", { body }));
    route(`/jobs/${job.id}`);
  });

  const setShift = (index: number, part: "start" | "end", value: string) =>
    setShifts((all) => all.map((x, i) => (i === index ? { ...x, [part]: value } : x)));
  // A new shift starts where the last one ended (often the next day's shift is typed next).
  const addShift = () => setShifts((all) => [...all, { start: all.at(-1)?.end ?? "", end: "" }]);
  const removeShift = (index: number) => setShifts((all) => all.filter((_, i) => i !== index));

  const pickCity = (name: string) => {
    setCity(name);
    const coordinates = cityCoordinates(name);
    if (coordinates) {
      setLat(String(coordinates[0]));
      setLng(String(coordinates[1]));
    }
  };

  return (
    <section class="narrow">
      <h1>Post a job</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void post.run();
        }}
      >
        <label>
          Title
          <input required minLength={3} maxLength={120} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <label>
          Description
          <textarea rows={5} maxLength={5000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label>
          Category
          <select required value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
            <option value="" disabled>
              Choose a category
            </option>
            {categories.map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Skills
          <select
            multiple
            size={6}
            onChange={(e) => setChosenSkills(Array.from(e.currentTarget.selectedOptions, (o) => o.value))}
          >
            {skills.map((s) => (
              <option key={s.slug} value={s.slug} selected={chosenSkills.includes(s.slug)}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <div class="row">
          <label>
            Pay type
            <select value={payType} onChange={(e) => setPayType(e.currentTarget.value as PayType)}>
              <option value="fixed">Fixed price</option>
              <option value="hourly">Hourly</option>
            </select>
          </label>
          <label>
            Pay rate
            <input
              type="number"
              required
              min="0.01"
              step="0.01"
              value={payRate}
              onInput={(e) => setPayRate(e.currentTarget.value)}
            />
          </label>
          <label>
            Hours
            <input
              type="number"
              min="1"
              max="10000"
              step="1"
              required={payType === "hourly" && shifts.length === 0}
              disabled={payType !== "hourly" || shifts.length > 0}
              placeholder={payType === "hourly" && shifts.length > 0 ? "from the shifts" : undefined}
              value={payType === "hourly" && shifts.length === 0 ? hours : ""}
              onInput={(e) => setHours(e.currentTarget.value)}
            />
          </label>
          <label>
            Openings
            <input
              type="number"
              required
              min="1"
              max="50"
              step="1"
              value={openings}
              onInput={(e) => setOpenings(e.currentTarget.value)}
            />
          </label>
        </div>
        <fieldset>
          <legend>Location (optional)</legend>
          <div class="row">
            <label>
              City
              <input list="cities" value={city} onInput={(e) => pickCity(e.currentTarget.value)} />
            </label>
            <CityList />
            <label>
              Latitude
              <input type="number" min="-90" max="90" step="any" value={lat} onInput={(e) => setLat(e.currentTarget.value)} />
            </label>
            <label>
              Longitude
              <input type="number" min="-180" max="180" step="any" value={lng} onInput={(e) => setLng(e.currentTarget.value)} />
            </label>
          </div>
        </fieldset>
        <fieldset>
          <legend>Shifts (optional)</legend>
          <p class="muted">
            With shifts, hired workers check in and out of each one and submit their hours; an hourly job's hours and
            the job's dates come from its shifts.
          </p>
          {shifts.map((shift, i) => (
            <div class="row" key={i} role="group" aria-label={`Shift ${i + 1}`}>
              <label>
                Shift start
                <input
                  type="datetime-local"
                  required
                  value={shift.start}
                  onInput={(e) => setShift(i, "start", e.currentTarget.value)}
                />
              </label>
              <label>
                Shift end
                <input
                  type="datetime-local"
                  required
                  min={shift.start || undefined}
                  value={shift.end}
                  onInput={(e) => setShift(i, "end", e.currentTarget.value)}
                />
              </label>
              <button type="button" class="secondary small" aria-label={`Remove shift ${i + 1}`} onClick={() => removeShift(i)}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" class="secondary" onClick={addShift} disabled={shifts.length >= 60}>
            Add shift
          </button>
        </fieldset>
        {shifts.length === 0 ? (
          <div class="row">
            <label>
              Starts
              <input type="datetime-local" value={startsAt} onInput={(e) => setStartsAt(e.currentTarget.value)} />
            </label>
            <label>
              Ends
              <input type="datetime-local" value={endsAt} onInput={(e) => setEndsAt(e.currentTarget.value)} />
            </label>
          </div>
        ) : null}
        <Alert problem={formError ?? post.error} />
        <button type="submit" disabled={post.pending}>
          Post job
        </button>
      </form>
    </section>
  );
}

/** A `datetime-local` value (the browser's local time) as an instant. */
function isoOf(local: string): string {
  return new Date(local).toISOString();
}

function invalid(detail: string): Problem {
  return { type: "about:blank", code: "invalid_input", title: "Invalid input", status: 0, detail };
}
