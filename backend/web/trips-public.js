/* The public page of mobile brigade trips (trips.html): GET /api/v1/public/trips for the
 * region named in the page's address (?region=), else the first; one section per trip —
 * its day, the villages in order with their times and meeting places, the partner
 * organisations, how to book. Every text the server sends is shown as text, never as
 * HTML. */
const $ = (id) => document.getElementById(id);

const dayText = (day) => new Date(`${day}T12:00:00`).toLocaleDateString("ru-RU",
  { weekday: "long", day: "numeric", month: "long" });

function element(tag, text, className) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function tripSection(trip) {
  const section = element("section", null, "trip");
  section.dataset.trip = trip.id;
  section.append(element("h2", `${dayText(trip.day)}: ${trip.title}`));
  const list = element("ol", null, "settlements");
  for (const s of trip.settlements) {
    list.append(element("li", `${s.arrives}–${s.leaves} — ${s.name}${s.place ? ` (${s.place})` : ""}`));
  }
  section.append(list);
  if (trip.partners.length) {
    section.append(element("h3", "Вместе с бригадой"));
    const partners = element("ul", null, "partners");
    for (const p of trip.partners) partners.append(element("li", p.activity ? `${p.name} — ${p.activity}` : p.name));
    section.append(partners);
  }
  section.append(element("p", `Организует: ${trip.office}${trip.office_address ? `, ${trip.office_address}` : ""}.`));
  section.append(element("p", trip.booking_info || "Запись — в организующем офисе.", "booking"));
  return section;
}

async function load() {
  const region = new URLSearchParams(location.search).get("region");
  const res = await fetch(`/api/v1/public/trips${region ? `?region=${encodeURIComponent(region)}` : ""}`);
  const data = res.ok ? await res.json() : null;
  if (!data) {
    $("trips").replaceChildren(element("p", "Расписание сейчас недоступно. Попробуйте позже.", "error"));
    return;
  }
  $("region").textContent = data.region ? data.region.name : "";
  $("trips").replaceChildren(...(data.trips.length ? data.trips.map(tripSection)
    : [element("p", "Объявленных выездов пока нет.", "nodata")]));
}

load();
