import { useState } from "preact/hooks";
import { useRoute } from "preact-iso";
import { api, unwrap } from "../api/client";
import type { Account, ProfileUpdate, Review } from "../api/types";
import { cityCoordinates } from "../cities";
import { Alert, CityList, Loading, SignedIn } from "../components";
import { attendance, date, label, money, rating, toMinor } from "../format";
import { useAction, useLoad } from "../hooks";
import { reloadMe, useMe } from "../session";
import { useCatalog } from "./Search";

export function UserPage() {
  const { params } = useRoute();
  const userId = Number(params.id);
  const currency = useMe()?.currency ?? "USD";
  const user = useLoad(async () => {
    const path = { params: { path: { user_id: userId } } };
    const [profile, received, given] = await Promise.all([
      api.GET("/api/v1/users/{user_id}", path),
      api.GET("/api/v1/users/{user_id}/reviews", path),
      api.GET("/api/v1/users/{user_id}/reviews/given", path),
    ]);
    return { profile: unwrap(profile), received: unwrap(received), given: unwrap(given) };
  }, `user-${userId}`);
  if (user.loading) return <Loading />;
  if (user.error) return <Alert problem={user.error} />;
  const { profile, received, given } = user.data!;
  return (
    <article>
      <h1>{profile.full_name}</h1>
      <p>
        {label(profile.role)}
        {profile.city ? ` · ${profile.city}` : ""} · {rating(profile.rating_avg, profile.rating_count)} ·{" "}
        {profile.completed_jobs} completed jobs · member since {date(profile.created_at)}
      </p>
      {profile.reliability ? (
        <p>
          Reliability: <strong>{Math.round(profile.reliability.score * 100)}%</strong> ({attendance(profile.reliability)})
        </p>
      ) : null}
      {profile.headline ? <p class="lead">{profile.headline}</p> : null}
      {profile.bio ? <p>{profile.bio}</p> : null}
      {profile.skills.length ? <p>Skills: {profile.skills.map((s) => s.name).join(", ")}</p> : null}
      {profile.hourly_rate_minor ? <p>Hourly rate: {money(profile.hourly_rate_minor, currency)}</p> : null}
      <h2>Reviews received ({received.rating_count})</h2>
      <ReviewList reviews={received.items} who="reviewer" />
      <h2>Reviews given</h2>
      <ReviewList reviews={given.items} who="reviewee" />
    </article>
  );
}

function ReviewList({ reviews, who }: { reviews: Review[]; who: "reviewer" | "reviewee" }) {
  if (reviews.length === 0) return <p class="muted">None yet.</p>;
  return (
    <ul class="plain reviews">
      {reviews.map((r) => (
        <li key={r.id}>
          <strong>{"★".repeat(r.rating)}</strong>
          <span class="sr-only">{r.rating} of 5 stars</span> {who === "reviewer" ? "from" : "for"}{" "}
          <a href={`/users/${r[who].id}`}>{r[who].full_name}</a> on <a href={`/jobs/${r.job.id}`}>{r.job.title}</a>{" "}
          <span class="muted">{date(r.created_at)}</span>
          {r.comment ? <p class="quote">{r.comment}</p> : null}
        </li>
      ))}
    </ul>
  );
}

export function ProfilePage() {
  return (
    <SignedIn>
      <ProfileForm me={useMe()!} />
    </SignedIn>
  );
}

function ProfileForm({ me }: { me: Account }) {
  const { skills } = useCatalog();
  const [fullName, setFullName] = useState(me.full_name);
  const [headline, setHeadline] = useState(me.headline ?? "");
  const [bio, setBio] = useState(me.bio ?? "");
  const [phone, setPhone] = useState(me.phone ?? "");
  const [hourlyRate, setHourlyRate] = useState(me.hourly_rate_minor ? String(me.hourly_rate_minor / 100) : "");
  const [mySkills, setMySkills] = useState(me.skills.map((s) => s.slug));
  const [city, setCity] = useState(me.location?.city ?? "");
  const [lat, setLat] = useState(me.location ? String(me.location.lat) : "");
  const [lng, setLng] = useState(me.location ? String(me.location.lng) : "");
  const [payoutMethod, setPayoutMethod] = useState<"bank_transfer" | "paypal">(
    (me.payout_details?.method as "bank_transfer" | "paypal" | undefined) ?? "bank_transfer",
  );
  const [payoutAccount, setPayoutAccount] = useState(me.payout_details?.account ?? "");
  const [saved, setSaved] = useState(false);

  const save = useAction(async () => {
    const body: ProfileUpdate = {
      full_name: fullName,
      headline: headline || null,
      bio: bio || null,
      phone: phone || null,
      skills: mySkills,
    };
    const rate = toMinor(hourlyRate);
    if (rate !== undefined) body.hourly_rate_minor = rate;
    if (city && lat && lng) body.location = { city, lat: Number(lat), lng: Number(lng) };
    if (payoutAccount) body.payout_details = { method: payoutMethod, account: payoutAccount };
    setSaved(false);
    unwrap(await api.PATCH("/api/v1/users/me", { body }));
    await reloadMe();
    setSaved(true);
  });

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
      <h1>My profile</h1>
      <p>
        {me.email} ({me.email_verified ? "verified" : "not verified yet: open the link we e-mailed you"}) ·{" "}
        {label(me.role)} · <a href={`/users/${me.id}`}>see my public profile</a>
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save.run();
        }}
      >
        <label>
          Full name
          <input required maxLength={120} value={fullName} onInput={(e) => setFullName(e.currentTarget.value)} />
        </label>
        <label>
          Headline
          <input maxLength={160} value={headline} onInput={(e) => setHeadline(e.currentTarget.value)} />
        </label>
        <label>
          Bio
          <textarea rows={4} maxLength={5000} value={bio} onInput={(e) => setBio(e.currentTarget.value)} />
        </label>
        <label>
          Phone
          <input type="tel" value={phone} onInput={(e) => setPhone(e.currentTarget.value)} />
        </label>
        <label>
          Hourly rate
          <input type="number" min="0.01" step="0.01" value={hourlyRate} onInput={(e) => setHourlyRate(e.currentTarget.value)} />
        </label>
        <label>
          Skills
          <select
            multiple
            size={6}
            onChange={(e) => setMySkills(Array.from(e.currentTarget.selectedOptions, (o) => o.value))}
          >
            {skills.map((s) => (
              <option key={s.slug} value={s.slug} selected={mySkills.includes(s.slug)}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Location</legend>
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
          <legend>Payout details</legend>
          <div class="row">
            <label>
              Payout method
              <select value={payoutMethod} onChange={(e) => setPayoutMethod(e.currentTarget.value as "bank_transfer" | "paypal")}>
                <option value="bank_transfer">Bank transfer</option>
                <option value="paypal">PayPal</option>
              </select>
            </label>
            <label>
              Payout account
              <input minLength={4} maxLength={64} value={payoutAccount} onInput={(e) => setPayoutAccount(e.currentTarget.value)} />
            </label>
          </div>
        </fieldset>
        <Alert problem={save.error} />
        {saved ? (
          <p role="status" class="notice">
            Profile saved.
          </p>
        ) : null}
        <button type="submit" disabled={save.pending}>
          Save profile
        </button>
      </form>
    </section>
  );
}
