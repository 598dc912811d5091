//! Who may use the console, and which requests count as its own: the session token (random, or
//! supplied from a file or `STACKWATCH_CONSOLE_TOKEN`), the cookie it sets, the CSRF token that
//! every state-changing form carries (an HMAC of a fixed label under the session token), and
//! the Host and Origin checks that refuse other sites and DNS rebinding.
//!
//! The decisions are pure functions of the request's parts ([`check`]) so they are unit-tested
//! here without a server; [`guard`] is the axum middleware that applies them to every console
//! route. Tokens are compared in constant time (`subtle`). The cookie is read and set through
//! axum-extra's `CookieJar`, never parsed by hand.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{Console, ConsoleError};

/// The largest form body a console POST may send.
const MAX_FORM: usize = 64 * 1024;

/// The session token. `Debug` and `Display` print `<redacted>`; only [`Token::expose`] gives
/// the text (for the printed URL and the comparisons).
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// 32 random bytes from the operating system, as 64 hex digits.
    pub fn generate() -> Result<Token, ConsoleError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| ConsoleError::Random(e.to_string()))?;
        Ok(Token(hex(&bytes)))
    }

    /// A token supplied by the operator (a Kubernetes Secret): at least 16 characters, each a
    /// letter, digit, `-`, `.`, `_` or `~` (what a URL and a cookie carry unchanged, such as
    /// `openssl rand -hex 32`).
    pub fn supplied(text: &str, from: &str) -> Result<Token, ConsoleError> {
        let text = text.trim_end_matches(['\n', '\r']);
        let unreserved =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if text.len() < 16 || !text.bytes().all(unreserved) {
            return Err(ConsoleError::BadToken {
                from: from.to_string(),
            });
        }
        Ok(Token(text.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The CSRF token of this session: HMAC-SHA256 of a fixed label, keyed by the token.
    pub fn csrf(&self) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(b"stackwatch console csrf v1");
        hex(&mac.finalize().into_bytes())
    }

    /// Constant-time comparison with what a request sent.
    pub fn matches(&self, sent: &str) -> bool {
        ct_eq(self.0.as_bytes(), sent.as_bytes())
    }
}

crate::redacted!(Token);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    // Lengths are not secret (every token of a kind has the same length); contents are.
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// What the console accepts as its own: the hosts (`host:port`) that name its listen address.
#[derive(Debug, Clone)]
pub struct Origins {
    hosts: Vec<String>,
}

impl Origins {
    /// The listen address itself, and for a loopback or unspecified address the loopback
    /// names (`127.0.0.1`, `localhost`, `[::1]`) with the same port, as a port-forward uses.
    pub fn of(addr: SocketAddr) -> Origins {
        let port = addr.port();
        let mut hosts = vec![];
        if !addr.ip().is_unspecified() {
            hosts.push(match addr {
                SocketAddr::V4(a) => format!("{}:{port}", a.ip()),
                SocketAddr::V6(a) => format!("[{}]:{port}", a.ip()),
            });
        }
        if addr.ip().is_loopback() || addr.ip().is_unspecified() {
            for h in ["127.0.0.1", "localhost", "[::1]"] {
                let h = format!("{h}:{port}");
                if !hosts.contains(&h) {
                    hosts.push(h);
                }
            }
        }
        Origins { hosts }
    }

    /// The host the printed URL uses.
    pub fn primary(&self) -> &str {
        &self.hosts[0]
    }

    fn host_ok(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// `Origin: http://host:port` (exactly), or without one a `Referer` under that origin.
    fn origin_ok(&self, origin: Option<&str>, referer: Option<&str>) -> bool {
        let own = |o: &str| {
            o.strip_prefix("http://")
                .is_some_and(|host| self.host_ok(host))
        };
        match (origin, referer) {
            (Some(o), _) => own(o),
            (None, Some(r)) => r
                .strip_prefix("http://")
                .and_then(|rest| rest.split('/').next())
                .is_some_and(|host| self.host_ok(host)),
            (None, None) => false,
        }
    }
}

/// The name of the session cookie: per port, so two daemons on one machine keep apart.
pub fn cookie_name(addr: SocketAddr) -> String {
    format!("stackwatch_console_{}", addr.port())
}

/// The session cookie: the token, `HttpOnly` (no script reads it), `SameSite=Strict` (no
/// other site's page sends it) and `Path=/`.
pub fn session_cookie(name: &str, token: &Token) -> Cookie<'static> {
    Cookie::build((name.to_string(), token.expose().to_string()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

/// The answer to the right token in the URL: the session cookie, and a redirect to `location`
/// (the same page without the token).
fn login(policy: &Policy, location: String) -> Response {
    let jar = CookieJar::new().add(session_cookie(&policy.cookie, &policy.token));
    (StatusCode::SEE_OTHER, jar, [(header::LOCATION, location)]).into_response()
}

/// Why a request is refused, or what to do with it.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let it through.
    Pass,
    /// The right token in the URL: set the cookie and redirect to `location`.
    Login {
        location: String,
    },
    Refuse(StatusCode, &'static str),
}

/// The request as far as the checks need it.
pub struct Parts<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// The form body's `csrf` field (for a POST).
    pub csrf: Option<&'a str>,
}

/// The whole decision: Host first (a foreign Host is refused even with a valid cookie, which
/// stops DNS rebinding), then the token in the URL or the cookie, then for a state-changing
/// request the mode, its Origin (or Referer) and its CSRF token.
pub fn check(console: &Policy, req: &Parts<'_>) -> Verdict {
    let host = req
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !console.origins.host_ok(host) {
        return Verdict::Refuse(
            StatusCode::FORBIDDEN,
            "refused: the Host header does not name this console's address",
        );
    }
    let safe = matches!(*req.method, Method::GET | Method::HEAD);
    if safe && let Some(sent) = query_token(req.query) {
        return if console.token.matches(&sent) {
            Verdict::Login {
                location: req.path.to_string(),
            }
        } else {
            Verdict::Refuse(StatusCode::UNAUTHORIZED, "refused: wrong console token")
        };
    }
    let signed_in = CookieJar::from_headers(req.headers)
        .get(&console.cookie)
        .is_some_and(|c| console.token.matches(c.value()));
    if !signed_in {
        return Verdict::Refuse(
            StatusCode::UNAUTHORIZED,
            "sign in with the URL stackwatch watch printed (Console: http://…/?token=…)",
        );
    }
    if safe {
        return Verdict::Pass;
    }
    if !console.writes {
        return Verdict::Refuse(
            StatusCode::FORBIDDEN,
            "refused: the console is read-only (--console read-only)",
        );
    }
    let header = |name| req.headers.get(name).and_then(|v| v.to_str().ok());
    if !console
        .origins
        .origin_ok(header(header::ORIGIN), header(header::REFERER))
    {
        return Verdict::Refuse(
            StatusCode::FORBIDDEN,
            "refused: the request's Origin is not this console",
        );
    }
    if !req
        .csrf
        .is_some_and(|c| ct_eq(c.as_bytes(), console.csrf.as_bytes()))
    {
        return Verdict::Refuse(
            StatusCode::FORBIDDEN,
            "refused: missing or wrong CSRF token (reload the page)",
        );
    }
    Verdict::Pass
}

/// `token=` in a query string, percent-decoded.
fn query_token(query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

/// What [`check`] needs to know of the console.
#[derive(Debug, Clone)]
pub struct Policy {
    pub token: Token,
    pub csrf: String,
    pub cookie: String,
    pub origins: Origins,
    /// False in read-only mode: every state-changing request is refused.
    pub writes: bool,
}

/// The middleware in front of every console route.
pub async fn guard(State(console): State<Arc<Console>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let mut form = None;
    let mut body = body;
    if !matches!(parts.method, Method::GET | Method::HEAD) {
        match axum::body::to_bytes(body, MAX_FORM).await {
            Ok(bytes) => {
                form = Some(bytes);
                body = Body::empty();
            }
            Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "form too large\n").into_response(),
        }
    }
    let csrf = form.as_ref().and_then(|b| {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(b).ok()?;
        pairs.into_iter().find(|(k, _)| k == "csrf").map(|(_, v)| v)
    });
    let verdict = check(
        &console.policy,
        &Parts {
            method: &parts.method,
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &parts.headers,
            csrf: csrf.as_deref(),
        },
    );
    match verdict {
        Verdict::Pass => {
            let body = match form {
                Some(bytes) => Body::from(bytes),
                None => body,
            };
            let mut resp = next.run(Request::from_parts(parts, body)).await;
            super::headers::harden(resp.headers_mut());
            resp
        }
        Verdict::Login { location } => {
            let mut resp = login(&console.policy, location);
            super::headers::harden(resp.headers_mut());
            resp
        }
        Verdict::Refuse(status, why) => {
            tracing::info!(
                method = %parts.method,
                path = parts.uri.path(),
                status = status.as_u16(),
                "console: {why}"
            );
            let mut resp = (status, format!("{why}\n")).into_response();
            super::headers::harden(resp.headers_mut());
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn policy(writes: bool) -> Policy {
        let token = Token::supplied("0123456789abcdef-test-token", "test").unwrap();
        Policy {
            csrf: token.csrf(),
            token,
            cookie: "stackwatch_console_9464".into(),
            origins: Origins::of("127.0.0.1:9464".parse().unwrap()),
            writes,
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn get(p: &Policy, query: Option<&str>, h: &HeaderMap) -> Verdict {
        check(
            p,
            &Parts {
                method: &Method::GET,
                path: "/cognito",
                query,
                headers: h,
                csrf: None,
            },
        )
    }

    fn post(p: &Policy, h: &HeaderMap, csrf: Option<&str>) -> Verdict {
        check(
            p,
            &Parts {
                method: &Method::POST,
                path: "/cognito/users",
                query: None,
                headers: h,
                csrf,
            },
        )
    }

    const COOKIE: &str = "other=1; stackwatch_console_9464=0123456789abcdef-test-token";

    #[test]
    fn the_token_in_the_url_signs_in_and_a_wrong_one_does_not() {
        let p = policy(true);
        let h = headers(&[("host", "127.0.0.1:9464")]);
        assert_eq!(
            get(&p, Some("token=0123456789abcdef-test-token"), &h),
            Verdict::Login {
                location: "/cognito".into()
            }
        );
        assert!(matches!(
            get(&p, Some("token=0123456789abcdef-test-tokeN"), &h),
            Verdict::Refuse(StatusCode::UNAUTHORIZED, _)
        ));
        assert!(matches!(
            get(&p, None, &h),
            Verdict::Refuse(StatusCode::UNAUTHORIZED, _)
        ));
        let wrong_cookie = headers(&[
            ("host", "127.0.0.1:9464"),
            ("cookie", "stackwatch_console_9464=nope"),
        ]);
        assert!(matches!(
            get(&p, None, &wrong_cookie),
            Verdict::Refuse(StatusCode::UNAUTHORIZED, _)
        ));
        let with_cookie = headers(&[("host", "localhost:9464"), ("cookie", COOKIE)]);
        assert_eq!(get(&p, None, &with_cookie), Verdict::Pass);
    }

    #[test]
    fn a_foreign_host_is_refused_even_signed_in() {
        let p = policy(true);
        for host in ["evil.example:9464", "127.0.0.1:9465", ""] {
            let h = headers(&[("host", host), ("cookie", COOKIE)]);
            assert!(
                matches!(get(&p, None, &h), Verdict::Refuse(StatusCode::FORBIDDEN, _)),
                "{host}"
            );
        }
    }

    #[test]
    fn a_post_needs_its_own_origin_and_the_csrf_token() {
        let p = policy(true);
        let csrf = p.csrf.clone();
        let own = headers(&[
            ("host", "127.0.0.1:9464"),
            ("cookie", COOKIE),
            ("origin", "http://127.0.0.1:9464"),
        ]);
        assert_eq!(post(&p, &own, Some(&csrf)), Verdict::Pass);
        assert!(matches!(
            post(&p, &own, None),
            Verdict::Refuse(StatusCode::FORBIDDEN, _)
        ));
        assert!(matches!(
            post(&p, &own, Some("0000")),
            Verdict::Refuse(StatusCode::FORBIDDEN, _)
        ));
        for origin in ["http://evil.example", "http://127.0.0.1:9464.evil", "null"] {
            let h = headers(&[
                ("host", "127.0.0.1:9464"),
                ("cookie", COOKIE),
                ("origin", origin),
            ]);
            assert!(
                matches!(
                    post(&p, &h, Some(&csrf)),
                    Verdict::Refuse(StatusCode::FORBIDDEN, _)
                ),
                "{origin}"
            );
        }
        // No Origin: the Referer decides; neither is a refusal.
        let referer = headers(&[
            ("host", "127.0.0.1:9464"),
            ("cookie", COOKIE),
            ("referer", "http://127.0.0.1:9464/cognito"),
        ]);
        assert_eq!(post(&p, &referer, Some(&csrf)), Verdict::Pass);
        let bad_referer = headers(&[
            ("host", "127.0.0.1:9464"),
            ("cookie", COOKIE),
            ("referer", "http://evil.example/127.0.0.1:9464/"),
        ]);
        assert!(matches!(
            post(&p, &bad_referer, Some(&csrf)),
            Verdict::Refuse(StatusCode::FORBIDDEN, _)
        ));
        let neither = headers(&[("host", "127.0.0.1:9464"), ("cookie", COOKIE)]);
        assert!(matches!(
            post(&p, &neither, Some(&csrf)),
            Verdict::Refuse(StatusCode::FORBIDDEN, _)
        ));
        // Without the cookie, a POST is 401 whatever it carries.
        let anon = headers(&[
            ("host", "127.0.0.1:9464"),
            ("origin", "http://127.0.0.1:9464"),
        ]);
        assert!(matches!(
            post(&p, &anon, Some(&csrf)),
            Verdict::Refuse(StatusCode::UNAUTHORIZED, _)
        ));
    }

    #[test]
    fn read_only_refuses_every_post() {
        let p = policy(false);
        let own = headers(&[
            ("host", "127.0.0.1:9464"),
            ("cookie", COOKIE),
            ("origin", "http://127.0.0.1:9464"),
        ]);
        assert!(matches!(
            post(&p, &own, Some(&p.csrf.clone())),
            Verdict::Refuse(StatusCode::FORBIDDEN, _)
        ));
        assert_eq!(get(&p, None, &own), Verdict::Pass);
    }

    #[test]
    fn tokens_never_print_and_differ_each_time() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 64);
        assert_eq!(format!("{a:?} {a}"), "<redacted> <redacted>");
        assert_ne!(a.csrf(), b.csrf());
        assert_ne!(a.csrf(), a.expose());
        assert!(Token::supplied("short", "test").is_err());
        assert!(Token::supplied("has a space in it, long", "test").is_err());
        for bad in [
            "0123456789abcdef+",
            "0123456789abcdef&x",
            "0123456789abcdef;x",
            "0123456789abcdef%20",
        ] {
            assert!(Token::supplied(bad, "test").is_err(), "{bad}");
        }
        assert!(Token::supplied("supplied-token_from.a~secret", "test").is_ok());
        assert_eq!(
            Token::supplied("0123456789abcdef\n", "test")
                .unwrap()
                .expose(),
            "0123456789abcdef"
        );
    }

    #[test]
    fn the_session_cookie_is_http_only_and_strict() {
        let t = Token::supplied("0123456789abcdef", "t").unwrap();
        assert_eq!(
            session_cookie("c", &t).to_string(),
            "c=0123456789abcdef; HttpOnly; SameSite=Strict; Path=/"
        );
    }

    #[test]
    fn the_cookie_set_at_login_is_the_one_that_signs_in() {
        let token = Token::supplied("supplied-token_from.a~secret", "test").unwrap();
        let p = Policy {
            csrf: token.csrf(),
            token,
            ..policy(true)
        };
        let resp = login(&p, "/cognito".into());
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers()[header::LOCATION], "/cognito");
        let set: Vec<&str> = resp
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        let [set] = set[..] else {
            panic!("one Set-Cookie: {set:?}")
        };
        let (sent, attributes) = set.split_once("; ").unwrap();
        assert_eq!(attributes, "HttpOnly; SameSite=Strict; Path=/");
        let back = headers(&[("host", "127.0.0.1:9464"), ("cookie", sent)]);
        assert_eq!(get(&p, None, &back), Verdict::Pass);
    }

    #[test]
    fn the_cookie_is_found_among_others_and_in_any_cookie_header() {
        let p = policy(true);
        for cookies in [
            &["a=1; stackwatch_console_9464=0123456789abcdef-test-token; b=2"][..],
            &["a=1", "stackwatch_console_9464=0123456789abcdef-test-token"][..],
        ] {
            let mut h = headers(&[("host", "127.0.0.1:9464")]);
            for c in cookies {
                h.append(header::COOKIE, HeaderValue::from_str(c).unwrap());
            }
            assert_eq!(get(&p, None, &h), Verdict::Pass, "{cookies:?}");
        }
        // Another port's cookie, or the token under another name, is not a session.
        for c in [
            "stackwatch_console_9465=0123456789abcdef-test-token",
            "stackwatch_console_9464x=0123456789abcdef-test-token",
            "0123456789abcdef-test-token",
        ] {
            let h = headers(&[("host", "127.0.0.1:9464"), ("cookie", c)]);
            assert!(
                matches!(
                    get(&p, None, &h),
                    Verdict::Refuse(StatusCode::UNAUTHORIZED, _)
                ),
                "{c}"
            );
        }
    }
}
