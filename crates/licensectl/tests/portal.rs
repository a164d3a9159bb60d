//! licensectl against the reference portal over real HTTP on loopback: online
//! registration and download, audits under a fault matrix (exactly once, none
//! lost), and the full air-gapped round trip.
// A scenario reads best whole: tests may run long (clippy.toml).
#![allow(clippy::too_many_lines)]

use license_core::portal::{ClientOptions, PortalClient};
use license_core::{ActivationCode, EnvironmentType};
use license_portal::faults::Fault;
use license_test_support::{Capture, Cli, Launch, Permission, TestPortal, ALL};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A demo environment whose subscription exists on the portal.
struct Site {
    dir: tempfile::TempDir,
    config: PathBuf,
    code: ActivationCode,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let config = license_core::demo::create(dir.path()).unwrap();
        let env = license_core::Environment::open(&config).unwrap();
        let lic =
            license_core::payload::open_license(&std::fs::read(&env.config.license_file).unwrap(), env.vendor_keys())
                .unwrap();
        Site { code: lic.activation_code, config, dir }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// licensectl as a headless server runs it: the token in `LICENSE_MANAGER_TOKEN`,
/// bound (`LICENSE_MANAGER_PORTAL`) to the portal named by `--portal`.
fn admin(home: &Path, token: &str, args: &[&str]) -> Cli {
    let portal = args.iter().position(|a| *a == "--portal").map(|i| args[i + 1]).unwrap_or("");
    Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(home).token(token, portal)
}

fn licensectl(home: &Path, token: &str, args: &[&str]) -> Output {
    admin(home, token, args).run(args)
}

fn ok(home: &Path, token: &str, args: &[&str]) -> String {
    admin(home, token, args).ok(args)
}

fn client(url: &str, token: Option<String>) -> PortalClient {
    PortalClient::new(&url.parse().unwrap(), token, ClientOptions::default()).unwrap()
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
        &[
            "--config",
            other.config.to_str().unwrap(),
            "--portal",
            &portal.url,
            "portal",
            "register",
            "--activation-code",
            &site.code.to_string(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no free production slot"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let out =
        ok(home, &token, &["--config", c, "--portal", &portal.url, "portal", "fetch-license", "--install", "--yes"]);
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
    let hist: Value = serde_json::from_str(&ok(
        home,
        &token,
        &["--config", c, "--portal", &portal.url, "audit", "history", "--json"],
    ))
    .unwrap();
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
        (
            "two 503s",
            vec![Fault::Status { status: 503, retry_after: None }, Fault::Status { status: 503, retry_after: None }],
        ),
        ("429 with Retry-After", vec![Fault::Status { status: 429, retry_after: Some(1) }]),
        ("reset before commit", vec![Fault::DropBeforeCommit]),
        ("reset after commit (answer lost)", vec![Fault::DropAfterCommit]),
        ("two resets after commit", vec![Fault::DropAfterCommit, Fault::DropAfterCommit]),
        ("slow answer", vec![Fault::Delay { ms: 800 }]),
        ("502 then reset after commit", vec![Fault::Status { status: 502, retry_after: None }, Fault::DropAfterCommit]),
    ];
    let mut generated = Vec::new();
    for (name, faults) in &matrix {
        let g: Value =
            serde_json::from_str(&ok(&home, &token, &["--config", &c, "audit", "generate", "--json"])).unwrap();
        generated.push(g["audit"]["audit_id"].as_str().unwrap().to_string());
        portal.faults(faults.clone());
        let t = Instant::now();
        let o = licensectl(&home, &token, &["--config", &c, "--portal", &portal.url, "audit", "upload"]);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        if name.contains("Retry-After") {
            assert!(t.elapsed() >= Duration::from_secs(1), "Retry-After was not honoured");
        }
        assert_eq!(portal.pending_faults(), 0, "{name}: not every fault was hit");
    }

    // A portal that keeps failing: the upload gives up, the audit stays queued...
    let g: Value = serde_json::from_str(&ok(&home, &token, &["--config", &c, "audit", "generate", "--json"])).unwrap();
    generated.push(g["audit"]["audit_id"].as_str().unwrap().to_string());
    portal.faults((0..6).map(|_| Fault::Status { status: 500, retry_after: None }).collect());
    let o = licensectl(&home, &token, &["--config", &c, "--portal", &portal.url, "audit", "upload"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the outbox keeps 1 audit for the next upload"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let outbox: Value =
        serde_json::from_str(&ok(&home, &token, &["--config", &c, "audit", "outbox", "--json"])).unwrap();
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
            .query_row("SELECT COUNT(*) FROM audits WHERE audit_id = ?1 AND status = 'verified'", [id], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap();
        assert_eq!(n, 1, "audit {id} recorded {n} times");
    }
    let hist: Value = serde_json::from_str(&ok(
        &home,
        &token,
        &["--config", &c, "--portal", &portal.url, "audit", "history", "--json"],
    ))
    .unwrap();
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
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("401")
            && String::from_utf8_lossy(&o.stderr).contains("valid portal token")
    );

    let read_only = portal.token(&site.code, &[Permission::Read]);
    let o = licensectl(home, &read_only, &["--config", c, "--portal", &portal.url, "audit", "upload"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("lacks the `upload_audit` permission"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let outbox: Value = serde_json::from_str(&ok(home, "", &["--config", c, "audit", "outbox", "--json"])).unwrap();
    assert_eq!(outbox.as_array().unwrap().len(), 1, "a refused upload keeps the audit");
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 0);

    // The environment is not registered: the portal records the audit as rejected, with reasons.
    let uploader = portal.token(&site.code, ALL);
    let out: Value = serde_json::from_str(&ok(
        home,
        &uploader,
        &["--config", c, "--portal", &portal.url, "audit", "upload", "--json"],
    ))
    .unwrap();
    assert_eq!(out[0]["status"], "rejected");
    assert!(out[0]["reasons"].to_string().contains("not registered"), "{out}");
    // Every view of the environment says so, with the way forward: register first.
    let status = ok(home, "", &["--config", c, "status"]);
    assert!(status.contains("Last audit:    rejected by the portal"), "{status}");
    let check = licensectl(home, "", &["--config", c, "check"]);
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(said.contains("the portal rejected the last audit") && said.contains("not registered"), "{said}");
    assert!(said.contains("register this environment (licensectl portal register)"), "{said}");

    // Registered, but still running a license the portal did not issue to this
    // serial (the demo's): rejected with a signed receipt, and the step is to
    // install the portal's license.
    ok(home, &uploader, &["--config", c, "--portal", &portal.url, "portal", "register"]);
    ok(home, "", &["--config", c, "audit", "generate"]);
    let out: Value = serde_json::from_str(&ok(
        home,
        &uploader,
        &["--config", c, "--portal", &portal.url, "audit", "upload", "--json"],
    ))
    .unwrap();
    assert_eq!(out[0]["status"], "rejected", "{out}");
    let check = licensectl(home, "", &["--config", c, "check"]);
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(said.contains("was not issued to serial"), "{said}");
    assert!(said.contains("install the license the portal issued for this serial number"), "{said}");
    // Once the portal's license is installed, a new audit is verified and the warning goes.
    ok(home, &uploader, &["--config", c, "--portal", &portal.url, "portal", "fetch-license", "--install", "--yes"]);
    ok(home, "", &["--config", c, "audit", "generate"]);
    ok(home, &uploader, &["--config", c, "--portal", &portal.url, "audit", "upload"]);
    let check = licensectl(home, "", &["--config", c, "check"]);
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(said.starts_with("LICENSE ") && !said.contains("rejected"), "{said}");
}

#[test]
fn without_download_permission_the_license_is_sent_to_contacts() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, &[Permission::Read, Permission::Register, Permission::SendLicense]);
    let c = site.config.to_str().unwrap();
    let home = site.dir.path();
    ok(home, &token, &["--config", c, "--portal", &portal.url, "portal", "register"]);
    let o = licensectl(home, &token, &["--config", c, "--portal", &portal.url, "portal", "fetch-license", "--install"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("portal send-license"));
    // A read-only token may not have licenses issued and mailed.
    let read_only = portal.token(&site.code, &[Permission::Read]);
    let o = licensectl(home, &read_only, &["--config", c, "--portal", &portal.url, "portal", "send-license"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("`send_license`"), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(portal.count("SELECT COUNT(*) FROM licenses"), 0, "nothing issued for a read-only token");
    // Unsafe to repeat without a key: under 503s and a lost answer the contacts get one mail.
    portal.faults(vec![
        Fault::Status { status: 503, retry_after: None },
        Fault::Status { status: 503, retry_after: None },
        Fault::DropAfterCommit,
    ]);
    let out = ok(home, &token, &["--config", c, "--portal", &portal.url, "portal", "send-license"]);
    assert!(out.contains("the license was sent to admin@"), "{out}");
    assert_eq!(portal.pending_faults(), 0);
    assert_eq!(portal.count("SELECT COUNT(*) FROM license_sends"), 1, "one send, whatever the retries");
    assert_eq!(portal.count("SELECT COUNT(*) FROM licenses"), 1);
}

#[test]
fn fulfilling_the_same_request_twice_returns_the_same_license() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, ALL);
    let req = site.path("request.lreq");
    ok(
        site.dir.path(),
        "",
        &["--config", site.config.to_str().unwrap(), "request", "export", "--out", req.to_str().unwrap()],
    );
    let bytes = std::fs::read(&req).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = client(&portal.url, Some(token));
    portal.faults(vec![Fault::DropAfterCommit]);
    let first = rt.block_on(c.license_from_request(&bytes)).unwrap();
    let second = rt.block_on(c.license_from_request(&bytes)).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        portal.count("SELECT COUNT(*) FROM licenses"),
        1,
        "a lost answer and a second fulfilment issue nothing new"
    );
    // Fulfilling needs the right to register the serial, not only to download.
    let downloader = portal.token(&site.code, &[Permission::Read, Permission::DownloadLicense]);
    let err = rt.block_on(client(&portal.url, Some(downloader)).license_from_request(&bytes)).unwrap_err();
    assert!(err.to_string().contains("`register`"), "{err}");
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
    ok(
        offline,
        "",
        &["--config", c, "request", "export", "--out", req.to_str().unwrap(), "--qr", qr.to_str().unwrap()],
    );
    assert!(std::fs::read_to_string(&qr).unwrap().contains("<svg"));

    let lic = connected.path().join("license.lic");
    ok(
        connected.path(),
        &token,
        &["--portal", &portal.url, "request", "fulfil", req.to_str().unwrap(), "--out", lic.to_str().unwrap()],
    );
    ok(offline, "", &["--config", c, "install", lic.to_str().unwrap(), "--yes"]);
    assert_eq!(std::fs::read(site.path("license.lic")).unwrap(), std::fs::read(&lic).unwrap());

    let audit = site.path("consumption.audit");
    ok(offline, "", &["--config", c, "audit", "generate", "--out", audit.to_str().unwrap()]);
    let carried = connected.path().join("consumption.audit");
    std::fs::copy(&audit, &carried).unwrap();
    let out: Value = serde_json::from_str(&ok(
        connected.path(),
        &token,
        &["--portal", &portal.url, "audit", "upload", carried.to_str().unwrap(), "--json"],
    ))
    .unwrap();
    assert_eq!(out["status"], "verified", "{out}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let history = rt.block_on(client(&portal.url, Some(token)).audit_history(&site.code, None)).unwrap();
    let (audit_payload, _) =
        <license_core::Audit as license_core::SelfSigned>::open(&std::fs::read(&audit).unwrap()).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].audit_id, Some(audit_payload.audit_id));
    assert_eq!(history[0].status, license_core::payload::UploadStatus::Verified);
}

#[test]
fn client_reports_unreachable_quickly_and_refuses_oversized_uploads() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = Instant::now();
    let err = rt.block_on(client(&format!("http://127.0.0.1:{port}"), Some("t".into())).health()).unwrap_err();
    assert_eq!(err.code(), "portal_unreachable");
    assert!(t.elapsed() < license_core::portal::UNREACHABLE_WITHIN, "took {:?}", t.elapsed());

    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let err = rt
        .block_on(client(&portal.url, Some(portal.token(&site.code, ALL))).upload_audit(&vec![b'A'; 1100 * 1024]))
        .unwrap_err();
    assert_eq!(err.code(), "too_large", "{err}");
    let history =
        rt.block_on(client(&portal.url, Some(portal.token(&site.code, ALL))).audit_history(&site.code, None)).unwrap();
    assert!(history.is_empty(), "nothing reached the portal: {history:?}");
}

fn bad_gateway(_: &str) -> Vec<u8> {
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
}

#[test]
fn a_url_with_user_info_is_refused_and_nothing_is_sent() {
    // `http://127.0.0.1@portal.attacker.example:8080` names the host attacker.example.
    let proxy = Capture::start(bad_gateway);
    let home = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_licensectl"))
        .args(["--portal", "http://127.0.0.1@portal.attacker.example:8080", "portal", "subscription"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("LICENSE_MANAGER_TOKEN", "lmp_secret")
        .env("HTTP_PROXY", &proxy.url)
        .env("http_proxy", &proxy.url)
        .launch_output();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("user name or password"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(proxy.requests().is_empty(), "nothing may be sent: {:?}", proxy.requests());
    // `init` takes the same check.
    let o = Command::new(env!("CARGO_BIN_EXE_licensectl"))
        .args(["init", "--path", home.path().join("e.toml").to_str().unwrap(), "--name", "x", "--type", "production"])
        .args([
            "--license-file",
            "/tmp/l.lic",
            "--backup-dir",
            "/tmp/b",
            "--portal-url",
            "http://localhost.evil.example",
        ])
        .launch_output();
    assert_eq!(o.status.code(), Some(2));
    assert!(!home.path().join("e.toml").exists());
}

#[test]
fn loopback_portals_are_never_proxied() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, ALL);
    let proxy = Capture::start(bad_gateway);
    let text = std::fs::read_to_string(&site.config).unwrap();
    std::fs::write(&site.config, format!("proxy = \"{}\"\n{text}", proxy.url)).unwrap();
    let c = site.config.to_str().unwrap();
    let with_proxy_env = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_licensectl"))
            .args(["--config", c, "--portal", &portal.url])
            .args(args)
            .env("HOME", site.dir.path())
            .env("LICENSE_MANAGER_TOKEN", &token)
            .env("LICENSE_MANAGER_PORTAL", &portal.url)
            .env("HTTP_PROXY", &proxy.url)
            .env("http_proxy", &proxy.url)
            .env("ALL_PROXY", &proxy.url)
            .launch_output();
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    with_proxy_env(&["portal", "register"]);
    with_proxy_env(&["audit", "generate"]);
    with_proxy_env(&["audit", "upload"]);
    assert!(
        proxy.requests().is_empty(),
        "a proxy saw loopback traffic (and the token in clear): {:?}",
        proxy.requests()
    );
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 1);
}

#[test]
fn a_remote_portal_goes_through_the_configured_proxy_in_a_tunnel() {
    let proxy = Capture::start(bad_gateway);
    let opts = ClientOptions { proxy: Some(proxy.url.clone()), retries: 0, ..ClientOptions::default() };
    let c =
        PortalClient::new(&"https://portal.example.test".parse().unwrap(), Some("lmp_secret".into()), opts).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    assert!(rt
        .block_on(c.subscription(&license_core::ActivationCode::from_payload("ABCDEFGHJKMNPQRSTVWXYZ01").unwrap()))
        .is_err());
    let seen = proxy.requests();
    assert!(seen.first().is_some_and(|h| h.starts_with("CONNECT portal.example.test:443")), "{seen:?}");
    assert!(!seen.concat().contains("lmp_secret"), "the proxy sees only the tunnel, never the token");
}

#[test]
fn redirects_to_another_host_and_oversized_answers_are_refused() {
    let other = Capture::start(bad_gateway);
    static OTHER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OTHER.set(other.url.replace("127.0.0.1", "localhost")).unwrap();
    let redirector = Capture::start(|_| {
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {}/api/v1/health\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            OTHER.get().unwrap()
        )
        .into_bytes()
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(
            client(&redirector.url, Some("lmp_secret".into()))
                .subscription(&license_core::ActivationCode::from_payload("ABCDEFGHJKMNPQRSTVWXYZ01").unwrap()),
        )
        .unwrap_err();
    assert_eq!(err.code(), "portal_protocol", "{err}");
    assert!(err.to_string().contains("redirected"), "{err}");
    assert!(other.requests().is_empty(), "the token followed a redirect to another host: {:?}", other.requests());

    let huge =
        Capture::start(|_| b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\nConnection: close\r\n\r\n".to_vec());
    let err = rt
        .block_on(
            client(&huge.url, Some("t".into()))
                .download_license(&license_core::serial::serial_from_facts_text("platform_uuid=x\n")),
        )
        .unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[test]
fn the_environment_token_goes_only_to_its_own_portal() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, ALL);
    // The configuration names the demo portal; `--portal` points elsewhere: the
    // token from the environment belongs to the configured portal and is not sent.
    let o = Command::new(env!("CARGO_BIN_EXE_licensectl"))
        .args(["--config", site.config.to_str().unwrap(), "--portal", &portal.url, "portal", "subscription"])
        .env("HOME", site.dir.path())
        .env("LICENSE_MANAGER_TOKEN", &token)
        .env_remove("LICENSE_MANAGER_PORTAL")
        .launch_output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("is not bound to the portal") && err.contains("LICENSE_MANAGER_PORTAL="), "{err}");
    // "(401 " is the portal's refusal; a bare "401" could be a log line's milliseconds.
    assert!(!err.contains("(401 "), "the token must not have been sent: {err}");
    assert!(err.contains("is not bound to the portal"), "{err}");
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
        // The token is stored under the normalised URL: a trailing slash on one side
        // and none on the other must still find it.
        let url = if args == ["portal", "login"] { format!("{}/", portal.url) } else { portal.url.clone() };
        let mut child = Command::new(env!("CARGO_BIN_EXE_licensectl"))
            .args(["--config", c, "--portal", &url])
            .args(args)
            .env_remove("LICENSE_MANAGER_TOKEN")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .launch();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let o = run(&["portal", "login"], &format!("{token}\n"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["portal", "subscription"], "");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("production"));
    assert!(
        !std::fs::read_to_string(&site.config).unwrap().contains(&token),
        "the token is not written to the configuration"
    );
    assert!(run(&["portal", "logout"], "").status.success());
    let o = run(&["portal", "subscription"], "");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no portal token is stored"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A wrong token is refused before it is kept.
    let o = run(&["portal", "login"], "lmp_wrong\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("401"));
}

/// The monthly audit unit gets its token as an encrypted systemd credential: systemd
/// decrypts it into $CREDENTIALS_DIRECTORY/portal-token. It is used for the
/// configured portal only, like LICENSE_MANAGER_TOKEN.
#[test]
fn a_systemd_credential_carries_the_token_of_scheduled_jobs() {
    let site = Site::new();
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(creds.path().join("portal-token"), format!("{}\n", portal.token(&site.code, ALL))).unwrap();
    let run = |portal_env: &str| {
        Command::new(env!("CARGO_BIN_EXE_licensectl"))
            .args(["--config", site.config.to_str().unwrap(), "--portal", &portal.url, "portal", "subscription"])
            .env("HOME", site.dir.path())
            .env("CREDENTIALS_DIRECTORY", creds.path())
            .env("LICENSE_MANAGER_PORTAL", portal_env)
            .env_remove("LICENSE_MANAGER_TOKEN")
            .launch_output()
    };
    let o = run(&portal.url);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("production"));
    // Bound to another portal: not sent here.
    let o = run("https://portal.example.com");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // "(401 " is the portal's refusal; a bare "401" could be a log line's milliseconds.
    assert!(!err.contains("(401 "), "the token must not have been sent: {err}");
    assert!(err.contains("is not bound to the portal"), "{err}");
}

/// What a hostile portal says reaches the administrator's terminal printable and
/// short: no escape sequence that could rewrite the screen, no megabyte of detail
/// (issue 31).
#[test]
fn a_hostile_portals_problem_is_printed_safely_and_capped() {
    let site = Site::new();
    // Under the 64 KiB an error answer is read to, so it parses as a problem.
    let detail = format!("\u{1b}[2J\u{1b}]0;pwned\u{7}please {}", "A".repeat(60_000));
    let body =
        serde_json::json!({"type": "https://evil/\u{1b}[31mconflict", "title": "x", "status": 409, "detail": detail});
    let hostile = Capture::answering("409 Conflict", "application/problem+json", body.to_string());
    let args = ["--config", site.config.to_str().unwrap(), "--portal", &hostile.url, "portal", "register"];
    let o = licensectl(site.dir.path(), "lmp_token", &args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", &err[..err.len().min(300)]);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "control characters reached the terminal");
    assert!(err.contains("please AAAA"), "the portal's words, printable: {}", &err[..err.len().min(300)]);
    assert!(err.len() < 4000, "{} bytes: the detail was not capped", err.len());
}

/// A portal that knows the site's subscription (one production slot), a token that
/// may do everything, and the site registered in it.
fn registered(site: &Site) -> (TestPortal, String) {
    let portal = TestPortal::start(&site.path("vendor.key"));
    portal.subscription(&site.code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&site.code, ALL);
    let register = ["--config", site.config.to_str().unwrap(), "--portal", &portal.url, "portal", "register"];
    ok(site.dir.path(), &token, &register);
    (portal, token)
}

/// Writers that meet step aside: two `audit upload`s at once both succeed, an audit
/// the other one already moved counts as done, and every audit reaches the portal
/// once (issue 32).
#[test]
fn two_uploads_at_once_both_succeed_and_each_audit_arrives_once() {
    let site = Site::new();
    let (portal, token) = registered(&site);
    let (c, home) = (site.config.to_str().unwrap(), site.dir.path());
    let mut generated = 0;
    for round in 0..4 {
        for _ in 0..3 {
            ok(home, &token, &["--config", c, "audit", "generate"]);
            generated += 1;
        }
        let args = ["--config", c, "--portal", &portal.url, "audit", "upload"];
        let both: Vec<_> = (0..2)
            .map(|_| admin(home, &token, &args).command(&args).stderr(std::process::Stdio::piped()).launch())
            .collect();
        for child in both {
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "round {round}: {}", String::from_utf8_lossy(&o.stderr));
        }
        let outbox: Value =
            serde_json::from_str(&ok(home, &token, &["--config", c, "audit", "outbox", "--json"])).unwrap();
        assert_eq!(outbox.as_array().unwrap().len(), 0, "round {round}: everything was uploaded");
    }
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), generated, "each audit once");
}

