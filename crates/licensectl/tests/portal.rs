//! licensectl against the reference portal over real HTTP on loopback: online
//! registration and download, audits under a fault matrix (exactly once, none
//! lost), and the full air-gapped round trip.

use license_core::payload::Entitlements;
use license_core::portal::{ClientOptions, PortalClient};
use license_core::{EnvironmentType, KeyPair};
use license_portal::admin::{create_subscription, NewSubscription};
use license_portal::faults::Fault;
use license_portal::{db, Portal};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct TestPortal {
    url: String,
    portal: Arc<Portal>,
    _dir: tempfile::TempDir,
}

impl TestPortal {
    fn start(vendor_key: &Path) -> TestPortal {
        let dir = tempfile::tempdir().unwrap();
        let conn = db::open(&dir.path().join("portal.db")).unwrap();
        let (url, portal) = license_portal::spawn_background(conn, KeyPair::read(vendor_key).unwrap(), true);
        TestPortal { url, portal, _dir: dir }
    }

    fn subscription(&self, code: &str, slots: Vec<(EnvironmentType, u32)>) {
        let mut c = self.portal.db.lock().unwrap();
        create_subscription(
            &mut c,
            &NewSubscription {
                activation_code: code.parse().unwrap(),
                customer: "Demo Corp".into(),
                entitlements: Entitlements {
                    named_users: 200,
                    application_objects: 800,
                    environments: 3,
                    support_level: "premium".into(),
                    features: vec!["sso".into()],
                },
                contacts: vec!["admin@demo.example".into()],
                expires_at: Some("2099-01-01T00:00:00Z".into()),
                slots,
            },
        )
        .unwrap();
    }

