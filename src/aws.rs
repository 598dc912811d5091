//! AWS access: the SDK clients built once from aws-config's standard chain, error
//! classification, the capped-backoff retry used by named retry predicates, and the call
//! counter (every request that reaches the wire, by service and operation, read or write).

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use crate::backoff::Backoff;

/// The clients stackwatch uses, sharing one config and one call counter.
#[derive(Clone, Debug)]
pub struct Aws {
    pub region: String,
    pub idp: aws_sdk_cognitoidentityprovider::Client,
    pub identity: aws_sdk_cognitoidentity::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub s3: aws_sdk_s3::Client,
    pub apigw: aws_sdk_apigatewayv2::Client,
    pub ddb: aws_sdk_dynamodb::Client,
    pub sts: aws_sdk_sts::Client,
    pub calls: CallCounter,
    /// The shared config the clients were built from.
    shared: aws_config::SdkConfig,
    /// Clients of services that a kind brings itself ([`Aws::client`]), built once, shared
    /// by clones.
    more: MoreClients,
}

/// A client of the SDK crate `$sdk` built from the shared config `$shared`, its requests
/// counted by `$calls` (a [`CallCounter`]).
#[macro_export]
macro_rules! counted_client {
    ($sdk:ident, $shared:expr, $calls:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($shared)
                .interceptor($calls.clone())
                .build(),
        )
    };
}

/// A service client that a kind builds for itself from the shared config: the kind's file
/// implements this for its SDK's client, so adding a kind never edits this file. Its requests
/// are counted like every other client's.
pub trait ServiceClient: Clone + Send + Sync + 'static {
    fn build(shared: &aws_config::SdkConfig, calls: &CallCounter) -> Self;
}

/// The clients of [`ServiceClient`]s, by type.
#[derive(Clone, Default)]
struct MoreClients(Arc<Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>>);

impl fmt::Debug for MoreClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MoreClients")
    }
}

impl Aws {
    /// Builds the clients from the standard chain (env, profiles, SSO, web identity).
    /// `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_<SERVICE>`) points them at an emulator;
    /// with an endpoint set, S3 uses path-style addressing.
    pub async fn connect(region: &str) -> Aws {
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            .load()
            .await;
        let custom_endpoint = std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        Self::from_shared(region, &shared, custom_endpoint)
    }

    /// Clients for an emulator at `endpoint` with fixed test credentials, ignoring the
    /// environment: what the integration tests use, one emulator per test.
    pub async fn connect_emulator(region: &str, endpoint: &str) -> Aws {
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                "test", "test", None, None, "emulator",
            ))
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            .load()
            .await;
        Self::from_shared(region, &shared, true)
    }

    fn from_shared(region: &str, shared: &aws_config::SdkConfig, custom_endpoint: bool) -> Aws {
        let calls = CallCounter::default();
        let s3 = aws_sdk_s3::config::Builder::from(shared)
            .force_path_style(custom_endpoint)
            .interceptor(calls.clone())
            .build();
        Aws {
            region: region.to_string(),
            idp: crate::counted_client!(aws_sdk_cognitoidentityprovider, shared, calls),
            identity: crate::counted_client!(aws_sdk_cognitoidentity, shared, calls),
            iam: crate::counted_client!(aws_sdk_iam, shared, calls),
            lambda: crate::counted_client!(aws_sdk_lambda, shared, calls),
            s3: aws_sdk_s3::Client::from_conf(s3),
            apigw: crate::counted_client!(aws_sdk_apigatewayv2, shared, calls),
            ddb: crate::counted_client!(aws_sdk_dynamodb, shared, calls),
            sts: crate::counted_client!(aws_sdk_sts, shared, calls),
            calls,
            shared: shared.clone(),
            more: MoreClients::default(),
        }
    }

    /// The client of a service a kind brings itself (see [`ServiceClient`]), built on first
    /// use from the shared config.
    pub fn client<C: ServiceClient>(&self) -> C {
        let mut map = self.more.0.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map
            .entry(TypeId::of::<C>())
            .or_insert_with(|| Box::new(C::build(&self.shared, &self.calls)));
        match entry.downcast_ref::<C>() {
            Some(c) => c.clone(),
            None => C::build(&self.shared, &self.calls),
        }
    }

    /// The account id of the caller (STS GetCallerIdentity).
    pub async fn account(&self) -> Result<String, AwsError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::new("reading", "caller identity", "sts", e))?;
        Ok(out.account.unwrap_or_default())
    }
}