/// Audit periods never overlap: with the period record damaged and the outbox
/// empty, the next audit starts after the last uploaded one's period, not at the
/// license's start (issue 32).
#[test]
fn a_damaged_period_record_overlaps_no_uploaded_audit() {
    let site = Site::new();
    let (portal, token) = registered(&site);
    let (c, home) = (site.config.to_str().unwrap(), site.dir.path());
    let first: Value =
        serde_json::from_str(&ok(home, &token, &["--config", c, "audit", "generate", "--json"])).unwrap();
    ok(home, &token, &["--config", c, "--portal", &portal.url, "audit", "upload"]);
    std::fs::write(site.path(".license-manager/last-audit.json"), b"{damaged").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let next: Value = serde_json::from_str(&ok(home, &token, &["--config", c, "audit", "generate", "--json"])).unwrap();
    let at = |v: &Value, k: &str| chrono::DateTime::parse_from_rfc3339(v["audit"][k].as_str().unwrap()).unwrap();
    assert!(at(&next, "period_start") >= at(&first, "period_end"), "overlap: {first} then {next}");
}

/// One damaged audit in the outbox stops nothing: it is set aside in the
/// quarantine and named, the good audits are uploaded, and `check` warns until an
/// administrator has looked at it (issue 32).
#[test]
fn a_damaged_outbox_audit_is_set_aside_and_the_others_travel() {
    let site = Site::new();
    let (portal, token) = registered(&site);
    let (c, home) = (site.config.to_str().unwrap(), site.dir.path());
    let g: Value = serde_json::from_str(&ok(home, &token, &["--config", c, "audit", "generate", "--json"])).unwrap();
    let damaged = PathBuf::from(g["outbox_path"].as_str().unwrap());
    let text = std::fs::read_to_string(&damaged).unwrap();
    std::fs::write(&damaged, text.replacen("eyJ", "eyK", 1)).unwrap();
    // The next look at the outbox (here: the next audit's period) sets it aside.
    let o = licensectl(home, &token, &["--config", c, "audit", "generate"]);
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && said.contains("an audit in the outbox is damaged"), "named: {said}");
    let o = licensectl(home, &token, &["--config", c, "--portal", &portal.url, "audit", "upload"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 1, "the good one travelled");
    let kept: Vec<_> = std::fs::read_dir(site.path(".license-manager/quarantine")).unwrap().flatten().collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(!damaged.exists());
    let check = licensectl(home, &token, &["--config", c, "check"]);
    assert!(String::from_utf8_lossy(&check.stdout).contains("1 damaged record was set aside"), "{check:?}");
}