    fn token(&self, code: &str, perms: &[&str]) -> String {
        db::create_token(
            &self.portal.db.lock().unwrap(),
            &code.parse::<license_core::ActivationCode>().unwrap().to_string(),
            &perms.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    fn faults(&self, f: Vec<Fault>) {
        self.portal.faults.as_ref().unwrap().push(f);
    }

    fn count(&self, sql: &str) -> i64 {
        self.portal.db.lock().unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

const ALL: &[&str] = &["read", "register", "download_license", "upload_audit"];

/// A demo environment whose subscription exists on the portal.
struct Site {
    dir: tempfile::TempDir,
    config: PathBuf,
    code: String,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let config = license_core::demo::create(dir.path()).unwrap();
        let env = license_core::Environment::open(&config).unwrap();
        let lic = license_core::payload::open_license(&std::fs::read(&env.config.license_file).unwrap(), env.vendor_keys()).unwrap();
        Site { code: lic.activation_code.to_string(), config, dir }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

fn licensectl(home: &Path, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_licensectl"))
        .args(args)
        .env_remove("LICENSE_MANAGER_CONFIG")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("LICENSE_MANAGER_TOKEN", token)
        .output()
        .unwrap()
}

fn ok(home: &Path, token: &str, args: &[&str]) -> String {
    let o = licensectl(home, token, args);
    assert!(o.status.success(), "licensectl {args:?}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn online_register_fetch_install_then_audit_upload_and_history() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, ALL);
    let c = site.config.to_str().unwrap();
    let home = site.dir.path();
    let before = std::fs::read(site.path("license.lic")).unwrap();

    ok(home, &token, &["--config", c, "--portal", &portal.url, "portal", "register"]);
    // Registering again is idempotent; a second environment finds no free slot.
    ok(home, &token, &["--config", c, "--portal", &portal.url, "portal", "register"]);
    let other = Site::new();
    let o = licensectl(
        other.dir.path(),
        &token,
        &["--config", other.config.to_str().unwrap(), "--portal", &portal.url, "portal", "register", "--activation-code", &site.code],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no free production slot"), "{}", String::from_utf8_lossy(&o.stderr));

    let out = ok(home, &token, &["--config", c, "--portal", &portal.url, "portal", "fetch-license", "--install", "--yes"]);
    assert!(out.contains("named_users") && out.contains("100 → 200"), "{out}");
    assert_ne!(std::fs::read(site.path("license.lic")).unwrap(), before);
    let status: Value = serde_json::from_str(&ok(home, &token, &["--config", c, "status", "--json"])).unwrap();
    assert_eq!(status["installed"]["status"], "valid");

    let g: Value = serde_json::from_str(&ok(home, &token, &["--config", c, "audit", "generate", "--json"])).unwrap();
    assert_eq!(g["usage"][0]["metric"], "named_users");
    assert_eq!(g["usage"][0]["used"], 87);
    ok(home, &token, &["--config", c, "--portal", &portal.url, "audit", "upload"]);
    let outbox: Value = serde_json::from_str(&ok(home, &token, &["--config", c, "audit", "outbox", "--json"])).unwrap();
    assert_eq!(outbox.as_array().unwrap().len(), 0, "uploaded audits leave the outbox");
    let hist: Value = serde_json::from_str(&ok(home, &token, &["--config", c, "--portal", &portal.url, "audit", "history", "--json"])).unwrap();
    let hist = hist.as_array().unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0]["status"], "verified", "{hist:?}");
    assert_eq!(hist[0]["uploaded_from_here"], true);
    assert_eq!(hist[0]["known_to_portal"], true);
}

#[test]
fn fault_matrix_loses_no_audit_and_counts_none_twice() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, ALL);
    let c = site.config.to_str().unwrap().to_string();
    let home = site.dir.path().to_path_buf();
    ok(&home, &token, &["--config", &c, "--portal", &portal.url, "portal", "register"]);
    ok(&home, &token, &["--config", &c, "--portal", &portal.url, "portal", "fetch-license", "--install", "--yes"]);

    let matrix: Vec<(&str, Vec<Fault>)> = vec![
        ("two 503s", vec![Fault::Status { status: 503, retry_after: None }, Fault::Status { status: 503, retry_after: None }]),
        ("429 with Retry-After", vec![Fault::Status { status: 429, retry_after: Some(1) }]),
        ("reset before commit", vec![Fault::DropBeforeCommit]),
        ("reset after commit (answer lost)", vec![Fault::DropAfterCommit]),
        ("two resets after commit", vec![Fault::DropAfterCommit, Fault::DropAfterCommit]),
        ("slow answer", vec![Fault::Delay { ms: 800 }]),
        ("502 then reset after commit", vec![Fault::Status { status: 502, retry_after: None }, Fault::DropAfterCommit]),
    ];
    let mut generated = Vec::new();
    for (name, faults) in &matrix {
        let g: Value = serde_json::from_str(&ok(&home, &token, &["--config", &c, "audit", "generate", "--json"])).unwrap();
        generated.push(g["audit"]["audit_id"].as_str().unwrap().to_string());
        portal.faults(faults.clone());
        let t = Instant::now();
        let o = licensectl(&home, &token, &["--config", &c, "--portal", &portal.url, "audit", "upload"]);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        if name.contains("Retry-After") {
            assert!(t.elapsed() >= Duration::from_secs(1), "Retry-After was not honoured");
        }
        assert_eq!(portal.portal.faults.as_ref().unwrap().pending(), 0, "{name}: not every fault was hit");
    }

    // A portal that keeps failing: the upload gives up, the audit stays queued...
    let g: Value = serde_json::from_str(&ok(&home, &token, &["--config", &c, "audit", "generate", "--json"])).unwrap();
    generated.push(g["audit"]["audit_id"].as_str().unwrap().to_string());
    portal.faults((0..6).map(|_| Fault::Status { status: 500, retry_after: None }).collect());
    let o = licensectl(&home, &token, &["--config", &c, "--portal", &portal.url, "audit", "upload"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stay in the outbox"), "{}", String::from_utf8_lossy(&o.stderr));
    let outbox: Value = serde_json::from_str(&ok(&home, &token, &["--config", &c, "audit", "outbox", "--json"])).unwrap();
    assert_eq!(outbox.as_array().unwrap().len(), 1);
    // ...and the next upload delivers it.
    ok(&home, &token, &["--config", &c, "--portal", &portal.url, "audit", "upload"]);

    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), generated.len() as i64, "exactly one record per audit");
    for id in &generated {
        let n = portal
            .portal
            .db
            .lock()
            .unwrap()
            .query_row("SELECT COUNT(*) FROM audits WHERE audit_id = ?1 AND status = 'verified'", [id], |r| r.get::<_, i64>(0))
            .unwrap();
        assert_eq!(n, 1, "audit {id} recorded {n} times");
    }
    let hist: Value = serde_json::from_str(&ok(&home, &token, &["--config", &c, "--portal", &portal.url, "audit", "history", "--json"])).unwrap();
    assert_eq!(hist.as_array().unwrap().len(), generated.len());
}

#[test]
fn refused_uploads_keep_the_audit_and_say_why() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let c = site.config.to_str().unwrap();
    let home = site.dir.path();
    ok(home, "", &["--config", c, "audit", "generate"]);

    let o = licensectl(home, "lmp_not-a-token", &["--config", c, "--portal", &portal.url, "audit", "upload"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("401") && String::from_utf8_lossy(&o.stderr).contains("valid portal token"));

    let read_only = portal.token(&site.code, &["read"]);
    let o = licensectl(home, &read_only, &["--config", c, "--portal", &portal.url, "audit", "upload"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("lacks the `upload_audit` permission"), "{}", String::from_utf8_lossy(&o.stderr));
    let outbox: Value = serde_json::from_str(&ok(home, "", &["--config", c, "audit", "outbox", "--json"])).unwrap();
    assert_eq!(outbox.as_array().unwrap().len(), 1, "a refused upload keeps the audit");
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 0);

    // The environment is not registered: the portal records the audit as rejected, with reasons.
    let uploader = portal.token(&site.code, ALL);
    let out: Value = serde_json::from_str(&ok(home, &uploader, &["--config", c, "--portal", &portal.url, "audit", "upload", "--json"])).unwrap();
    assert_eq!(out[0]["status"], "rejected");
    assert!(out[0]["reasons"].to_string().contains("not registered"), "{out}");
}

#[test]
fn without_download_permission_the_license_is_sent_to_contacts() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, &["read", "register"]);
    let c = site.config.to_str().unwrap();
    let home = site.dir.path();
    ok(home, &token, &["--config", c, "--portal", &portal.url, "portal", "register"]);
    let o = licensectl(home, &token, &["--config", c, "--portal", &portal.url, "portal", "fetch-license", "--install"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("portal send-license"));
    let out = ok(home, &token, &["--config", c, "--portal", &portal.url, "portal", "send-license"]);
    assert!(out.contains("admin@demo.example"), "{out}");
    assert_eq!(portal.count("SELECT COUNT(*) FROM license_sends"), 1);
}

#[test]
fn air_gapped_round_trip_request_install_audit_upload() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, ALL);
    let c = site.config.to_str().unwrap();
    let offline = site.dir.path(); // the air-gapped environment: no token, never talks to the portal
    let connected = tempfile::tempdir().unwrap(); // another machine: no configuration at all

