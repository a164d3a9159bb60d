//! `GET /api/v1/subscriptions/{code}/audits`: the upload history, newest first, in
//! pages. The body stays the spec's array; a page is at most [`MAX_PAGE`] entries
//! (also the default), `serial_number` keeps one environment's, and `before=<the
//! last upload_id of a page>` continues after it. A page that has more after it
//! says so in a `Link: <…>; rel="next"` header (RFC 8288), so a client that knows
//! nothing of the parameters can still follow it.
//!
//! Why pages: at 20,000 uploads the whole history is about 9 MB, more than a client
//! should hold in one answer; each page costs the same at any size of history (the
//! indexes of migration 6).

use crate::api::{authorize, code_param, same_subscription, serial_param, ApiResult, Shared};
use crate::permission::Permission;
use crate::problem::Problem;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use axum::Json;
use rusqlite::{Connection, OptionalExtension, ToSql};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

/// The most entries one page holds, and the page size when none is asked.
pub const MAX_PAGE: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    serial_number: Option<String>,
    limit: Option<usize>,
    before: Option<String>,
}

/// One page of the history, as asked.
struct Page {
    code: String,
    serial: Option<String>,
    limit: usize,
    /// The upload the page starts after: its (received_at, rowid).
    after: Option<(String, i64)>,
}

pub async fn history(
    State(p): State<Shared>,
    headers: HeaderMap,
    Path(code): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult {
    let code = code_param(&code)?;
    let grant = authorize(&p, &headers, &[Permission::Read])?;
    same_subscription(&grant, &code)?;
    let Query(q) = query.map_err(|e| {
        Problem::bad_request(
            "invalid-query",
            format!("{e}; the history takes serial_number, limit (1 to {MAX_PAGE}) and before (an upload_id)"),
        )
    })?;
    let c = p.db();
    let page = page_asked(&c, code, q)?;
    let (rows, more) = read_page(&c, &page)?;
    let mut response = Json(&rows).into_response();
    if more {
        if let Some(last) = rows.last().and_then(|r| r["upload_id"].as_str()) {
            let link = next_link(&page, last);
            if let Ok(v) = HeaderValue::from_str(&link) {
                response.headers_mut().insert(header::LINK, v);
            }
        }
    }
    Ok(response)
}

fn page_asked(c: &Connection, code: String, q: PageQuery) -> Result<Page, Problem> {
    let limit = q.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Problem::bad_request(
            "invalid-query",
            format!("limit is {limit}; ask for 1 to {MAX_PAGE} entries"),
        ));
    }
    let serial = q.serial_number.as_deref().map(serial_param).transpose()?;
    let after = match q.before.as_deref() {
        None => None,
        Some(id) => Some(cursor(c, &code, id)?),
    };
    Ok(Page { code, serial, limit, after })
}

/// Where the page before `before` ended, looked up in this subscription only (an
/// upload_id of another subscription is unknown here).
fn cursor(c: &Connection, code: &str, before: &str) -> Result<(String, i64), Problem> {
    let unknown = || {
        Problem::bad_request(
            "invalid-query",
            format!("before is '{before}', which is no upload in this history; ask again without before to start from the newest"),
        )
    };
    let id = Uuid::parse_str(before).map_err(|_| unknown())?;
    c.query_row(
        "SELECT received_at, rowid FROM audits WHERE activation_code = ?1 AND upload_id = ?2",
        [code, &id.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(unknown)
}

/// The page's entries, and whether more follow it.
fn read_page(c: &Connection, page: &Page) -> Result<(Vec<Value>, bool), Problem> {
    let mut sql = String::from(
        "SELECT upload_id, serial_number, status, response, summary, received_at FROM audits WHERE activation_code = ?1",
    );
    let fetch = (page.limit + 1) as i64;
    let mut args: Vec<&dyn ToSql> = vec![&page.code];
    if let Some(serial) = &page.serial {
        sql.push_str(" AND serial_number = ?2");
        args.push(serial);
    }
    if let Some((at, rowid)) = &page.after {
        sql.push_str(&format!(" AND (received_at, rowid) < (?{}, ?{})", args.len() + 1, args.len() + 2));
        args.push(at);
        args.push(rowid);
    }
    sql.push_str(&format!(" ORDER BY received_at DESC, rowid DESC LIMIT ?{}", args.len() + 1));
    args.push(&fetch);
    let mut stmt = c.prepare(&sql)?;
    let mut rows: Vec<Value> = stmt.query_map(args.as_slice(), entry)?.collect::<Result<_, _>>()?;
    let more = rows.len() > page.limit;
    rows.truncate(page.limit);
    Ok((rows, more))
}

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    let response: Value = serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default();
    let summary: Value = serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default();
    Ok(json!({
        "upload_id": r.get::<_, String>(0)?,
        "serial_number": r.get::<_, Option<String>>(1)?,
        "status": r.get::<_, String>(2)?,
        "reasons": response["reasons"],
        "received_at": r.get::<_, String>(5)?,
        "audit_id": summary["audit_id"],
        "period_start": summary["period_start"],
        "period_end": summary["period_end"],
        "consumption": summary["consumption"],
    }))
}

fn next_link(page: &Page, last: &str) -> String {
    let serial = page.serial.as_deref().map(|s| format!("&serial_number={s}")).unwrap_or_default();
    format!("</api/v1/subscriptions/{}/audits?limit={}&before={last}{serial}>; rel=\"next\"", page.code, page.limit)
}
