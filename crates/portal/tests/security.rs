//! The portal as an attacker sees it, over real HTTP on loopback: permissions,
//! another subscription's token, replays, database failures, panics, and the shape
//! of every error.

use license_core::serial::serial_from_facts_text;
use license_core::{ActivationCode, Environment, EnvironmentType, InstallOptions};
use license_portal::faults::Fault;
use license_portal::fixture::TestPortal;
use license_portal::permission::Permission;

const ALL: &[Permission] = &Permission::ALL;
use serde_json::Value;

struct World {
    url: String,
    portal: TestPortal,
    env: Environment,
    code_a: ActivationCode,
    code_b: ActivationCode,
    serial_a: String,
    token_a: String,
    token_b: String,
    _dir: tempfile::TempDir,
}

/// Subscription A with one registered, licensed environment; subscription B beside it.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::open(&license_core::demo::create(dir.path()).unwrap()).unwrap();
    let code_a = env.installed_activation_code().unwrap();
    let code_b = ActivationCode::from_payload("B0B0B0B0B0B0B0B0B0B0B0B0").unwrap();
    let portal = TestPortal::start(&dir.path().join("vendor.key"));
    let url = portal.url.clone();
    portal.subscription(&code_a, vec![(EnvironmentType::Production, 2)]);
    portal.subscription(&code_b, vec![(EnvironmentType::Production, 2)]);
    let token_a = portal.token(&code_a, ALL);
    let token_b = portal.token(&code_b, ALL);
    let req = env.license_request(None).unwrap();
    let lic = post(&url, "/api/v1/license-requests", &token_a, req.text.as_bytes(), &[]);
    assert_eq!(lic.status(), 200);
    env.install(lic.into_string().unwrap().as_bytes(), InstallOptions { confirmed: true }, &mut |_| {}).unwrap();
    let serial_a = env.serial().unwrap().serial_number.to_string();
    World { url, portal, env, code_a, code_b, serial_a, token_a, token_b, _dir: dir }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().redirects(0).build()
}

fn answer(r: Result<ureq::Response, ureq::Error>) -> ureq::Response {
    match r {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    }
}

fn post(url: &str, path: &str, token: &str, body: &[u8], headers: &[(&str, &str)]) -> ureq::Response {
    let mut rq = agent().post(&format!("{url}{path}")).set("Authorization", &format!("Bearer {token}"));
    for (k, v) in headers {
        rq = rq.set(k, v);
    }
    answer(rq.send_bytes(body))
}

fn call(url: &str, method: &str, path: &str, token: &str) -> ureq::Response {
    answer(agent().request(method, &format!("{url}{path}")).set("Authorization", &format!("Bearer {token}")).call())
}

/// Status, problem type and detail: everything a client can observe.
fn observed(r: ureq::Response) -> (u16, String, String) {
    let status = r.status();
    let ctype = r.content_type().to_string();
    let body: Value = r.into_json().unwrap();
    assert_eq!(ctype, "application/problem+json", "{body}");
    (status, body["type"].as_str().unwrap().to_string(), body["detail"].as_str().unwrap().to_string())
}

fn upload(w: &World, token: &str, audit: &[u8]) -> ureq::Response {
    post(&w.url, "/api/v1/audits", token, audit, &[("Idempotency-Key", &license_core::sha256_hex(audit))])
}

