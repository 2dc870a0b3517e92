//! Who may look (docs/UI.md, "Who may look").
//!
//! - Without a token the dashboard binds only a loopback address, and answers
//!   only requests addressed to a loopback name (`localhost`, `127.0.0.1`,
//!   `[::1]`): a web page elsewhere cannot read it through DNS rebinding.
//! - With a token (required to bind any other address), every request shows
//!   it: `Authorization: Bearer <token>`, or the cookie the sign-in page sets.
//!   It is compared in constant time and never logged.

use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use subtle::ConstantTimeEq;

use crate::html::{esc, page, View};
use crate::App;

/// The cookie the sign-in page sets.
const COOKIE: &str = "chittysync_ui";

/// Shortest token accepted: a guessable one would protect nothing.
pub const MIN_TOKEN_LEN: usize = 16;

/// Why the dashboard will not listen where asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BindRefused {
    #[error("refusing to serve the dashboard on {0}, which is not a loopback address, without a token: pass --token (or CHITTYSYNC_UI_TOKEN), or listen on 127.0.0.1 (docs/UI.md)")]
    NeedsToken(SocketAddr),
    #[error("the dashboard token must be at least {MIN_TOKEN_LEN} characters long")]
    ShortToken,
    #[error("the dashboard token may hold only visible ASCII characters other than ; , \" and \\")]
    TokenChars,
}

/// The bind rule: loopback, or any address together with a token.
pub fn check_bind(addr: SocketAddr, token: Option<&str>) -> Result<(), BindRefused> {
    match token {
        Some(t) if t.chars().count() < MIN_TOKEN_LEN => Err(BindRefused::ShortToken),
        // It travels in a cookie: nothing that would end or split one.
        Some(t)
            if !t
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '"' | '\\')) =>
        {
            Err(BindRefused::TokenChars)
        }
        Some(_) => Ok(()),
        None if addr.ip().is_loopback() => Ok(()),
        None => Err(BindRefused::NeedsToken(addr)),
    }
}

/// Whether a `Host` header names this machine's loopback.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn presented(headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        out.push(bearer.trim().to_string());
    }
    for cookies in headers.get_all(header::COOKIE) {
        let Ok(cookies) = cookies.to_str() else {
            continue;
        };
        for pair in cookies.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=') {
                if k == COOKIE {
                    out.push(v.to_string());
                }
            }
        }
    }
    out
}

/// Whether a path may be read without the token: the sign-in page and the
/// built-in assets it needs.
fn open_path(path: &str) -> bool {
    path == "/signin" || path.starts_with("/assets/")
}

/// The guard in front of every route.
pub async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    match &app.token {
        None => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            if !loopback_host(host) {
                return (
                    StatusCode::FORBIDDEN,
                    "This dashboard answers only to localhost (docs/UI.md, \"Who may look\").\n",
                )
                    .into_response();
            }
        }
        Some(token) => {
            let path = req.uri().path();
            let ok = presented(req.headers()).iter().any(|t| equal(t, token));
            if !ok && !open_path(path) {
                if path.starts_with("/api/") || path == "/events" {
                    return (
                        StatusCode::UNAUTHORIZED,
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"error":"a token is needed: Authorization: Bearer <token>"}"#,
                    )
                        .into_response();
                }
                return to_sign_in(req.uri());
            }
        }
    }
    next.run(req).await
}

/// Which token the local dashboard's sign-in asks for.
const LOCAL_HINT: &str = "The token is the one this dashboard was started with (<code>--token</code> or <code>CHITTYSYNC_UI_TOKEN</code>).";

/// Sends a request without a valid token to the sign-in page, which comes
/// back to what was asked.
pub fn to_sign_in(uri: &axum::http::Uri) -> Response {
    let next_url = uri
        .path_and_query()
        .map_or("/board".to_string(), |p| p.to_string());
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("next", &next_url);
    Redirect::to(&format!("/signin?{}", s.finish())).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInQuery {
    next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    token: String,
    next: String,
}

/// Only a path of this site: never an address elsewhere.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/board"
    }
}

/// The sign-in page: a form posting `token` and `next` to `/signin`.
/// `wrong`: the token given was refused; `hint` (safe HTML) says which token.
pub fn sign_in_page(next: &str, wrong: bool, hint: &str) -> String {
    let note = if wrong {
        r#"<p class="error" role="alert">That token is not this dashboard's.</p>"#
    } else {
        ""
    };
    page(
        View::SignIn,
        "Sign in",
        &format!(
            r#"<h1>Sign in</h1>{note}<form class="signin" method="post" action="/signin"><input type="hidden" name="next" value="{next}"><label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label><button type="submit">Sign in</button></form><p>{hint}</p>"#,
            next = esc(safe_next(next)),
        ),
    )
}

pub async fn sign_in_form(Query(q): Query<SignInQuery>) -> Response {
    axum::response::Html(sign_in_page(&q.next, false, LOCAL_HINT)).into_response()
}

pub async fn sign_in(State(app): State<Arc<App>>, Form(form): Form<SignInForm>) -> Response {
    let Some(token) = &app.token else {
        return Redirect::to(safe_next(&form.next)).into_response();
    };
    if !equal(form.token.trim(), token) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::response::Html(sign_in_page(&form.next, true, LOCAL_HINT)),
        )
            .into_response();
    }
    let mut res = Redirect::to(safe_next(&form.next)).into_response();
    // The token itself, readable by no script, sent only to this site.
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        form.token.trim()
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Headers on every answer: nothing but this site's own scripts and styles
/// run, the pages are never framed, never cached, never sniffed.
pub async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_binds_alone_others_with_a_long_token() {
        let lo: SocketAddr = "127.0.0.1:7879".parse().unwrap();
        let lo6: SocketAddr = "[::1]:7879".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:7879".parse().unwrap();
        assert_eq!(check_bind(lo, None), Ok(()));
        assert_eq!(check_bind(lo6, None), Ok(()));
        assert_eq!(check_bind(any, None), Err(BindRefused::NeedsToken(any)));
        assert_eq!(check_bind(any, Some("short")), Err(BindRefused::ShortToken));
        assert_eq!(check_bind(any, Some("0123456789abcdef")), Ok(()));
    }

    #[test]
    fn only_loopback_names_pass_the_host_check() {
        for ok in [
            "localhost:7879",
            "127.0.0.1:80",
            "[::1]:7879",
            "LOCALHOST",
            "127.0.0.1",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:7879",
            "192.168.1.2:7879",
            "",
            "localhost.evil.example",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn sign_in_goes_back_only_to_this_site() {
        assert_eq!(safe_next("/board?project=x"), "/board?project=x");
        assert_eq!(safe_next("//evil.example/"), "/board");
        assert_eq!(safe_next("https://evil.example/"), "/board");
        assert_eq!(safe_next("/\\evil.example"), "/board");
    }
}
