//! A small W3C WebDriver client and the tauri-driver process it talks to. Enough
//! for these tests: sessions, finding, clicking, typing, reading, scripts and
//! screenshots.

use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// One app window at a time: WebKitWebDriver sessions share the display.
static SERIAL: Mutex<()> = Mutex::new(());

/// Polls `probe` every 100 ms until it gives a value, for at most `limit`. On time-out
/// it panics with `what()`, worded then, so it can describe the page as it is at the end.
pub fn until<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>, what: impl FnOnce() -> String) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(t.elapsed() < limit, "timed out: {}", what());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Driver {
    child: Child,
    base: String,
    _serial: MutexGuard<'static, ()>,
}

impl Driver {
    /// Starts tauri-driver with `env` added to what the app will inherit.
    pub fn start(env: &[(&str, &std::ffi::OsStr)], env_remove: &[&str]) -> Driver {
        let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "E2E tests need a display: run them under xvfb-run (see README)"
        );
        let driver = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        // A port free when asked can be taken before tauri-driver binds it (the other
        // tests start servers too), and then tauri-driver exits: that is tried again
        // on new ports, twice at most.
        for attempt in 1..=3 {
            let (port, native) = (free_port(), free_port());
            let mut cmd = Command::new(&driver);
            cmd.args(["--port", &port.to_string(), "--native-port", &native.to_string()])
                .stdout(Stdio::null())
                .stderr(if std::env::var_os("E2E_APP_LOG").is_some() { Stdio::inherit() } else { Stdio::null() });
            for (k, v) in env {
                cmd.env(k, v);
            }
            for k in env_remove {
                cmd.env_remove(k);
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| {
                panic!("cannot start {driver}: {e}; install it with `cargo install tauri-driver --locked`")
            });
            let base = format!("http://127.0.0.1:{port}");
            let up = until(
                TIMEOUT,
                || match child.try_wait() {
                    Ok(Some(_)) => Some(false),
                    _ => ureq::get(&format!("{base}/status")).call().ok().map(|_| true),
                },
                || "tauri-driver did not start".into(),
            );
            if up {
                return Driver { child, base, _serial: guard };
            }
            assert!(attempt < 3, "tauri-driver exited at start {attempt} times (ports {port}, {native})");
        }
        unreachable!("the loop returns or panics")
    }

    pub fn session(&self, app_args: &[&str]) -> Session {
        let app = env!("CARGO_BIN_EXE_license-manager");
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": app, "args": app_args}}}});
        let r: Value =
            ureq::post(&format!("{}/session", self.base)).send_json(caps).expect("new session").into_json().unwrap();
        let id = r["value"]["sessionId"].as_str().expect("session id").to_string();
        let s = Session { url: format!("{}/session/{id}", self.base) };
        s.wait_for("main");
        s
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";

pub struct Session {
    url: String,
}

#[derive(Clone)]
pub struct Element(String);

impl Session {
    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        match ureq::post(&format!("{}{path}", self.url)).send_json(body) {
            Ok(r) => Ok(r.into_json::<Value>().unwrap()["value"].clone()),
            Err(ureq::Error::Status(_, r)) => Err(r.into_string().unwrap_or_default()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        match ureq::get(&format!("{}{path}", self.url)).call() {
            Ok(r) => Ok(r.into_json::<Value>().unwrap()["value"].clone()),
            Err(ureq::Error::Status(_, r)) => Err(r.into_string().unwrap_or_default()),
            Err(e) => Err(e.to_string()),
        }
    }

    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.post("/elements", json!({"using": "css selector", "value": css}))
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|e| e[ELEMENT].as_str().map(|s| Element(s.to_string())))
            .collect()
    }

    pub fn exists(&self, css: &str) -> bool {
        !self.find_all(css).is_empty()
    }

    /// Waits until `css` matches, then returns the first match.
    pub fn wait_for(&self, css: &str) -> Element {
        until(TIMEOUT, || self.find_all(css).into_iter().next(), || self.missing(css))
    }

    /// Waits until the element's text satisfies `pred`; returns the text.
    pub fn wait_text(&self, css: &str, pred: impl Fn(&str) -> bool) -> String {
        let read = || self.find_all(css).first().map(|e| self.text(e));
        until(
            TIMEOUT,
            || read().filter(|text| pred(text)),
            || match read() {
                Some(text) => format!("`{css}` reads {text:?}"),
                None => self.missing(css),
            },
        )
    }

    fn missing(&self, css: &str) -> String {
        format!("no `{css}` on the page, which reads:\n{}", self.page_text())
    }

    pub fn page_text(&self) -> String {
        self.script("return document.body.innerText", json!([])).as_str().unwrap_or_default().to_string()
    }

    pub fn text(&self, e: &Element) -> String {
        self.get(&format!("/element/{}/text", e.0))
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn attr(&self, e: &Element, name: &str) -> Option<String> {
        self.get(&format!("/element/{}/attribute/{name}", e.0)).ok().and_then(|v| v.as_str().map(str::to_string))
    }

    pub fn enabled(&self, e: &Element) -> bool {
        self.get(&format!("/element/{}/enabled", e.0)).ok().and_then(|v| v.as_bool()).unwrap_or(false)
    }

    /// A checkbox is ticked (WebDriver's "Is Element Selected").
    pub fn selected(&self, e: &Element) -> bool {
        self.get(&format!("/element/{}/selected", e.0)).ok().and_then(|v| v.as_bool()).unwrap_or(false)
    }

    pub fn click(&self, css: &str) {
        let e = self.wait_for(css);
        // A button may be disabled for a moment while the page loads.
        until(TIMEOUT, || self.enabled(&e).then_some(()), || format!("`{css}` stayed disabled"));
        self.post(&format!("/element/{}/click", e.0), json!({})).unwrap_or_else(|err| panic!("click {css}: {err}"));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css);
        let _ = self.post(&format!("/element/{}/clear", e.0), json!({}));
        self.post(&format!("/element/{}/value", e.0), json!({"text": text}))
            .unwrap_or_else(|err| panic!("type into {css}: {err}"));
    }

    pub fn script(&self, body: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": body, "args": args}))
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    pub fn async_script(&self, body: &str, args: Value) -> Value {
        self.post("/execute/async", json!({"script": body, "args": args}))
            .unwrap_or_else(|e| panic!("async script failed: {e}"))
    }

    /// Presses one key (a WebDriver key code such as `\u{E004}` for Tab) on whatever
    /// has the focus, as a keyboard user would.
    pub fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]});
        self.post("/actions", actions).unwrap_or_else(|e| panic!("press {key:?}: {e}"));
    }

    /// Whether the focused element matches `css`.
    pub fn focused(&self, css: &str) -> bool {
        self.script("return !!document.activeElement && document.activeElement.matches(arguments[0]);", json!([css]))
            == json!(true)
    }

    /// Presses Tab until `css` has the focus (at most 80 times), then Enter.
    pub fn tab_and_enter(&self, css: &str) {
        self.wait_for(css);
        for _ in 0..80 {
            if self.focused(css) {
                self.press(ENTER);
                return;
            }
            self.press(TAB);
        }
        panic!("Tab never reached `{css}`");
    }

    /// Resizes the window (its content follows).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height})).expect("resize");
        // Let the layout settle at the new size.
        self.async_script(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
            json!([]),
        );
    }

    /// Chooses the theme through the sidebar's menu, as the administrator does.
    pub fn set_theme(&self, theme: &str) {
        self.script(
            "const s = document.querySelector('[data-testid=theme]'); s.value = arguments[0]; s.dispatchEvent(new Event('change', {bubbles: true}));",
            json!([theme]),
        );
        let want = if theme == "system" { Value::Null } else { json!(theme) };
        until(
            TIMEOUT,
            || {
                (self.script("return document.documentElement.getAttribute('data-theme')", json!([])) == want)
                    .then_some(())
            },
            || format!("theme {theme} not applied"),
        );
    }

    /// Runs axe-core (the npm package, from ui/node_modules) in the page and returns
    /// its serious and critical violations, one line each.
    pub fn axe_serious(&self) -> Vec<String> {
        if self.script("return typeof window.axe", json!([])) != json!("object") {
            let axe =
                std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/node_modules/axe-core/axe.min.js"))
                    .expect("axe-core is installed by scripts/setup (npm)");
            self.script(&axe, json!([]));
        }
        let r = self.async_script(
            "const done = arguments[0]; axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id + ': ' + v.help + ' — ' + v.nodes.map((n) => n.target.join(' ') + (n.failureSummary ? ' (' + n.failureSummary.replace(/\\s+/g, ' ') + ')' : '')).join('; '))), (e) => done(['axe failed: ' + e]));",
            json!([]),
        );
        r.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    }

    /// Whether any of html, body and main is wider than the window shows.
    pub fn horizontal_overflow(&self) -> Vec<String> {
        let r = self.script(
            "return ['html', 'body', 'main', 'nav'].map((s) => document.querySelector(s)).filter((e) => e && e.scrollWidth > e.clientWidth + 1).map((e) => e.tagName + ' ' + e.scrollWidth + '>' + e.clientWidth);",
            json!([]),
        );
        r.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    }

    /// Saves a PNG screenshot into $E2E_SCREENSHOTS (the README's pictures).
    pub fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("E2E_SCREENSHOTS").map(PathBuf::from) else { return };
        use base64::Engine;
        // Let the webview paint what the DOM already shows.
        self.async_script("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 150)));", json!([]));
        let v = self.get("/screenshot").expect("screenshot");
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = ureq::delete(&self.url).call();
    }
}
