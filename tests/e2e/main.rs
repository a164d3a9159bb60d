//! End-to-end tests of the desktop app: the real binary in a real WebKitGTK window
//! under Xvfb, driven through tauri-driver and WebKitWebDriver, on real demo
//! environments on disk. Native file dialogs answer from a file (the
//! `test-dialogs` feature; see ARCHITECTURE.md).
//!
//! Run with `scripts/test` (it builds the UI and starts Xvfb, D-Bus and the keyring).

mod driver;

use driver::{Driver, Session};
use license_core::serial::HostFacts;
use serde_json::json;
use std::path::{Path, PathBuf};

/// A demo environment on disk, the app open on it, and the dialog answer file.
struct App {
    dir: tempfile::TempDir,
    dialog: PathBuf,
    session: Session,
    _driver: Driver,
}

impl App {
    fn open() -> App {
        Self::open_with(|_| vec![])
    }

    /// `prepare` may change the demo environment before the app starts and returns
    /// extra environment variables for the app.
    fn open_with(prepare: impl FnOnce(&Path) -> Vec<(&'static str, String)>) -> App {
        let dir = tempfile::tempdir().unwrap();
        license_core::demo::create(dir.path()).unwrap();
        let extra = prepare(dir.path());
        Self::start(dir, extra)
    }

    /// Closes the window (one app window at a time), keeping the environment on disk.
    fn close(self) -> tempfile::TempDir {
        let App { dir, session, _driver, .. } = self;
        drop(session);
        drop(_driver);
        dir
    }

    /// Opens the app again on an environment kept by [`App::close`].
    fn reopen(dir: tempfile::TempDir) -> App {
        Self::start(dir, vec![])
    }

    fn start(dir: tempfile::TempDir, extra: Vec<(&'static str, String)>) -> App {
        let config = dir.path().join("environment.toml");
        let dialog = dir.path().join("dialog-answer");
        std::fs::write(&dialog, "").unwrap();
        let mut env: Vec<(&str, &std::ffi::OsStr)> = vec![("LICENSE_MANAGER_TEST_DIALOG", dialog.as_os_str())];
        env.extend(extra.iter().map(|(k, v)| (*k, std::ffi::OsStr::new(v.as_str()))));
        let driver = Driver::start(&env, &[]);
        let session = driver.session(&["--config", config.to_str().unwrap()]);
        session.wait_for("[data-testid=overview]");
        App { dir, dialog, session, _driver: driver }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn license(&self) -> Vec<u8> {
        std::fs::read(self.path("license.lic")).unwrap()
    }

    fn sample(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(&format!("samples/{name}"))).unwrap()
    }

    /// The next native dialog answers with `path`.
    fn dialog_answers(&self, path: &Path) {
        std::fs::write(&self.dialog, path.to_str().unwrap()).unwrap();
    }

    fn backups(&self) -> Vec<Vec<u8>> {
        let Ok(rd) = std::fs::read_dir(self.path("backups")) else { return vec![] };
        rd.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "lic"))
            .map(|e| std::fs::read(e.path()).unwrap())
            .collect()
    }

    fn nav(&self, page: &str) {
        self.session.click(&format!("[data-nav={page}]"));
        self.session.wait_for(&format!("[data-testid={page}]"));
    }

    /// Install page, step 1 → 2, then choose `sample` through the dialog.
    fn choose_sample(&self, sample: &str) {
        self.nav("install");
        self.session.click("[data-testid=next]");
        self.dialog_answers(&self.path(&format!("samples/{sample}")));
        self.session.click("[data-testid=choose-file]");
        self.session.wait_for("[data-testid=step-check]");
    }

    fn check_status(&self, id: &str) -> String {
        let e = self.session.wait_for(&format!("[data-check={id}]"));
        self.session.attr(&e, "data-status").unwrap_or_default()
    }
}

#[test]
fn overview_shows_the_serial_number_and_license() {
    let app = App::open();
    let s = &app.session;
    let expected = HostFacts::read(&app.path("facts.txt")).unwrap().serial_number().unwrap().to_string();
    assert_eq!(s.wait_text("[data-testid=serial]", |t| !t.is_empty()), expected);
    let status = s.wait_for("[data-testid=license-status]");
    assert_eq!(s.attr(&status, "data-status").as_deref(), Some("expiring"));
    assert!(s.wait_text("[data-testid=warnings]", |t| !t.is_empty()).contains("expires in"));
    assert_eq!(s.wait_text("[data-testid=named-users]", |t| !t.is_empty()), "100");
    s.click("[data-testid=toggle-qr]");
    s.wait_for("[data-testid=serial-qr] svg");
    s.screenshot("overview");
}

