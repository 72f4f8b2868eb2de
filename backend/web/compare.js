/* The citizens' comparison of providers (compare.html): GET /api/v1/public/comparison for a
 * region and a month (default: the last full month), shown as a table — satisfaction with
 * its lower bound and the number of ratings, the card-confirmed share, punctuality. Every
 * text the server sends is shown as text, never as HTML. */
const $ = (id) => document.getElementById(id);

const percent = (share) => (share == null ? "—" : `${(Number(share) * 100).toFixed(1).replace(".", ",")} %`);
const count = (n, one, few, many) => {
  const m10 = n % 10, m100 = n % 100;
  const word = m10 === 1 && m100 !== 11 ? one : m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? few : many;
  return `${n} ${word}`;
};

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render(data) {
  $("minutes").textContent = String(data.punctual_minutes);
  const [y, m] = data.month.split("-");
  $("period").textContent = `${data.region.name}, ${new Date(Number(y), Number(m) - 1, 1)
    .toLocaleDateString("ru-RU", { month: "long", year: "numeric" })}`;
  const table = document.createElement("table");
  table.id = "providers";
  table.innerHTML = `<caption>Поставщики региона</caption><thead><tr><th scope="col">Поставщик</th>
    <th scope="col" class="number">Довольны</th><th scope="col" class="number">Не менее (95 %)</th>
    <th scope="col" class="number">Оценок</th><th scope="col" class="number">Подтверждено картой</th>
    <th scope="col" class="number">Вовремя</th><th scope="col" class="number">Посещений</th></tr></thead><tbody></tbody>`;
  const body = table.querySelector("tbody");
  for (const p of data.providers) {
    const tr = document.createElement("tr");
    tr.dataset.provider = p.id;
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = p.name;
    tr.append(name, cell(percent(p.satisfied_share), "number satisfied"), cell(percent(p.satisfied_lower), "number lower"),
      cell(String(p.rated), "number rated"), cell(percent(p.confirmed_share), "number confirmed"),
      cell(percent(p.punctual_share), "number punctual"), cell(count(p.ended, "посещение", "посещения", "посещений"), "number ended"));
    body.append(tr);
  }
  $("table").replaceChildren(table);
  if (!data.providers.length) $("table").textContent = "В этом регионе пока нет поставщиков.";
}

async function load() {
  const params = new URLSearchParams();
  if ($("region").value) params.set("region", $("region").value);
  if ($("month").value) params.set("month", $("month").value);
  $("status").textContent = "Загрузка…";
  const res = await fetch(`/api/v1/public/comparison?${params}`);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    $("status").textContent = data.detail ? `Не удалось: ${data.detail}` : "Сервер не отвечает, попробуйте позже.";
    return null;
  }
  $("status").textContent = "";
  render(data);
  return data;
}

async function start() {
  const data = await load();
  if (!data) return;
  for (const r of data.regions) $("region").append(new Option(r.name, r.id, false, r.id === data.region.id));
  $("month").value = data.month;
  $("region").addEventListener("change", load);
  $("month").addEventListener("change", load);
  document.body.dataset.ready = "true";
}

start();