#[test]
fn another_subscriptions_token_learns_nothing_and_changes_nothing() {
    let w = world();
    let unknown = serial_from_facts_text("platform_uuid=6a1f0000-0000-4000-8000-000000000001\n").to_string();
    let (b, a_code, b_code) = (&w.token_b, &w.code_a, &w.code_b);
    // Each attempt on A's serial gets exactly the answer for a serial registered nowhere.
    let same = |what: &str, f: &dyn Fn(&str) -> ureq::Response| {
        let on_a = observed(f(&w.serial_a));
        let on_unknown = observed(f(&unknown));
        assert_eq!(on_a.0, on_unknown.0, "{what}: status");
        assert_eq!(on_a.1, on_unknown.1, "{what}: problem type");
        assert_eq!(on_a.2.replace(&w.serial_a, "S"), on_unknown.2.replace(&unknown, "S"), "{what}: detail");
    };
    same("download", &|s| call(&w.url, "GET", &format!("/api/v1/environments/{s}/license"), b));
    same("send", &|s| {
        post(&w.url, &format!("/api/v1/environments/{s}/license/send"), b, b"", &[("Idempotency-Key", "k1")])
    });
    same("free", &|s| call(&w.url, "DELETE", &format!("/api/v1/subscriptions/{b_code}/environments/{s}"), b));
    // Subscription-level paths: A's code answers like a code that does not exist.
    let nonexistent = ActivationCode::from_payload("C0C0C0C0C0C0C0C0C0C0C0C0").unwrap().to_string();
    for (what, path) in [("read", "/api/v1/subscriptions/{}"), ("history", "/api/v1/subscriptions/{}/audits")] {
        let on_a = observed(call(&w.url, "GET", &path.replace("{}", &a_code.to_string()), b));
        let on_none = observed(call(&w.url, "GET", &path.replace("{}", &nonexistent), b));
        assert_eq!(on_a, on_none, "{what}");
        assert_eq!(on_a.0, 403, "{what}");
    }
    let reg = serde_json::json!({"serial_number": unknown, "environment_type": "production", "name": "x", "environment_key": w.env.environment_key().unwrap()});
    let json = [("Content-Type", "application/json")];
    let on_a = observed(post(
        &w.url,
        &format!("/api/v1/subscriptions/{a_code}/environments"),
        b,
        reg.to_string().as_bytes(),
        &json,
    ));
    let on_none = observed(post(
        &w.url,
        &format!("/api/v1/subscriptions/{nonexistent}/environments"),
        b,
        reg.to_string().as_bytes(),
        &json,
    ));
    assert_eq!(on_a, on_none, "register");
    let on_a =
        observed(call(&w.url, "DELETE", &format!("/api/v1/subscriptions/{a_code}/environments/{}", w.serial_a), b));
    assert_eq!(on_a.0, 403, "free in A's subscription");

    // Uploads: A's audit, uploaded by B, is refused before anything is looked up or stored.
    let audit = w.env.generate_audit().unwrap().text;
    assert_eq!(upload(&w, &w.token_a, audit.as_bytes()).status(), 201);
    let replay = observed(upload(&w, b, audit.as_bytes()));
    assert_eq!(replay.0, 403, "B replaying A's audit must not read A's answer");
    assert!(!replay.2.contains("verified"), "{replay:?}");

    // Nothing changed in A: its slot, licenses, sends and history.
    let c = w.portal.portal.db();
    let slot: Option<String> =
        c.query_row("SELECT serial_number FROM slots WHERE serial_number = ?1", [&w.serial_a], |r| r.get(0)).unwrap();
    assert_eq!(slot.as_deref(), Some(w.serial_a.as_str()));
    let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(n("SELECT COUNT(*) FROM licenses"), 1);
    assert_eq!(n("SELECT COUNT(*) FROM license_sends"), 0);
    assert_eq!(n("SELECT COUNT(*) FROM audits"), 1);
    assert_eq!(n("SELECT COUNT(*) FROM slots WHERE serial_number IS NOT NULL"), 1);
}

#[test]
fn license_requests_need_the_register_permission() {
    let w = world();
    let downloader = w.portal.token(&w.code_a, &[Permission::Read, Permission::DownloadLicense]);
    let req = w.env.license_request(None).unwrap();
    let (status, kind, detail) =
        observed(post(&w.url, "/api/v1/license-requests", &downloader, req.text.as_bytes(), &[]));
    assert_eq!((status, kind.ends_with("/forbidden")), (403, true));
    assert!(detail.contains("`register`"), "{detail}");
}

#[test]
fn sending_needs_permission_a_key_and_is_rate_limited() {
    let w = world();
    let path = format!("/api/v1/environments/{}/license/send", w.serial_a);
    let read_only = w.portal.token(&w.code_a, &[Permission::Read]);
    assert_eq!(observed(post(&w.url, &path, &read_only, b"", &[("Idempotency-Key", "k")])).0, 403);
    assert_eq!(observed(post(&w.url, &path, &w.token_a, b"", &[])).0, 400, "a send without Idempotency-Key");
    let sender = w.portal.token(&w.code_a, &[Permission::Read, Permission::SendLicense]);
    for i in 0..license_portal::api::SENDS_PER_HOUR {
        assert_eq!(post(&w.url, &path, &sender, b"", &[("Idempotency-Key", &format!("k{i}"))]).status(), 202);
        // The same key again is the first answer, not another mail.
        assert_eq!(post(&w.url, &path, &sender, b"", &[("Idempotency-Key", &format!("k{i}"))]).status(), 202);
    }
    let r = post(&w.url, &path, &sender, b"", &[("Idempotency-Key", "one-too-many")]);
    assert!(r.header("Retry-After").is_some());
    assert_eq!(observed(r).0, 429);
    let sends: i64 = w.portal.portal.db().query_row("SELECT COUNT(*) FROM license_sends", [], |r| r.get(0)).unwrap();
    assert_eq!(sends, license_portal::api::SENDS_PER_HOUR);
}

