//! The security headers every console answer carries: no framing, no caching, and a strict
//! Content-Security-Policy (only the console's own script and style).

use axum::http::{HeaderMap, HeaderValue, header};

/// Headers every console answer carries: no framing, no caching, only our own assets.
pub fn harden(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::CACHE_CONTROL, "no-store");
}