/// Counts requests sent to AWS, by (service, operation). Cheap to clone; shared.
#[derive(Clone, Debug, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<(String, String), u64>>>,
}

/// One row of the call counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallCount {
    pub service: String,
    pub operation: String,
    pub write: bool,
    pub count: u64,
}

/// Read calls are those that only look: Get*, List*, Describe*, Head*.
/// Cognito's administrative reads (AdminGetUser, AdminListGroupsForUser) count as reads too.
pub fn is_read_operation(op: &str) -> bool {
    let op = op.strip_prefix("Admin").unwrap_or(op);
    ["Get", "List", "Describe", "Head"]
        .iter()
        .any(|p| op.starts_with(p))
}

impl CallCounter {
    pub fn snapshot(&self) -> Vec<CallCount> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts
            .iter()
            .map(|((service, operation), n)| CallCount {
                service: service.clone(),
                operation: operation.clone(),
                write: !is_read_operation(operation),
                count: *n,
            })
            .collect()
    }

    pub fn reads(&self) -> u64 {
        self.snapshot()
            .iter()
            .filter(|c| !c.write)
            .map(|c| c.count)
            .sum()
    }

    pub fn writes(&self) -> u64 {
        self.snapshot()
            .iter()
            .filter(|c| c.write)
            .map(|c| c.count)
            .sum()
    }

    /// The write operations seen, as `service:Operation`, for messages and tests.
    pub fn write_operations(&self) -> Vec<String> {
        self.snapshot()
            .into_iter()
            .filter(|c| c.write)
            .map(|c| format!("{}:{}", c.service, c.operation))
            .collect()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "stackwatch-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            let key = (meta.service().to_string(), meta.name().to_string());
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            *counts.entry(key).or_default() += 1;
        }
        Ok(())
    }
}

/// An AWS call that failed: the error code AWS sent (if any), its message, and the SDK's own
/// error as the source (request id, raw response) for whoever wants more than the message.
#[derive(Debug, Clone, Default)]
pub struct ApiError {
    pub code: Option<String>,
    pub message: String,
    /// The failure says nothing about whether AWS acted: no answer or an unreadable one, a
    /// server error, or throttling. See [`is_transient_code`].
    pub transient: bool,
    /// The SDK's error; `None` for an answer stackwatch read itself (see [`ApiError::coded`]).
    pub sdk: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// AWS's ways of saying "slow down" (the SDK's throttling list).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
];

/// AWS refused the request itself as invalid (the services' validation codes): asking again
/// unchanged cannot succeed.
const INVALID_REQUEST_CODES: &[&str] = &[
    "ValidationException",
    "ValidationError",
    "InvalidParameterException",
    "InvalidParameterValueException",
    "InvalidParameterCombination",
    "InvalidInput",
    "MalformedPolicyDocument",
    "MalformedXML",
    "InvalidArgument",
    "BadRequestException",
    "SerializationException",
];

/// AWS asked to slow down.
pub fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// AWS refused the request as invalid.
pub fn is_invalid_request_code(code: &str) -> bool {
    INVALID_REQUEST_CODES.contains(&code)
}

/// Error codes after which AWS may not have done what was asked, and asking again is right:
/// the SDK's throttling and transient lists, and the 5xx codes the services use.
pub fn is_transient_code(code: &str) -> bool {
    const CODES: &[&str] = &[
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalFailure",
        "InternalError",
        "InternalErrorException",
        "InternalServerError",
        "InternalServerErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    ];
    CODES.contains(&code) || is_throttling_code(code)
}

impl ApiError {
    pub fn from_sdk<E>(e: E) -> ApiError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        ApiError {
            code: e.code().map(str::to_string),
            // No code at all means AWS's answer never arrived or could not be read.
            transient: e.code().is_none_or(is_transient_code),
            message: match (e.code(), e.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                _ => DisplayErrorContext(&e).to_string(),
            },
            sdk: Some(Arc::new(e)),
        }
    }

    /// An error AWS answered in a form the SDK does not raise as one (a table that is not
    /// active yet, say), with its code and message.
    pub fn coded(code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            code: Some(code.to_string()),
            message: message.into(),
            transient: false,
            sdk: None,
        }
    }

    /// True when AWS answered with this error code.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.sdk
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// stackwatch's own refusal of a step: nothing was sent, or what came back could not be used
/// (two owned matches, a resource that is not ours, an answer without an id).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// Why a step failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Cause {
    /// AWS said no, or no answer came.
    #[error(transparent)]
    Api(ApiError),
    /// stackwatch refused.
    #[error(transparent)]
    Refused(Refusal),
}