/// At 20,000 uploads the portal's history is about 9 MB, more than one answer may
/// hold: `audit history` read it as "portal not reachable" (issue 32). It is read
/// in pages now, only this environment's, and a failure would be named, not taken
/// for an unreachable portal.
#[test]
fn a_history_of_twenty_thousand_uploads_is_read_in_pages() {
    let site = Site::new();
    let (portal, token) = registered(&site);
    let (c, home) = (site.config.to_str().unwrap(), site.dir.path());
    let serial: license_core::SerialNumber =
        license_core::Environment::open(&site.config).unwrap().serial().unwrap().serial_number;
    let ids = portal.seed_uploads(&site.code, &serial, 20_000);
    let other = license_core::serial::serial_from_facts_text("platform_uuid=another-environment\n");
    portal.seed_uploads(&site.code, &other, 3);
    let args = ["--config", c, "--portal", &portal.url, "audit", "history"];
    let text = ok(home, &token, &args);
    assert!(!text.starts_with('('), "the portal's history was read: {}", &text[..text.len().min(300)]);
    let json: Value = serde_json::from_str(&ok(home, &token, &[&args[..], &["--json"]].concat())).unwrap();
    let lines = json.as_array().unwrap();
    assert_eq!(lines.len(), 20_000, "every upload of this environment, none of the other's");
    assert_eq!(lines[0]["upload_id"], ids[0].to_string(), "newest first");
    assert_eq!(lines[19_999]["upload_id"], ids[19_999].to_string());
    assert!(lines.iter().all(|l| l["known_to_portal"] == true));
}