#[test]
fn install_wizard_installs_backs_up_and_restores_previous() {
    let app = App::open();
    let s = &app.session;
    let original = app.license();
    app.nav("install");
    s.screenshot("install-1-backup");

    // Step 1: "save a copy as" through the save dialog.
    let copy = app.path("copy.lic");
    app.dialog_answers(&copy);
    s.click("[data-testid=save-copy]");
    s.wait_for("[data-testid=saved-copy]");
    assert_eq!(std::fs::read(&copy).unwrap(), original);

    s.click("[data-testid=next]");
    s.wait_for("[data-testid=step-choose]");
    s.screenshot("install-2-choose");
    app.dialog_answers(&app.path("samples/renewal.lic"));
    s.click("[data-testid=choose-file]");
    s.wait_for("[data-testid=step-check]");
    for id in [
        "format",
        "signature",
        "contents",
        "dates",
        "serial_number",
        "activation_code",
        "environment_type",
        "downgrade",
    ] {
        assert_eq!(app.check_status(id), "pass", "check {id}");
    }
    let users = s.wait_for("[data-testid=differences] [data-field=named_users]");
    assert!(s.text(&users).contains("100") && s.text(&users).contains("150"));
    s.screenshot("install-3-checks");

    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");
    s.screenshot("install-5-done");
    assert_eq!(app.license(), app.sample("renewal.lic"));
    assert_eq!(app.backups(), vec![original.clone()], "the old license was backed up first");

    s.click("[data-testid=restore-previous]");
    s.wait_for("[data-testid=restored]");
    assert_eq!(app.license(), original);
}

#[test]
fn a_license_for_another_serial_is_refused_and_nothing_changes() {
    let app = App::open();
    let s = &app.session;
    let original = app.license();
    app.choose_sample("wrong-serial.lic");
    assert_eq!(app.check_status("serial_number"), "fail");
    let msg = s.wait_text("[data-check=serial_number] .message", |t| !t.is_empty());
    let ours = HostFacts::read(&app.path("facts.txt")).unwrap().serial_number().unwrap().to_string();
    assert!(msg.contains(&ours) && msg.contains("request a license"), "{msg}");
    s.wait_for("[data-testid=refused]");
    assert!(!s.exists("[data-testid=install-button]"), "no way to install a refused file");
    s.screenshot("install-refused");
    assert_eq!(app.license(), original);
    assert!(app.backups().is_empty());
}

#[test]
fn pasted_tampered_text_fails_the_signature_check() {
    let app = App::open();
    let s = &app.session;
    app.nav("install");
    s.click("[data-testid=next]");
    // A paste delivers the whole text, line breaks included, as one input event;
    // WebDriver's key typing would drop the line breaks, so paste the same way.
    let text = String::from_utf8(app.sample("tampered.lic")).unwrap();
    s.script(
        "const t = document.querySelector('[data-testid=paste]'); t.value = arguments[0]; t.dispatchEvent(new Event('input', {bubbles: true}));",
        json!([text]),
    );
    s.click("[data-testid=check-pasted]");
    s.wait_for("[data-testid=step-check]");
    assert_eq!(app.check_status("signature"), "fail");
    assert_eq!(app.check_status("dates"), "skipped");
    assert!(s.wait_text("[data-check=signature] .message", |t| !t.is_empty()).contains("altered after signing"));
}

#[test]
fn a_warning_must_be_accepted_before_installing() {
    let app = App::open();
    let s = &app.session;
    app.choose_sample("other-subscription.lic");
    assert_eq!(app.check_status("activation_code"), "warn");
    let install = s.wait_for("[data-testid=install-button]");
    assert!(!s.enabled(&install), "install is disabled until the warning is accepted");
    s.click("[data-testid=accept]");
    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");
    assert_eq!(app.license(), app.sample("other-subscription.lic"));
}