/// A failed step, naming verb, kind and id: `updating Cognito user pool (us-east-1_x): …`.
/// Its message carries the cause's, as terraform's `%w` does, so the cause is not repeated
/// as a source; it is kept, typed, in `cause` (and the SDK's error in the cause).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{verb} {kind} ({id}): {cause}")]
pub struct AwsError {
    pub verb: &'static str,
    pub kind: &'static str,
    pub id: String,
    /// Boxed: an error stays small on the `Result`s that carry it.
    pub cause: Box<Cause>,
}

impl AwsError {
    pub fn new<E>(verb: &'static str, kind: &'static str, id: impl Into<String>, e: E) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        Self::from_api(verb, kind, id, ApiError::from_sdk(e))
    }

    /// A step AWS refused, with the answer as stackwatch read it.
    pub fn from_api(
        verb: &'static str,
        kind: &'static str,
        id: impl Into<String>,
        api: ApiError,
    ) -> AwsError {
        AwsError {
            verb,
            kind,
            id: id.into(),
            cause: Box::new(Cause::Api(api)),
        }
    }

    /// A step stackwatch refused itself (ownership, duplicates), not one AWS refused.
    pub fn refused(
        verb: &'static str,
        kind: &'static str,
        id: impl Into<String>,
        message: impl Into<String>,
    ) -> AwsError {
        AwsError {
            verb,
            kind,
            id: id.into(),
            cause: Box::new(Cause::Refused(Refusal(message.into()))),
        }
    }

    /// True when AWS answered with this error code.
    pub fn is(&self, code: &str) -> bool {
        self.api().is_some_and(|a| a.is(code))
    }

    /// AWS asked to slow down.
    pub fn is_throttling(&self) -> bool {
        self.code().is_some_and(is_throttling_code)
    }

    /// AWS refused the request as invalid: asking again without a change to the files cannot
    /// succeed. (A step stackwatch refused itself, such as a missing function, may be cured
    /// out of band, so it is not one.)
    pub fn is_invalid_request(&self) -> bool {
        self.code().is_some_and(is_invalid_request_code)
    }

    fn code(&self) -> Option<&str> {
        self.api().and_then(|a| a.code.as_deref())
    }

    /// AWS's answer, unless stackwatch refused the step itself.
    pub fn api(&self) -> Option<&ApiError> {
        match self.cause.as_ref() {
            Cause::Api(a) => Some(a),
            Cause::Refused(_) => None,
        }
    }

    /// The cause's message: AWS's `Code: message`, or stackwatch's refusal.
    pub fn message(&self) -> &str {
        match self.cause.as_ref() {
            Cause::Api(a) => &a.message,
            Cause::Refused(r) => &r.0,
        }
    }

    /// True when the failure says nothing about whether AWS acted (see [`ApiError::transient`]).
    pub fn is_transient(&self) -> bool {
        self.api().is_some_and(|a| a.transient)
    }

    /// True when stackwatch refused the step itself.
    pub fn is_refusal(&self) -> bool {
        matches!(*self.cause, Cause::Refused(_))
    }
}

/// NotFound is a value, not an error.
pub trait OrNotFound<T> {
    /// An error whose code is one of `codes` becomes `Ok(None)`.
    fn or_not_found(self, codes: &[&str]) -> Result<Option<T>, AwsError>;

    /// For a delete: done, or gone already (an error whose code is one of `codes`).
    fn or_gone(self, codes: &[&str]) -> Result<(), AwsError>
    where
        Self: Sized,
    {
        self.or_not_found(codes).map(|_| ())
    }
}