#[test]
fn a_database_error_is_an_error_not_a_stored_rejection() {
    let w = world();
    let audit = w.env.generate_audit().unwrap().text;
    w.portal.portal.db().execute_batch("ALTER TABLE licenses RENAME TO licenses_away").unwrap();
    let (status, _, _) = observed(upload(&w, &w.token_a, audit.as_bytes()));
    assert_eq!(status, 500);
    let stored: i64 = w.portal.portal.db().query_row("SELECT COUNT(*) FROM audits", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 0, "nothing is remembered under the idempotency key");
    w.portal.portal.db().execute_batch("ALTER TABLE licenses_away RENAME TO licenses").unwrap();
    let r: Value = upload(&w, &w.token_a, audit.as_bytes()).into_json().unwrap();
    assert_eq!(r["status"], "verified", "the retry is verified: {r}");
}

#[test]
fn every_error_is_problem_json() {
    let w = world();
    let t = &w.token_a;
    assert_eq!(observed(call(&w.url, "GET", "/api/v1/no-such-thing", t)).0, 404);
    assert_eq!(observed(call(&w.url, "PUT", "/api/v1/audits", t)).0, 405);
    let bad_json = post(
        &w.url,
        &format!("/api/v1/subscriptions/{}/environments", w.code_a),
        t,
        b"{not json",
        &[("Content-Type", "application/json")],
    );
    assert!(observed(bad_json).0 >= 400);
    let no_ctype = post(&w.url, &format!("/api/v1/subscriptions/{}/environments", w.code_a), t, b"{}", &[]);
    assert_eq!(observed(no_ctype).0, 415);
    let (status, ctype) = oversized_upload(&w.url, t);
    assert_eq!(status, 413);
    assert_eq!(ctype, "application/problem+json");
}