#[test]
fn backups_page_backs_up_restores_and_exports() {
    let app = App::open();
    let s = &app.session;
    let original = app.license();
    app.nav("backups");
    s.wait_for("[data-testid=no-backups]");
    s.click("[data-testid=backup-now]");
    s.wait_for("[data-testid=backup-list] tr[data-backup]");
    assert_eq!(app.backups(), vec![original.clone()]);

    // Change the license behind the app's back, then roll back from the page.
    let renewal = app.sample("renewal.lic");
    std::fs::write(app.path("license.lic"), &renewal).unwrap();
    s.click("[data-action=restore]");
    s.wait_for("[data-testid=restore-review]");
    s.screenshot("backups");
    if s.exists("[data-testid=accept-restore]") {
        s.click("[data-testid=accept-restore]");
    }
    s.click("[data-testid=confirm-restore]");
    s.wait_text("[data-testid=notice]", |t| t.contains("Restored"));
    assert_eq!(app.license(), original);
    assert!(app.backups().contains(&renewal), "the replaced license was backed up");

    let exported = app.path("exported.lic");
    app.dialog_answers(&exported);
    let row = s.find_all("[data-backup]").len();
    assert!(row >= 1);
    s.click("[data-action=export]");
    s.wait_text("[data-testid=notice]", |t| t.contains("Exported"));
    assert!(app.backups().contains(&std::fs::read(&exported).unwrap()));
}

#[test]
fn settings_save_the_configuration_and_keep_the_token_in_the_keyring() {
    let app = App::open();
    let s = &app.session;
    app.nav("settings");
    s.type_into("[data-field=name]", "Production EU");
    s.click("[data-testid=save-settings]");
    s.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    let config = std::fs::read_to_string(app.path("environment.toml")).unwrap();
    assert!(config.contains("name = \"Production EU\""), "{config}");

    // A bad value is refused with the fix, and the file is unchanged.
    s.type_into("[data-field=portal_url]", "ftp://portal");
    s.click("[data-testid=save-settings]");
    assert!(s.wait_text("[data-testid=error]", |t| !t.is_empty()).contains("https://"));
    assert_eq!(std::fs::read_to_string(app.path("environment.toml")).unwrap(), config);

    // The token goes to the OS keyring only. A unique portal URL keeps runs apart.
    let portal = format!("http://127.0.0.1:{}", 20000 + std::process::id() % 10000);
    // Typed with a trailing slash: the token must still be stored under the one
    // normalised address every lookup uses (it was stored under the raw text).
    s.type_into("[data-field=portal_url]", &format!("{portal}/"));
    s.click("[data-testid=save-settings]");
    s.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    let token = format!("secret-token-{}", uuid_like());
    s.type_into("[data-testid=token]", &token);
    s.click("[data-testid=store-token]");
    s.wait_text("[data-testid=token-state]", |t| t.starts_with("A token"));
    s.screenshot("settings");
    let entry = keyring::Entry::new("license-manager", &portal).unwrap();
    // The Secret Service may show a new item to a second D-Bus client a moment
    // after the writer saw it stored; wait a bounded time for it.
    let t = std::time::Instant::now();
    let mut r = entry.get_password();
    while r.is_err() && t.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        r = entry.get_password();
    }
    assert_eq!(r.unwrap(), token);
    assert!(!s.page_text().contains(&token), "the token is never shown back");
    for f in walk(app.dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "token written to {}", f.display());
    }
    s.click("[data-testid=remove-token]");
    s.wait_text("[data-testid=token-state]", |t| t.contains("No token"));
    assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
}

#[test]
fn without_configuration_the_app_offers_the_demo() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().as_os_str();
    let driver =
        Driver::start(&[("HOME", h), ("XDG_CONFIG_HOME", h), ("XDG_DATA_HOME", h)], &["LICENSE_MANAGER_CONFIG"]);
    let s = driver.session(&[]);
    s.wait_for("[data-testid=welcome]");
    assert!(s.wait_text("[data-testid=start-error]", |t| !t.is_empty()).contains("no configuration found"));
    s.screenshot("welcome");
    s.click("[data-testid=open-demo]");
    s.wait_for("[data-testid=overview]");
    assert!(!s.wait_text("[data-testid=serial]", |t| !t.is_empty()).is_empty());
}