    let req = site.path("request.lreq");
    let qr = site.path("request.svg");
    ok(offline, "", &["--config", c, "request", "export", "--out", req.to_str().unwrap(), "--qr", qr.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&qr).unwrap().contains("<svg"));

    let lic = connected.path().join("license.lic");
    ok(connected.path(), &token, &["--portal", &portal.url, "request", "fulfil", req.to_str().unwrap(), "--out", lic.to_str().unwrap()]);
    ok(offline, "", &["--config", c, "install", lic.to_str().unwrap(), "--yes"]);
    assert_eq!(std::fs::read(site.path("license.lic")).unwrap(), std::fs::read(&lic).unwrap());

    let audit = site.path("consumption.audit");
    ok(offline, "", &["--config", c, "audit", "generate", "--out", audit.to_str().unwrap()]);
    let carried = connected.path().join("consumption.audit");
    std::fs::copy(&audit, &carried).unwrap();
    let out: Value =
        serde_json::from_str(&ok(connected.path(), &token, &["--portal", &portal.url, "audit", "upload", carried.to_str().unwrap(), "--json"])).unwrap();
    assert_eq!(out["status"], "verified", "{out}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = PortalClient::new(&portal.url, Some(token), ClientOptions::default()).unwrap();
    let history = rt.block_on(client.audit_history(&site.code)).unwrap();
    let (audit_payload, _) = <license_core::Audit as license_core::SelfSigned>::open(&std::fs::read(&audit).unwrap()).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].audit_id.as_deref(), Some(audit_payload.audit_id.to_string().as_str()));
    assert_eq!(history[0].status, "verified");
}

