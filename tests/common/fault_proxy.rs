//! A test-only HTTP/1.1 proxy between stackwatch and the emulator that injects faults: 5xx
//! answers, throttling errors in each service's real wire shape, connection resets (before the
//! request reaches the emulator, or after it did, losing the answer) and added latency. Every
//! decision comes from one seeded generator, so a failing run can be replayed with its seed.
//!
//! The service of a request is read from its SigV4 credential scope
//! (`Credential=AKID/date/region/SERVICE/aws4_request`), which every SDK request carries:
//!
//! | service | throttling answer |
//! | --- | --- |
//! | `cognito-idp`, `cognito-identity` (awsJson1.1) | 400 `{"__type":"TooManyRequestsException"}` |
//! | `apigateway` (restJson1) | 429, `x-amzn-ErrorType: TooManyRequestsException` |
//! | `iam`, `sts` (awsQuery) | 400 `<ErrorResponse><Error><Code>Throttling</Code>…` |
//! | `s3` (restXml) | 503 `<Error><Code>SlowDown</Code>…` |
//!
//! The proxy runs on its own thread and runtime, so tests that block on a child process do not
//! stall it. Requests are forwarded byte for byte (signatures stay valid), one upstream
//! connection per request; the upstream can be changed while it runs (an emulator restarted on
//! another port).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Fault rates (each a probability in 0..=1, checked in this order) and added latency.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Connection reset before the request is forwarded: the emulator never sees it.
    pub reset: f64,
    /// A 5xx answer (500 InternalError-style), not forwarded.
    pub error_5xx: f64,
    /// A throttling answer in the service's wire shape, not forwarded.
    pub throttle: f64,
    /// Forwarded, then the connection is reset instead of answering: the call happened but
    /// its answer is lost (the case that makes retried creates dangerous).
    pub drop_response: f64,
    /// Added to every request before it is forwarded.
    pub latency: Duration,
    /// Resets the connection of the first request to this operation (its `X-Amz-Target`
    /// ends with `.NAME`), before the emulator sees it: a create that surely did not happen,
    /// though the caller cannot tell.
    pub reset_first: Option<&'static str>,
}

impl Faults {
    pub const NONE: Faults = Faults {
        reset: 0.0,
        error_5xx: 0.0,
        throttle: 0.0,
        drop_response: 0.0,
        latency: Duration::ZERO,
        reset_first: None,
    };

    /// `rate` of all calls fail, split evenly over resets, 5xx and throttling (all before the
    /// emulator sees the call).
    pub fn failing(rate: f64) -> Faults {
        Faults {
            reset: rate / 3.0,
            error_5xx: rate / 3.0,
            throttle: rate / 3.0,
            ..Faults::NONE
        }
    }

    fn total(&self) -> f64 {
        self.reset + self.error_5xx + self.throttle + self.drop_response
    }
}

/// What the proxy did, by kind.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub forwarded: AtomicU64,
    pub resets: AtomicU64,
    pub errors_5xx: AtomicU64,
    pub throttles: AtomicU64,
    pub dropped_responses: AtomicU64,
}

impl Stats {
    pub fn injected(&self) -> u64 {
        self.resets.load(Ordering::Relaxed)
            + self.errors_5xx.load(Ordering::Relaxed)
            + self.throttles.load(Ordering::Relaxed)
            + self.dropped_responses.load(Ordering::Relaxed)
    }

    pub fn summary(&self) -> String {
        format!(
            "{} requests: {} forwarded, {} resets, {} 5xx, {} throttled, {} answers dropped",
            self.requests.load(Ordering::Relaxed),
            self.forwarded.load(Ordering::Relaxed),
            self.resets.load(Ordering::Relaxed),
            self.errors_5xx.load(Ordering::Relaxed),
            self.throttles.load(Ordering::Relaxed),
            self.dropped_responses.load(Ordering::Relaxed),
        )
    }
}

/// SplitMix64: small, seeded, good enough to pick faults.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

struct Shared {
    upstream: Mutex<SocketAddr>,
    faults: Mutex<Faults>,
    rng: Mutex<Rng>,
    stats: Stats,
    /// Whether `reset_first` has been used.
    reset_first_done: std::sync::atomic::AtomicBool,
}

/// The running proxy; stopped when dropped.
pub struct FaultProxy {
    pub port: u16,
    pub endpoint: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

enum Fault {
    None,
    Reset,
    Error5xx,
    Throttle,
    DropResponse,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str, faults: Faults, seed: u64) -> FaultProxy {
        Self::start_on(0, upstream, faults, seed)
    }

