// The app's commands have one home: the `#[tauri::command]` functions in
// src-tauri/commands/. This script reads them (with syn) and generates the rest,
// so that nothing can name a command the app does not have:
// - the names, for tauri-build, which declares one `allow-<name>` permission each;
// - the handler table, `OUT_DIR/commands.rs`, included by lib.rs;
// - the main window's capability, which grants exactly those commands and the
//   two event permissions (nothing else: no file system, shell or HTTP access);
// - per module, `OUT_DIR/commands/<module>.rs`, included by that module: each
//   command's TypeScript signature, from which bindings.rs writes the `Commands`
//   type that ui/src/lib/api.ts is checked against.

use quote::ToTokens;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A parameter that the webview passes.
enum Arg {
    Value(String),
    /// A `Channel<T>`: progress the command streams back.
    Channel(String),
}

struct Command {
    module: String,
    name: String,
    args: Vec<(String, Arg)>,
    result: String,
}

/// Parameters Tauri fills in itself; the webview never passes them.
const INJECTED: &[&str] = &["State", "AppHandle", "Window", "WebviewWindow", "Webview"];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let dir = root.join("src-tauri/commands");
    println!("cargo:rerun-if-changed={}", dir.display());
    std::fs::create_dir_all(out.join("commands")).expect("OUT_DIR is writable");
    let mut all = Vec::new();
    for path in modules(&dir) {
        let module = path.file_stem().and_then(|s| s.to_str()).expect("a UTF-8 name").to_string();
        let text = std::fs::read_to_string(&path).expect("a command module is readable");
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let commands: Vec<Command> = file.items.iter().filter_map(|i| command(&module, i)).collect();
        write(&out.join(format!("commands/{module}.rs")), &signatures(&commands));
        all.extend(commands);
    }
    let mut names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        panic!("two commands are named {}: the webview calls them by name, so each needs its own", w[0]);
    }
    write(&out.join("commands.rs"), &handler_table(&all));
    write(&out.join("capabilities/main-window.json"), &capability(&all));
    let pattern: &'static str = Box::leak(format!("{}/capabilities/*.json", out.display()).into_boxed_str());
    // tauri-build keeps these for the whole build: leaked, as its API asks.
    let names: Vec<&'static str> = all.iter().map(|c| &*Box::leak(c.name.clone().into_boxed_str())).collect();
    let manifest = tauri_build::AppManifest::new().commands(Vec::leak(names));
    let attributes = tauri_build::Attributes::new().app_manifest(manifest).capabilities_path_pattern(pattern);
    tauri_build::try_build(attributes).expect("tauri-build failed");
}

/// The command modules, in a stable order (`mod.rs` holds helpers only).
fn modules(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("src-tauri/commands exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.ends_with("mod.rs"))
        .collect();
    paths.sort();
    paths
}

fn command(module: &str, item: &syn::Item) -> Option<Command> {
    let syn::Item::Fn(f) = item else { return None };
    let is_command = f.attrs.iter().any(|a| {
        let segments: Vec<String> = a.path().segments.iter().map(|s| s.ident.to_string()).collect();
        segments == ["tauri", "command"]
    });
    if !is_command {
        return None;
    }
    let args = f
        .sig
        .inputs
        .iter()
        .filter_map(|input| {
            let syn::FnArg::Typed(p) = input else { panic!("{}: a command takes no self", f.sig.ident) };
            let syn::Pat::Ident(name) = &*p.pat else { panic!("{}: name each parameter", f.sig.ident) };
            let (last, inner) = last_segment(&p.ty);
            if INJECTED.contains(&last.as_str()) {
                return None;
            }
            let arg = match (last.as_str(), inner) {
                ("Channel", Some(t)) => Arg::Channel(t),
                _ => Arg::Value(p.ty.to_token_stream().to_string()),
            };
            Some((name.ident.to_string(), arg))
        })
        .collect();
    let result = match &f.sig.output {
        syn::ReturnType::Default => "()".to_string(),
        syn::ReturnType::Type(_, ty) => match last_segment(ty) {
            (last, Some(t)) if last == "CommandResult" => t,
            _ => ty.to_token_stream().to_string(),
        },
    };
    Some(Command { module: module.to_string(), name: f.sig.ident.to_string(), args, result })
}

/// A type's last path segment, and its one generic argument if it has one.
fn last_segment(ty: &syn::Type) -> (String, Option<String>) {
    let syn::Type::Path(p) = ty else { return (String::new(), None) };
    let Some(last) = p.path.segments.last() else { return (String::new(), None) };
    let inner = match &last.arguments {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t.to_token_stream().to_string()),
            _ => None,
        }),
        _ => None,
    };
    (last.ident.to_string(), inner)
}