/// Announces an audit over the portal's limit and sends none of it: the portal must
/// refuse from the Content-Length alone. (Sending the megabyte through an HTTP client
/// raced the portal closing the connection: the client could fail with a broken pipe
/// before it read the 413.) Returns the status and the content type.
fn oversized_upload(url: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
    let length = license_portal::api::MAX_BODY + 1;
    write!(
        tcp,
        "POST /api/v1/audits HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Idempotency-Key: big\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(tcp.read(&mut byte).expect("the portal answers before the body arrives"), 1, "closed early");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let ctype = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    (status, ctype)
}

#[test]
fn a_panic_while_holding_the_database_does_not_take_the_portal_down() {
    let w = world();
    w.portal.faults(vec![Fault::PanicHoldingDb]);
    let audit = w.env.generate_audit().unwrap().text;
    assert_eq!(observed(upload(&w, &w.token_a, audit.as_bytes())).0, 500);
    // Every later request is served as usual.
    let r: Value = upload(&w, &w.token_a, audit.as_bytes()).into_json().unwrap();
    assert_eq!(r["status"], "verified", "{r}");
    assert_eq!(call(&w.url, "GET", &format!("/api/v1/subscriptions/{}", w.code_a), &w.token_a).status(), 200);
}

fn register(w: &World, token: &str, code: &ActivationCode, body: Value) -> ureq::Response {
    post(
        &w.url,
        &format!("/api/v1/subscriptions/{code}/environments"),
        token,
        body.to_string().as_bytes(),
        &[("Content-Type", "application/json")],
    )
}

fn reg(serial: &str) -> Value {
    serde_json::json!({"serial_number": serial, "environment_type": "production", "name": "x"})
}

/// Registering a serial that another subscription holds answers exactly as for a
/// serial registered nowhere: serials are unique per subscription, so a token learns
/// nothing of other customers' environments.
#[test]
fn a_serial_of_another_subscription_registers_like_an_unknown_one() {
    let w = world();
    let unknown = serial_from_facts_text("platform_uuid=6a1f0000-0000-4000-8000-000000000002\n").to_string();
    let on_unknown = register(&w, &w.token_b, &w.code_b, reg(&unknown));
    let on_a = register(&w, &w.token_b, &w.code_b, reg(&w.serial_a));
    assert_eq!((on_a.status(), on_unknown.status()), (201, 201));
    let (a, u): (Value, Value) = (on_a.into_json().unwrap(), on_unknown.into_json().unwrap());
    assert_eq!(a.to_string().replace(&w.serial_a, "S"), u.to_string().replace(&unknown, "S"));
    let held: i64 = w
        .portal
        .portal
        .db()
        .query_row(
            "SELECT COUNT(*) FROM slots WHERE serial_number = ?1 AND activation_code = ?2",
            [&w.serial_a, &w.code_a.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(held, 1, "A still holds its slot");
}

/// A key named in a registration is not pinned: only the environment's own signed
/// request or audit pins it, so a workstation (or anyone with `register`) cannot
/// lock an environment out by naming another key first.
#[test]
fn a_registration_pins_no_key() {
    let w = world();
    let unknown = serial_from_facts_text("platform_uuid=6a1f0000-0000-4000-8000-000000000003\n").to_string();
    let mut body = reg(&unknown);
    body["environment_key"] = license_core::KeyPair::generate().public().to_base64url().into();
    assert_eq!(register(&w, &w.token_a, &w.code_a, body).status(), 201);
    let pinned: Option<String> = w
        .portal
        .portal
        .db()
        .query_row("SELECT environment_key FROM slots WHERE serial_number = ?1", [&unknown], |r| r.get(0))
        .unwrap();
    assert_eq!(pinned, None);
}

/// The same serial and slot download the same license until its terms change.
#[test]
fn downloading_a_license_is_idempotent_until_its_terms_change() {
    let w = world();
    let path = format!("/api/v1/environments/{}/license", w.serial_a);
    let get = || call(&w.url, "GET", &path, &w.token_a).into_string().unwrap();
    let first = get();
    assert_eq!(get(), first, "a second download is the same license");
    assert_eq!(w.portal.count("SELECT COUNT(*) FROM licenses"), 1, "the download is the license the request issued");
    assert_eq!(first, std::fs::read_to_string(&w.env.config.license_file).unwrap());
    w.portal.portal.db().execute("UPDATE subscriptions SET expires_at = '2100-01-01T00:00:00Z'", []).unwrap();
    let renewed = get();
    assert_ne!(renewed, first, "a changed expiry is a new license");
    assert_eq!(get(), renewed);
}

/// Freeing a slot revokes its serial's license (listed in the subscription's
/// history); reusing that slot while the license would still be valid needs a reason.
#[test]
fn a_freed_slot_revokes_its_license_and_its_reuse_needs_a_reason() {
    let w = world();
    let (a, code) = (&w.token_a, &w.code_a);
    let license_id = w.env.installed().unwrap().license_id.to_string();
    assert_eq!(
        call(&w.url, "DELETE", &format!("/api/v1/subscriptions/{code}/environments/{}", w.serial_a), a).status(),
        204
    );
    let history: Value = call(&w.url, "GET", &format!("/api/v1/subscriptions/{code}/history"), a).into_json().unwrap();
    let revoked =
        history["licenses"].as_array().unwrap().iter().find(|l| l["license_id"] == license_id.as_str()).unwrap();
    assert!(revoked["revoked_at"].is_string(), "{history}");
    assert_eq!(history["slot_events"][0]["event"], "freed");
    // Two free slots: the one never used is taken first, with no reason needed.
    let s1 = serial_from_facts_text("platform_uuid=6a1f0000-0000-4000-8000-000000000004\n").to_string();
    let s2 = serial_from_facts_text("platform_uuid=6a1f0000-0000-4000-8000-000000000005\n").to_string();
    assert_eq!(register(&w, a, code, reg(&s1)).status(), 201);
    let (status, kind, detail) = observed(register(&w, a, code, reg(&s2)));
    assert_eq!((status, kind.ends_with("/reason-required")), (409, true), "{kind}");
    assert!(detail.contains(&w.serial_a) && detail.contains("reason"), "{detail}");
    let mut with_reason = reg(&s2);
    with_reason["reason"] = "the server was rebuilt".into();
    assert_eq!(register(&w, a, code, with_reason).status(), 201);
    let history: Value = call(&w.url, "GET", &format!("/api/v1/subscriptions/{code}/history"), a).into_json().unwrap();
    assert_eq!(history["slot_events"][0]["reason"], "the server was rebuilt", "{history}");
}

/// The portal refuses names that others would print with control characters.
#[test]
fn names_with_control_characters_are_refused() {
    let w = world();
    let unknown = serial_from_facts_text("platform_uuid=6a1f0000-0000-4000-8000-000000000006\n").to_string();
    for name in ["evil\u{1b}[2J", "two\nlines", "", &"x".repeat(101)] {
        let mut body = reg(&unknown);
        body["name"] = name.into();
        let (status, kind, _) = observed(register(&w, &w.token_a, &w.code_a, body));
        assert_eq!((status, kind.ends_with("/invalid-name")), (400, true), "{name:?}: {kind}");
    }
    assert_eq!(w.portal.count("SELECT COUNT(*) FROM slots WHERE serial_number IS NOT NULL"), 1, "nothing registered");
}

/// Authentication comes before any path or body is looked at: without a token (or
/// with an unknown one) every API route answers 401, never a 400 that tells an
/// anonymous caller what it accepts; health and the document stay open (issue 31).
#[test]
fn without_a_valid_token_every_route_is_401_before_validation() {
    let w = world();
    let bad = [
        ("GET", "/api/v1/subscriptions/not-a-code"),
        ("GET", "/api/v1/environments/%00/license"),
        ("DELETE", "/api/v1/subscriptions/x/environments/y"),
        ("POST", "/api/v1/subscriptions/x/environments"),
        ("POST", "/api/v1/audits"),
        ("POST", "/api/v1/license-requests"),
        ("POST", "/api/v1/environments/zz/license/send"),
    ];
    for token in [None, Some("lmp_unknown")] {
        for (method, path) in bad {
            let mut rq = agent().request(method, &format!("{}{path}", w.url));
            if let Some(t) = token {
                rq = rq.set("Authorization", &format!("Bearer {t}"));
            }
            let r = answer(rq.set("Content-Type", "application/json").send_bytes(b"{not json"));
            assert_eq!(r.status(), 401, "{method} {path} with {token:?}");
            assert_eq!(r.content_type(), "application/problem+json");
        }
    }
    for open in ["/api/v1/health", "/api/v1/openapi.yaml"] {
        assert_eq!(answer(agent().get(&format!("{}{open}", w.url)).call()).status(), 200, "{open}");
    }
}

fn history_page(w: &World, query: &str) -> (u16, Option<String>, Value) {
    let r = call(&w.url, "GET", &format!("/api/v1/subscriptions/{}/audits{query}", w.code_a), &w.token_a);
    let link = r.header("Link").map(str::to_string);
    (r.status(), link, serde_json::from_str(&r.into_string().unwrap()).unwrap())
}

/// The upload history comes in pages of at most 1,000, newest first, each page's
/// `Link` naming the next; `serial_number` keeps one environment's; `before` must
/// be an upload of this subscription. Bad parameters are problems, not guesses.
#[test]
fn the_upload_history_pages_within_the_subscription() {
    let w = world();
    let serial_a: license_core::SerialNumber = w.serial_a.parse().unwrap();
    let other = serial_from_facts_text("platform_uuid=paging-other\n");
    let mut seeded = w.portal.seed_uploads(&w.code_a, &serial_a, 2_500);
    seeded.extend(w.portal.seed_uploads(&w.code_a, &other, 30));
    let theirs = w.portal.seed_uploads(&w.code_b, &other, 1);

    let (mut pages, mut seen, mut query) = (Vec::new(), Vec::new(), String::new());
    loop {
        let (status, link, body) = history_page(&w, &query);
        assert_eq!(status, 200, "{body}");
        pages.push(body.as_array().unwrap().len());
        let at: Vec<&str> = body.as_array().unwrap().iter().map(|u| u["received_at"].as_str().unwrap()).collect();
        assert!(at.windows(2).all(|p| p[0] >= p[1]), "newest first within a page");
        seen.extend(body.as_array().unwrap().iter().map(|u| u["upload_id"].as_str().unwrap().to_string()));
        let Some(link) = link else { break };
        let path = link.trim_start_matches('<').split('>').next().unwrap().to_string();
        assert!(
            link.ends_with("rel=\"next\"") && path.starts_with(&format!("/api/v1/subscriptions/{}/audits?", w.code_a))
        );
        query = path[path.find('?').unwrap()..].to_string();
    }
    assert_eq!(pages, vec![1000, 1000, 530]);
    let mut expected: Vec<String> = seeded.iter().map(ToString::to_string).collect();
    expected.sort();
    seen.sort();
    assert_eq!(seen, expected, "each upload once, none of another subscription's");

    let (status, _, body) = history_page(&w, &format!("?serial_number={other}&limit=7"));
    assert_eq!((status, body.as_array().unwrap().len()), (200, 7));
    assert!(body.as_array().unwrap().iter().all(|u| u["serial_number"] == other.to_string()));
    for bad in ["?limit=0", "?limit=1001", "?page=2", "?before=not-an-id", &format!("?before={}", theirs[0])] {
        let (status, _, body) = history_page(&w, bad);
        assert_eq!(
            (status, body["type"].as_str()),
            (400, Some("https://license-manager.dev/problems/invalid-query")),
            "{bad}: {body}"
        );
    }
    let (status, _, body) = history_page(&w, "?serial_number=XXXXX");
    assert_eq!(status, 400, "{body}");
}