#[test]
fn the_webview_gets_only_our_commands_and_a_strict_csp() {
    let app = App::open();
    let s = &app.session;
    // No global Tauri object, and a plugin command outside the capability is refused.
    assert_eq!(s.script("return typeof window.__TAURI__", json!([])), json!("undefined"));
    let r = s.async_script(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('plugin:fs|read_text_file', {path: '/etc/passwd'}).then(() => done('allowed'), (e) => done('refused: ' + e));",
        json!([]),
    );
    assert!(r.as_str().unwrap().starts_with("refused"), "{r}");
    // Our own command works through the same door.
    let r = s.async_script(
        "const done = arguments[0]; window.__TAURI_INTERNALS__.invoke('list_backups').then((v) => done('ok ' + v.length), (e) => done('refused: ' + e));",
        json!([]),
    );
    assert_eq!(r, json!("ok 0"));
    // Inline scripts and styles are blocked by the CSP.
    let r = s.script(
        "const el = document.createElement('script'); el.textContent = 'window.__inline = 1'; document.body.appendChild(el); \
         const d = document.createElement('div'); d.setAttribute('style', 'width: 123px'); document.body.appendChild(d); \
         return [typeof window.__inline, d.getBoundingClientRect().width === 123];",
        json!([]),
    );
    assert_eq!(r, json!(["undefined", false]));
}

/// A portal that signs with the demo's vendor key and knows the demo's subscription
/// (one production slot), with a token that may do everything.
fn portal_for_demo(dir: &Path) -> (license_test_support::TestPortal, String, license_core::ActivationCode) {
    use license_test_support::{TestPortal, ALL};
    let portal = TestPortal::start(&dir.join("vendor.key"));
    let code =
        license_core::Environment::open(&dir.join("environment.toml")).unwrap().installed_activation_code().unwrap();
    portal.subscription(&code, vec![(license_core::EnvironmentType::Production, 1)]);
    let token = portal.token(&code, ALL);
    (portal, token, code)
}

#[test]
fn request_online_then_audit_upload_through_the_real_portal() {
    let portal_state = std::cell::RefCell::new(None);
    let app = App::open_with(|dir| {
        let (portal, token, _) = portal_for_demo(dir);
        let cfg = dir.join("environment.toml");
        let text = std::fs::read_to_string(&cfg).unwrap().replace("http://127.0.0.1:8787", &portal.url);
        std::fs::write(&cfg, text).unwrap();
        *portal_state.borrow_mut() = Some(portal);
        vec![("LICENSE_MANAGER_TOKEN", token)]
    });
    let s = &app.session;
    let portal = portal_state.borrow_mut().take().unwrap();

    // Online request: register, download, continue in the install wizard.
    app.nav("request");
    s.screenshot("request");
    s.click("[data-testid=register]");
    s.wait_text("[data-testid=notice]", |t| t.contains("registered"));
    s.click("[data-testid=download]");
    s.wait_for("[data-testid=step-check]");
    let users = s.wait_for("[data-testid=differences] [data-field=named_users]");
    assert!(s.text(&users).contains("200"));
    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");

    // Audit: preview, save a copy for another machine, upload, history.
    app.nav("audit");
    assert_eq!(s.wait_text("[data-metric=named_users] td", |t| !t.is_empty()), "87");
    s.click("[data-testid=generate-audit]");
    s.wait_text("[data-testid=outbox]", |t| t.starts_with("1 "));
    let copy = app.path("carried.audit");
    app.dialog_answers(&copy);
    s.click("[data-testid=save-audit]");
    s.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    assert!(std::fs::read_to_string(&copy).unwrap().starts_with("-----BEGIN LICENSE AUDIT-----"));
    s.click("[data-testid=upload-now]");
    s.wait_for("[data-testid=history] tr[data-status=verified]");
    // The portal's signed receipt was kept and verifies with the vendor key.
    s.wait_text("[data-testid=history] tr[data-status=verified] [data-testid=receipt]", |t| t == "receipt verified");
    s.screenshot("audit");
    let n: i64 = portal.count("SELECT COUNT(*) FROM audits WHERE status = 'verified'");
    assert_eq!(n, 1);
    assert!(s.wait_text("[data-testid=outbox]", |t| t.starts_with("0 ")).starts_with("0 "));
}