/// Years of uploads never reach a cap: past 2,000 the oldest move to a part of
/// their own in `history/`, the live file keeps the newest 1,000, and `audit
/// history` still shows every upload (issue 32).
#[test]
fn a_long_upload_history_rotates_and_is_still_shown_whole() {
    use license_core::environment::audits::LocalUpload;
    let site = Site::new();
    let (portal, token) = registered(&site);
    let (c, home) = (site.config.to_str().unwrap(), site.dir.path());
    let env = license_core::Environment::open(&site.config).unwrap();
    let serial = env.serial().unwrap().serial_number;
    let state = env.config.state_dir();
    let years = license_portal::fixture::earlier_uploads(&serial, 2000);
    std::fs::write(state.join("upload-history.json"), serde_json::to_vec(&years).unwrap()).unwrap();
    ok(home, &token, &["--config", c, "audit", "generate"]);
    ok(home, &token, &["--config", c, "--portal", &portal.url, "audit", "upload"]);

    let live: Vec<LocalUpload> =
        serde_json::from_slice(&std::fs::read(state.join("upload-history.json")).unwrap()).unwrap();
    assert_eq!(live.len(), 1000, "the live history keeps the newest 1,000");
    let parts: Vec<_> = std::fs::read_dir(state.join("history")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert!(parts[0].to_string_lossy().starts_with("upload-history.2"), "{parts:?}");
    let shown: Value = serde_json::from_str(&ok(
        home,
        &token,
        &["--config", c, "--portal", &portal.url, "audit", "history", "--json"],
    ))
    .unwrap();
    let shown: Vec<&str> = shown.as_array().unwrap().iter().map(|l| l["upload_id"].as_str().unwrap()).collect();
    assert_eq!(shown.len(), 2001, "every upload, the rotated ones too");
    assert!(years.iter().all(|u| shown.contains(&u.upload_id.to_string().as_str())));
}