impl<T> OrNotFound<T> for Result<T, AwsError> {
    fn or_not_found(self, codes: &[&str]) -> Result<Option<T>, AwsError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if codes.iter().any(|c| e.is(c)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What a step cannot go on without (a part of AWS's answer, a resource that must still be
/// there): its absence is stackwatch's refusal of the step.
pub trait OrRefused<T>: Into<Option<T>> {
    /// `None` becomes [`AwsError::refused`] with these words.
    fn or_refused(
        self,
        verb: &'static str,
        kind: &'static str,
        id: impl Into<String>,
        message: &str,
    ) -> Result<T, AwsError> {
        self.into()
            .ok_or_else(|| AwsError::refused(verb, kind, id, message))
    }
}

impl<T> OrRefused<T> for Option<T> {}

/// The most pages [`all_pages`] reads of one listing before refusing: a listing that long is
/// a loop, not a real account.
const MAX_PAGES: usize = 10_000;

/// Every item of a listing whose SDK operation has no paginator (API Gateway v2's GetApis,
/// GetRoutes, GetIntegrations and GetStages carry `NextToken` but no paginator trait).
/// `page(token)` fetches one page. It ends, as the SDK's paginators do, on a missing or empty
/// token, and refuses a token seen before or a listing past [`MAX_PAGES`] rather than loop:
/// a partial listing could make stackwatch create a twin, so it is an error, not a result.
pub async fn all_pages<T, F, Fut>(
    kind: &'static str,
    id: &str,
    mut page: F,
) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut token = None;
    for _ in 0..MAX_PAGES {
        let (batch, next) = page(token.take()).await?;
        items.extend(batch);
        match next.filter(|t| !t.is_empty()) {
            None => return Ok(items),
            Some(t) if seen.insert(t.clone()) => token = Some(t),
            Some(t) => {
                return Err(AwsError::refused(
                    "listing",
                    kind,
                    id,
                    format!("AWS returned the page token `{t}` twice; the listing would never end"),
                ));
            }
        }
    }
    Err(AwsError::refused(
        "listing",
        kind,
        id,
        format!("more than {MAX_PAGES} pages; the listing would never end"),
    ))
}

/// How many times [`create_once`] sends a create.
const CREATE_ATTEMPTS: u32 = 5;

/// Sends a create that AWS cannot make idempotent (CreateUserPool, CreateUserPoolClient,
/// CreateIdentityPool and CreateApi take no client token). `create` must send it without the
/// SDK's retry ([`no_retry`]): a retry after a lost answer makes a twin. After a failure that
/// says nothing about whether AWS acted (`transient`), `recover` looks for what the lost attempt
/// may have made; only when it finds nothing is the create sent again. Should AWS's listing lag
/// behind and a twin be made anyway, the next read refuses to guess between two owned matches.
pub async fn create_once<T, C, CF, R, RF>(mut create: C, mut recover: R) -> Result<T, AwsError>
where
    C: FnMut() -> CF,
    CF: Future<Output = Result<T, AwsError>>,
    R: FnMut() -> RF,
    RF: Future<Output = Result<Option<T>, AwsError>>,
{
    let mut attempt = 1;
    loop {
        match create().await {
            Err(e) if e.is_transient() && attempt < CREATE_ATTEMPTS => {
                let delay = CREATE_BACKOFF.delay(attempt - 1);
                tracing::debug!(error = %e, attempt, ?delay, "create failed in transit; looking before creating again");
                tokio::time::sleep(delay).await;
                attempt += 1;
                if let Some(made) = recover().await? {
                    return Ok(made);
                }
            }
            other => return other,
        }
    }
}

/// How [`create_once`] waits between attempts.
const CREATE_BACKOFF: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(2));

/// The SDK retry setting for sends that must go out once ([`create_once`]).
pub fn no_retry() -> RetryConfig {
    RetryConfig::disabled()
}

/// A named retry predicate: `matches` quotes, in its doc, the AWS message it matches.
#[derive(Clone, Copy)]
pub struct RetryWhen {
    pub name: &'static str,
    pub matches: fn(&AwsError) -> bool,
}

/// How named retries wait: 100 ms, 200 ms, … up to 2 s, jittered.
const RETRY_BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));

/// How long named retries keep trying before giving up (capped exponential backoff).
pub const RETRY_BUDGET: Duration = Duration::from_secs(30);