fn uuid_like() -> String {
    format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn across_the_air_gap_a_workstation_processes_the_file_and_the_environment_installs_its_license() {
    use license_core::transfer::Transfer;
    let state = std::cell::RefCell::new(None);
    let app = App::open_with(|dir| {
        let (portal, token, code) = portal_for_demo(dir);
        license_core::Environment::open(&dir.join("environment.toml")).unwrap().generate_audit().unwrap();
        *state.borrow_mut() = Some((portal, token, code));
        vec![]
    });
    let (portal, token, code) = state.borrow_mut().take().unwrap();
    let s = &app.session;
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("site.transfer.zip");

    // This environment: its audit and a license request into the transfer file.
    app.nav("transfer-here");
    app.dialog_answers(&file);
    s.click("[data-testid=add-to-transfer]");
    s.wait_text("[data-testid=notice]", |t| t.contains("1 audit(s) and a license request"));

    // A connected workstation, started with no configuration at all (one window at
    // a time: the environment's is closed meanwhile, its files stay).
    let dir = app.close();
    let home = tempfile::tempdir().unwrap();
    let answer = home.path().join("dialog-answer");
    std::fs::write(&answer, file.to_str().unwrap()).unwrap();
    let h = home.path().as_os_str();
    let ws_config = home.path().join("workstation.toml");
    let driver = Driver::start(
        &[
            ("HOME", h),
            ("XDG_CONFIG_HOME", h),
            ("XDG_DATA_HOME", h),
            ("LICENSE_MANAGER_WORKSTATION", ws_config.as_os_str()),
            ("LICENSE_MANAGER_TEST_DIALOG", answer.as_os_str()),
        ],
        &["LICENSE_MANAGER_CONFIG", "LICENSE_MANAGER_TOKEN"],
    );
    let w = driver.session(&["--workstation"]);
    w.wait_for("[data-testid=infrastructure]");
    w.click("[data-nav=ws-settings]");
    w.wait_for("[data-testid=workstation-settings]");
    w.type_into("[data-field=ws-portal-url]", &portal.url);
    w.type_into("[data-field=ws-activation-code]", &code.to_string());
    w.click("[data-testid=save-workstation]");
    w.wait_text("[data-testid=notice]", |t| t.contains("saved"));
    w.type_into("[data-testid=ws-token]", &token);
    w.click("[data-testid=ws-store-token]");
    w.wait_text("[data-testid=ws-token-state]", |t| t.starts_with("A token"));
    w.click("[data-nav=infrastructure]");
    w.wait_for("[data-testid=slots] [data-serial=free]");
    w.screenshot("workstation-infrastructure");
    w.click("[data-nav=transfer]");
    w.wait_for("[data-testid=transfer]");
    w.click("[data-testid=open-transfer]");
    w.wait_for("[data-testid=transfer-environments] [data-serial]");
    w.click("[data-testid=process]");
    w.wait_text("[data-testid=notice]", |t| t.contains("Everything is done"));
    w.screenshot("workstation-transfer");
    drop(w);
    drop(driver);
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 1);
    let app = App::reopen(dir);
    let s = &app.session;
    let serial =
        license_core::Environment::open(&app.path("environment.toml")).unwrap().serial().unwrap().serial_number;
    let license =
        Transfer::read(&file, None).unwrap().papers(&serial).unwrap().license.clone().expect("a license came back");

    // Back on the environment: open the file, install the license through the wizard.
    let before = app.license();
    app.nav("transfer-here");
    app.dialog_answers(&file);
    s.click("[data-testid=open-transfer-here]");
    s.wait_for("[data-testid=receipts]");
    s.screenshot("transfer-here");
    s.click("[data-testid=record-receipts]");
    s.wait_text("[data-testid=notice]", |t| t.contains("1 audit(s) moved"));
    s.click("[data-testid=install-from-transfer]");
    s.wait_for("[data-testid=step-check]");
    s.click("[data-testid=install-button]");
    s.wait_for("[data-testid=installed]");
    assert_eq!(app.license(), license, "the license from the transfer file is installed");
    assert!(app.backups().contains(&before), "after a backup of the previous one");
    let env = license_core::Environment::open(&app.path("environment.toml")).unwrap();
    assert!(env.outbox().unwrap().is_empty());
    assert!(env.merge_history(None).iter().all(|h| h.receipt_verified));
}
