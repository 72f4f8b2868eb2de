# Sourced by tools/demo: the path before the first visit, through the real API. A citizen
# files an application on the public form, the front office's lead verifies it, the
# department's caseworker approves it with a programme (the recipient, the certificate and
# the visit plans appear in one transaction), and the citizen reads the status page with
# the number and the secret code. Expects $root, $var, $build, $db, $carefactd and
# $listen (or $demo_url, $demo_ca) as tools/demo sets them, and the demo accounts
# office-lead and dept-case from demo-data.out.

# demo_json FIELD...: print the JSON document on stdin's fields (a.b.c paths), one a line.
demo_json() {
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const doc = JSON.parse(s);
        for (const path of process.argv.slice(1))
            console.log(path.split(".").reduce((v, k) => (v == null ? v : v[k]), doc) ?? "");
    });' "$@"
}

demo_application() {
    local url=${demo_url:-http://$listen} tls=() office back provider worker
    [ -z "${demo_ca:-}" ] || tls=(--cacert "$demo_ca")
    office=$(psql "$db" -XtAc "SELECT md5('demo:office:1')::uuid")
    back=$(psql "$db" -XtAc "SELECT md5('demo:office:back')::uuid")
    provider=$(psql "$db" -XtAc "SELECT md5('demo:provider:1')::uuid")
    worker=$(psql "$db" -XtAc "SELECT md5('demo:worker:1')::uuid")
    # The application's states as the citizen's status page names them (backend/web/public.js).
    local states='{"draft":"формируется","submitted":"передано на проверку","verified":"проверено, передано в департамент",
                   "assessment":"рассматривается в департаменте","approved":"одобрено"}'

    say "12. A citizen files an application on the public form (no sign-in)"
    echo "\$ curl -H 'Content-Type: application/json' -d '{\"office_id\":…,\"applicant_name\":\"Петрова Анна Сергеевна\",…,\"consent\":true}' $url/api/v1/public/applications"
    local filed number code id
    filed=$(curl -fsS "${tls[@]}" -H 'Content-Type: application/json' -d "{
        \"office_id\": \"$office\", \"applicant_name\": \"Петрова Анна Сергеевна\",
        \"applicant_birth_date\": \"1944-03-18\", \"applicant_phone\": \"+7 (900) 555-01-02\",
        \"applicant_address\": \"г. Вологда, ул. Ленина, д. 7, кв. 3\", \"category\": \"elderly\",
        \"purpose\": \"home_care\", \"details\": \"Нужна помощь с покупками\", \"consent\": true}" \
        "$url/api/v1/public/applications")
    { read -r id; read -r number; read -r code; } < <(demo_json application.id application.number code <<<"$filed")
    echo "заявление № $number подано; код для страницы статуса: $code (показан один раз)"

    # demo_move LOGIN BODY: sign in as the demo account LOGIN (demo-data.out has its
    # password), post the transition, print the new state.
    demo_move() {
        local csrf password
        password=$(sed -n "s/^demo account: login $1 password \([^ ]*\).*/\1/p" "$var/demo-data.out")
        csrf=$(curl -fsS "${tls[@]}" -c "$var/staff.cookies" -H 'Content-Type: application/json' \
            -d "{\"login\":\"$1\",\"password\":\"$password\"}" "$url/api/v1/session" | demo_json csrf_token)
        echo "\$ curl -b cookies -d '$(tr -s ' \n' ' ' <<<"$2" | head -c 60)…' $url/api/v1/applications/$id/transitions   # as $1"
        curl -fsS "${tls[@]}" -b "$var/staff.cookies" -H "X-CSRF-Token: $csrf" \
            -H 'Content-Type: application/json' -d "$2" "$url/api/v1/applications/$id/transitions" |
            STATES=$states node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
                const a = JSON.parse(s).application, names = JSON.parse(process.env.STATES);
                console.log(`заявление № ${a.number}: ${names[a.state] || a.state}` +
                            (a.certificate_id ? `; сертификат выдан, решение ${a.decided_at.slice(0, 10)}` : ""));
            });'
    }
    say "13. The front office verifies it; the department approves it with a programme"
    demo_move office-lead '{"to":"verified"}'
    demo_move dept-case '{"to":"assessment"}'
    local today until
    today=$(psql "$db" -XtAc "SELECT (now() AT TIME ZONE 'Europe/Moscow')::date")
    until=$(psql "$db" -XtAc "SELECT (now() AT TIME ZONE 'Europe/Moscow')::date + 364")
    demo_move dept-case "{\"to\":\"approved\",\"programme\":{\"provider_id\":\"$provider\",
        \"valid_from\":\"$today\",\"valid_to\":\"$until\",
        \"services\":[{\"code\":\"HH-SHOP\",\"volume\":8,\"period\":\"month\"}],
        \"rules\":[{\"worker_id\":\"$worker\",\"weekdays\":[2,4],\"time\":\"11:00\",\"services\":[\"HH-SHOP\"]}]}}"
    echo "визиты запланированы на 14 дней: $(psql "$db" -XtAc "SELECT count(*) FROM visit_plans p
          JOIN applications a ON a.recipient_id = p.recipient_id WHERE a.id = '$id'") (вт и чт в 11:00, работник Смирнова О. В.)"

    say "14. The citizen's status page: the number and the code"
    echo "\$ curl -d '{\"number\":\"$number\",\"code\":\"…\"}' $url/api/v1/public/applications/status"
    curl -fsS "${tls[@]}" -H 'Content-Type: application/json' \
        -d "{\"number\":\"$number\",\"code\":\"$code\"}" "$url/api/v1/public/applications/status" |
        STATES=$states node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
            const st = JSON.parse(s), names = JSON.parse(process.env.STATES);
            console.log(`статус заявления № ${st.number}: ${names[st.state] || st.state}; программа — до ${st.programme_due}`);
            console.log(`путь: ${st.journal.map((j) => names[j.to] || j.to).join(" → ")}`);
        });'
    echo "The same page for people: $url/status.html; the office's journal and the funnel: $url/#/applications"
}