    /// Same, on a given port (0: any free one).
    pub fn start_on(port: u16, upstream: &str, faults: Faults, seed: u64) -> FaultProxy {
        let shared = Arc::new(Shared {
            upstream: Mutex::new(parse_upstream(upstream)),
            faults: Mutex::new(faults),
            rng: Mutex::new(Rng::new(seed)),
            stats: Stats::default(),
            reset_first_done: Default::default(),
        });
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind proxy");
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = TcpListener::from_std(std_listener).unwrap();
                    let accept = async {
                        loop {
                            let Ok((conn, _)) = listener.accept().await else {
                                continue;
                            };
                            let _ = conn.set_nodelay(true);
                            tokio::spawn(serve(conn, s.clone()));
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = stopped => {}
                    }
                });
                rt.shutdown_background();
            })
            .unwrap();
        FaultProxy {
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap() = faults;
    }

    pub fn set_upstream(&self, upstream: &str) {
        *self.shared.upstream.lock().unwrap() = parse_upstream(upstream);
    }

    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// Environment for running the stackwatch binary through this proxy.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn parse_upstream(url: &str) -> SocketAddr {
    let hostport = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    hostport.parse().expect("upstream must be http://IP:PORT")
}

/// A connection with a read buffer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    /// Reads more bytes; false at end of stream.
    async fn fill(&mut self) -> std::io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// The bytes up to and including the blank line ending a message head; None at a clean EOF.
    async fn head(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                return Ok(Some(self.buf.drain(..i + 4).collect()));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    async fn exact(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill().await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn line(&mut self) -> std::io::Result<Vec<u8>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                return Ok(self.buf.drain(..i + 2).collect());
            }
            if !self.fill().await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// A chunked body, raw (sizes, data, trailers), so it can be forwarded unchanged.
    async fn chunked(&mut self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let size_line = self.line().await?;
            let text = String::from_utf8_lossy(&size_line);
            let hex = text.trim().split(';').next().unwrap_or("0");
            let size = usize::from_str_radix(hex.trim(), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            out.extend_from_slice(&size_line);
            if size == 0 {
                loop {
                    let trailer = self.line().await?;
                    out.extend_from_slice(&trailer);
                    if trailer == b"\r\n" {
                        return Ok(out);
                    }
                }
            }
            out.extend(self.exact(size + 2).await?);
        }
    }

    async fn until_eof(&mut self) -> std::io::Result<Vec<u8>> {
        while self.fill().await? {}
        Ok(std::mem::take(&mut self.buf))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A parsed message head: first line and headers (names lower-cased).
struct Head {
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(raw: &[u8]) -> Head {
        let text = String::from_utf8_lossy(raw);
        let mut lines = text.split("\r\n");
        let first = lines.next().unwrap_or_default().to_string();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Head { first, headers }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn chunked(&self) -> bool {
        self.get("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    fn content_length(&self) -> Option<usize> {
        self.get("content-length").and_then(|v| v.parse().ok())
    }

    /// The service from the SigV4 credential scope.
    fn service(&self) -> String {
        self.get("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split(['/', ',']).nth(3))
            .unwrap_or("unknown")
            .to_string()
    }

    fn close_requested(&self) -> bool {
        let conn = self.get("connection").map(str::to_ascii_lowercase);
        if self.first.starts_with("HTTP/1.0") {
            conn.as_deref() != Some("keep-alive")
        } else {
            conn.as_deref() == Some("close")
        }
    }
}

/// Reads a body framed as `head` says. `None` length and not chunked: no body (a request).
async fn body(conn: &mut Conn, head: &Head) -> std::io::Result<Vec<u8>> {
    if head.chunked() {
        conn.chunked().await
    } else {
        conn.exact(head.content_length().unwrap_or(0)).await
    }
}

async fn serve(client: TcpStream, shared: Arc<Shared>) {
    let mut client = Conn {
        stream: client,
        buf: Vec::new(),
    };
    loop {
        let Ok(Some(raw_head)) = client.head().await else {
            return;
        };
        let head = Head::parse(&raw_head);
        let Ok(raw_body) = body(&mut client, &head).await else {
            return;
        };
        shared.stats.requests.fetch_add(1, Ordering::Relaxed);
        let faults = *shared.faults.lock().unwrap();
        let targeted = faults.reset_first.is_some_and(|op| {
            head.get("x-amz-target")
                .is_some_and(|t| t.rsplit('.').next() == Some(op))
                && !shared.reset_first_done.swap(true, Ordering::SeqCst)
        });
        let fault = if targeted {
            Fault::Reset
        } else {
            let mut rng = shared.rng.lock().unwrap();
            let r = rng.unit();
            let mut edge = faults.reset;
            if r < edge {
                Fault::Reset
            } else if r < {
                edge += faults.error_5xx;
                edge
            } {
                Fault::Error5xx
            } else if r < {
                edge += faults.throttle;
                edge
            } {
                Fault::Throttle
            } else if r < faults.total() {
                Fault::DropResponse
            } else {
                Fault::None
            }
        };
        if !faults.latency.is_zero() {
            tokio::time::sleep(faults.latency).await;
        }
        let service = head.service();
        match fault {
            Fault::Reset => {
                shared.stats.resets.fetch_add(1, Ordering::Relaxed);
                reset(client.stream);
                return;
            }
            Fault::Error5xx => {
                shared.stats.errors_5xx.fetch_add(1, Ordering::Relaxed);
                if client.stream.write_all(&error_5xx(&service)).await.is_err() {
                    return;
                }
                continue;
            }
            Fault::Throttle => {
                shared.stats.throttles.fetch_add(1, Ordering::Relaxed);
                if client.stream.write_all(&throttle(&service)).await.is_err() {
                    return;
                }
                continue;
            }
            Fault::DropResponse | Fault::None => {}
        }
        let upstream = *shared.upstream.lock().unwrap();
        let is_head = head.first.starts_with("HEAD ");
        let answer = forward(upstream, &raw_head, &raw_body, is_head).await;
        let Ok((raw_answer, close)) = answer else {
            // The emulator is down: as a load balancer would, answer 502.
            let _ = client.stream.write_all(&bad_gateway()).await;
            return;
        };
        shared.stats.forwarded.fetch_add(1, Ordering::Relaxed);
        if matches!(fault, Fault::DropResponse) {
            shared
                .stats
                .dropped_responses
                .fetch_add(1, Ordering::Relaxed);
            reset(client.stream);
            return;
        }
        if client.stream.write_all(&raw_answer).await.is_err() || close || head.close_requested() {
            return;
        }
    }
}

/// Closes with RST (SO_LINGER 0), as a crashed peer or middlebox does.
fn reset(stream: TcpStream) {
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Sends one request upstream on a fresh connection; returns the raw answer and whether the
/// client connection must close after it (the answer was delimited by closing).
async fn forward(
    upstream: SocketAddr,
    head: &[u8],
    body: &[u8],
    is_head: bool,
) -> std::io::Result<(Vec<u8>, bool)> {
    let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(upstream))
        .await
        .map_err(|_| std::io::Error::other("connect timeout"))??;
    stream.set_nodelay(true)?;
    let mut up = Conn {
        stream,
        buf: Vec::new(),
    };
    up.stream.write_all(head).await?;
    up.stream.write_all(body).await?;
    let raw_head = up
        .head()
        .await?
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
    let h = Head::parse(&raw_head);
    let status: u16 = h
        .first
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let mut out = raw_head.clone();
    let mut close = h.close_requested();
    if is_head || status == 204 || status == 304 || (100..200).contains(&status) {
        // No body.
    } else if h.chunked() {
        out.extend(up.chunked().await?);
    } else if let Some(n) = h.content_length() {
        out.extend(up.exact(n).await?);
    } else {
        out.extend(up.until_eof().await?);
        close = true;
    }
    Ok((out, close))
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut s = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str(&format!(
        "x-amzn-RequestId: fault-proxy\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.into_bytes()
}

const JSON: (&str, &str) = ("Content-Type", "application/x-amz-json-1.1");
const XML: (&str, &str) = ("Content-Type", "text/xml");

fn query_error(code: &str, message: &str, kind: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>\
         </Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
    )
}

/// The throttling answer each service sends, in its protocol's shape.
pub fn throttle(service: &str) -> Vec<u8> {
    match service {
        "cognito-idp" | "cognito-identity" => response(
            "400 Bad Request",
            &[JSON],
            r#"{"__type":"TooManyRequestsException","message":"Rate exceeded"}"#,
        ),
        "apigateway" => response(
            "429 Too Many Requests",
            &[
                ("Content-Type", "application/json"),
                ("x-amzn-ErrorType", "TooManyRequestsException"),
            ],
            r#"{"message":"Too Many Requests"}"#,
        ),
        "s3" => response(
            "503 Slow Down",
            &[("Content-Type", "application/xml")],
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>\
             <RequestId>fault-proxy</RequestId></Error>",
        ),
        // iam, sts and anything else on the query protocol.
        _ => response(
            "400 Bad Request",
            &[XML],
            &query_error("Throttling", "Rate exceeded", "Sender"),
        ),
    }
}

/// A 5xx answer in the service's shape.
pub fn error_5xx(service: &str) -> Vec<u8> {
    match service {
        "cognito-idp" | "cognito-identity" => response(
            "500 Internal Server Error",
            &[JSON],
            r#"{"__type":"InternalErrorException","message":"injected"}"#,
        ),
        "apigateway" => response(
            "503 Service Unavailable",
            &[
                ("Content-Type", "application/json"),
                ("x-amzn-ErrorType", "ServiceUnavailableException"),
            ],
            r#"{"message":"injected"}"#,
        ),
        "s3" => response(
            "500 Internal Server Error",
            &[("Content-Type", "application/xml")],
            "<Error><Code>InternalError</Code><Message>injected</Message></Error>",
        ),
        _ => response(
            "500 Internal Server Error",
            &[XML],
            &query_error("ServiceFailure", "injected", "Receiver"),
        ),
    }
}

fn bad_gateway() -> Vec<u8> {
    // Closed after it: the upstream is gone.
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
}