/// Tauri passes arguments by their camelCase names, made with heck as tauri-macros
/// makes them, so the two cannot spell a name differently.
fn camel(name: &str) -> String {
    heck::ToLowerCamelCase::to_lower_camel_case(name)
}

fn signatures(commands: &[Command]) -> String {
    let mut body = String::new();
    for c in commands {
        let args: Vec<String> = c
            .args
            .iter()
            .map(|(name, arg)| match arg {
                Arg::Value(t) => format!("format!(\"{}: {{}}\", <{t} as ts_rs::TS>::name(cfg))", camel(name)),
                Arg::Channel(t) => {
                    format!("format!(\"{}: Channel<{{}}>\", <{t} as ts_rs::TS>::name(cfg))", camel(name))
                }
            })
            .collect();
        writeln!(
            body,
            "    out.push(signature(\"{}\", &[{}], <{} as ts_rs::TS>::name(cfg)));",
            c.name,
            args.join(", "),
            c.result
        )
        .expect("a String takes writes");
    }
    format!(
        "// Generated by build.rs from this module's #[tauri::command] functions.\n\
         /// This module's commands as TypeScript: `name: {{ args: {{…}}; result: … }};`.\n\
         #[allow(clippy::vec_init_then_push)]\n\
         pub(crate) fn typescript_signatures(cfg: &ts_rs::Config) -> Vec<String> {{\n\
         \x20   use crate::bindings::signature;\n\
         \x20   let mut out = Vec::new();\n{body}    out\n}}\n"
    )
}

fn handler_table(all: &[Command]) -> String {
    let names: Vec<String> = all.iter().map(|c| format!("\"{}\"", c.name)).collect();
    let paths: Vec<String> = all.iter().map(|c| format!("commands::{}::{}", c.module, c.name)).collect();
    let mut modules: Vec<&str> = all.iter().map(|c| c.module.as_str()).collect();
    modules.dedup();
    let signatures: Vec<String> =
        modules.iter().map(|m| format!("commands::{m}::typescript_signatures(cfg)")).collect();
    format!(
        "// Generated by build.rs from the #[tauri::command] functions in src-tauri/commands/.\n\
         /// Every command the webview may call, by name.\n\
         pub const COMMANDS: &[&str] = &[{}];\n\n\
         fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {{\n\
         \x20   tauri::generate_handler![{}]\n}}\n\n\
         /// Each command's TypeScript signature, module by module.\n\
         pub(crate) fn command_signatures(cfg: &ts_rs::Config) -> Vec<String> {{\n\
         \x20   [{}].concat()\n}}\n",
        names.join(", "),
        paths.join(", "),
        signatures.join(", ")
    )
}

fn capability(all: &[Command]) -> String {
    let mut permissions = vec!["\"core:event:allow-listen\"".to_string(), "\"core:event:allow-unlisten\"".to_string()];
    permissions.extend(all.iter().map(|c| format!("\"allow-{}\"", c.name.replace('_', "-"))));
    format!(
        "{{\n  \"identifier\": \"main-window\",\n  \"description\": \"The main window may call License Manager's own commands and listen for its events; nothing else (no file system, shell or HTTP access).\",\n  \"windows\": [\"main\"],\n  \"permissions\": [\n    {}\n  ]\n}}\n",
        permissions.join(",\n    ")
    )
}

/// Writes only what changed, so that an unchanged file does not look new to cargo.
fn write(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::create_dir_all(path.parent().expect("a file in a folder")).expect("OUT_DIR is writable");
        std::fs::write(path, text).expect("OUT_DIR is writable");
    }
}