#[test]
fn client_reports_unreachable_quickly_and_refuses_oversized_uploads() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = PortalClient::new(&format!("http://127.0.0.1:{port}"), Some("t".into()), ClientOptions::default()).unwrap();
    let t = Instant::now();
    let err = rt.block_on(client.health()).unwrap_err();
    assert_eq!(err.code(), "portal_unreachable");
    assert!(t.elapsed() < license_core::portal::UNREACHABLE_WITHIN, "took {:?}", t.elapsed());

    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let client = PortalClient::new(&portal.url, Some(portal.token(&site.code, ALL)), ClientOptions::default()).unwrap();
    let err = rt.block_on(client.upload_audit(&vec![b'A'; 1100 * 1024])).unwrap_err();
    assert!(matches!(err, license_core::Error::PortalRefused { status: 413, .. }), "{err}");
    assert!(license_core::portal::check_url("http://portal.example.com").is_err(), "a token never goes over plain HTTP to another host");
}

/// A forward HTTP proxy on loopback that counts the requests it relays.
fn start_proxy() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                // "POST http://127.0.0.1:PORT/path HTTP/1.1" -> origin form to the target.
                let first = head.lines().next().unwrap().to_string();
                let mut parts = first.split(' ');
                let (method, target) = (parts.next().unwrap(), parts.next().unwrap());
                let rest = target.strip_prefix("http://").expect("absolute-form request");
                let (host, path) = rest.split_at(rest.find('/').unwrap());
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let len: usize =
                    head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())).unwrap_or(0);
                let mut body = vec![0u8; len];
                reader.read_exact(&mut body).unwrap();
                // Origin-form request line; one connection per request.
                let headers: String =
                    head.lines().skip(1).filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:")).map(|l| format!("{l}\r\n")).collect();
                let mut server = TcpStream::connect(host).unwrap();
                server.write_all(format!("{method} {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n").as_bytes()).unwrap();
                server.write_all(&body).unwrap();
                let mut answer = Vec::new();
                server.read_to_end(&mut answer).unwrap();
                let mut client = client;
                let _ = client.write_all(&answer);
            });
        }
    });
    (url, count)
}

#[test]
fn the_configured_proxy_carries_portal_traffic() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, ALL);
    let (proxy, relayed) = start_proxy();
    let text = std::fs::read_to_string(&site.config).unwrap();
    std::fs::write(&site.config, format!("proxy = \"{proxy}\"\n{text}")).unwrap();
    let c = site.config.to_str().unwrap();
    let home = site.dir.path();
    ok(home, &token, &["--config", c, "--portal", &portal.url, "portal", "register"]);
    ok(home, &token, &["--config", c, "--portal", &portal.url, "audit", "generate"]);
    ok(home, &token, &["--config", c, "--portal", &portal.url, "audit", "upload"]);
    assert!(relayed.load(std::sync::atomic::Ordering::SeqCst) >= 2, "requests did not go through the proxy");
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 1);
}

#[test]
fn portal_login_keeps_the_token_in_the_os_keyring() {
    // Needs a Secret Service: scripts/test runs the suite in a D-Bus session with GNOME Keyring.
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, ALL);
    let c = site.config.to_str().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_licensectl"))
            .args(["--config", c, "--portal", &portal.url])
            .args(args)
            .env_remove("LICENSE_MANAGER_TOKEN")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let o = run(&["portal", "login"], &format!("{token}\n"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["portal", "subscription"], "");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("production"));
    assert!(!std::fs::read_to_string(&site.config).unwrap().contains(&token), "the token is not written to the configuration");
    assert!(run(&["portal", "logout"], "").status.success());
    let o = run(&["portal", "subscription"], "");
    assert!(String::from_utf8_lossy(&o.stderr).contains("no portal token is stored"), "{}", String::from_utf8_lossy(&o.stderr));
    // A wrong token is refused before it is kept.
    let o = run(&["portal", "login"], "lmp_wrong\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("401"));
}