/// Runs `op` again while its error matches `when`, backing off 100 ms, 200 ms, … up to 2 s (jittered),
/// for at most [`RETRY_BUDGET`]. Throttling is not handled here: the SDK's standard retry does it.
pub async fn retry<T, F, Fut>(when: RetryWhen, mut op: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let start = tokio::time::Instant::now();
    let mut attempt = 0;
    loop {
        match op().await {
            Err(e)
                if (when.matches)(&e)
                    && start.elapsed() + RETRY_BACKOFF.ceiling(attempt) < RETRY_BUDGET =>
            {
                let delay = RETRY_BACKOFF.delay(attempt);
                tracing::debug!(predicate = when.name, error = %e, ?delay, "retrying");
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn err(code: &str) -> AwsError {
        AwsError::from_api(
            "creating",
            "thing",
            "x",
            ApiError::coded(code, format!("{code}: message")),
        )
    }

    #[test]
    fn an_aws_error_keeps_the_sdk_error_and_a_refusal_is_its_own_kind() {
        let sdk = aws_smithy_types::error::ErrorMetadata::builder()
            .code("NoSuchEntity")
            .message("The role with name x cannot be found.")
            .build();
        let e = AwsError::new("reading", "IAM role", "x", sdk);
        assert_eq!(
            e.to_string(),
            "reading IAM role (x): NoSuchEntity: The role with name x cannot be found."
        );
        assert!(e.is("NoSuchEntity") && !e.is_refusal() && !e.is_transient());
        let api = e.api().expect("AWS answered");
        let source = std::error::Error::source(api).expect("the SDK's error is kept");
        assert!(source.to_string().contains("NoSuchEntity"), "{source}");

        let r = AwsError::refused("finding", "IAM role", "x", "two owned roles");
        assert!(r.is_refusal() && r.api().is_none() && !r.is_transient());
        assert!(!r.is("NoSuchEntity"));
        assert_eq!(r.message(), "two owned roles");
    }

    #[test]
    fn gone_already_is_done_for_a_delete() {
        assert!(Ok::<u8, AwsError>(1).or_gone(&["NoSuchEntity"]).is_ok());
        assert!(
            Err::<u8, _>(err("NoSuchEntity"))
                .or_gone(&["NoSuchEntity"])
                .is_ok()
        );
        let other = Err::<u8, _>(err("AccessDenied")).or_gone(&["NoSuchEntity"]);
        assert!(other.unwrap_err().is("AccessDenied"));
    }

    #[test]
    fn a_missing_part_of_an_answer_is_a_refusal() {
        assert_eq!(
            Some(7)
                .or_refused("creating", "thing", "x", "no id")
                .unwrap(),
            7
        );
        let e = None::<u8>
            .or_refused("creating", "thing", "x", "CreateThing returned no id")
            .unwrap_err();
        assert!(e.is_refusal());
        assert_eq!(
            e.to_string(),
            "creating thing (x): CreateThing returned no id"
        );
    }

    const NOT_YET: RetryWhen = RetryWhen {
        name: "test",
        matches: |e| e.is("NoSuchEntity"),
    };

    #[tokio::test]
    async fn retries_while_the_predicate_matches_then_succeeds() {
        let calls = AtomicU32::new(0);
        let r = retry(NOT_YET, || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(err("NoSuchEntity"))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = retry(NOT_YET, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(err("AccessDenied"))
        })
        .await;
        assert!(r.unwrap_err().is("AccessDenied"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn all_pages_follows_tokens_and_stops_on_empty() {
        let pages = [
            (vec![1, 2], Some("a")),
            (vec![3], Some("b")),
            (vec![4], Some("")),
        ];
        let calls = AtomicU32::new(0);
        let got = all_pages("thing", "x", |token| {
            let i = calls.fetch_add(1, Ordering::SeqCst) as usize;
            let expect = [None, Some("a"), Some("b")][i].map(str::to_string);
            assert_eq!(token, expect);
            let (items, next) = pages[i].clone();
            async move { Ok((items, next.map(str::to_string))) }
        })
        .await
        .unwrap();
        assert_eq!(got, [1, 2, 3, 4]);
    }

    #[tokio::test]
    async fn all_pages_refuses_a_repeated_token() {
        let calls = AtomicU32::new(0);
        let r: Result<Vec<u8>, _> = all_pages("thing", "x", |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok((vec![1], Some("same".to_string()))) }
        })
        .await;
        assert!(r.unwrap_err().to_string().contains("twice"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn reads_and_writes_are_told_apart() {
        for op in [
            "GetRole",
            "ListUserPools",
            "DescribeIdentityPool",
            "HeadBucket",
            "AdminGetUser",
        ] {
            assert!(is_read_operation(op), "{op}");
        }
        for op in [
            "PutRolePolicy",
            "CreateUserPool",
            "SetIdentityPoolRoles",
            "TagResource",
            "AdminCreateUser",
        ] {
            assert!(!is_read_operation(op), "{op}");
        }
    }
}
