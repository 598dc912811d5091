//! **Sign in as** a user of an `auth` resource's pool, for the Access page: the same flow as
//! `stackwatch verify` (InitiateAuth, GetId, GetCredentialsForIdentity, through
//! `verify::sign_in_as`), giving the identity id, when the credentials expire (never the keys),
//! and the ✓/✗ report of what that identity can reach in each bucket and API route its
//! permissions name, decided by the same IAM evaluator from the deployed policies. It renders
//! nothing: `pages::access` shows the outcome.

use super::Console;
use crate::desired::Desired;
use crate::engine::Focus;
use crate::error::Error;
use crate::resource::test_user::Password;
use crate::session::Session;
use crate::verify::{self, SignedIn};

/// Signs in as `email` to the `auth` resource `auth` (`Stack.Resource`) and checks what the
/// identity can reach; the error is Cognito's (or the read's) answer, as the page shows it.
pub async fn sign_in(
    console: &Console,
    auth: &str,
    email: &str,
    password: &Password,
) -> Result<SignedIn, String> {
    let stack = auth.split('.').next().unwrap_or_default();
    let result = match session(console).await {
        Ok(session) => match verify::sign_in_as(&session, Some(stack), email, password).await {
            Ok(access) => access.outcome,
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = &result {
        tracing::info!(error = %e, "console: Sign in as failed");
    }
    result
}

/// The whole app read through the console's clients, loaded without the test users'
/// passwords (a sign-in here uses the password typed in the form).
async fn session(console: &Console) -> Result<Session, Error> {
    let mut config = console.app.origin.load(console.app.stage.as_deref())?;
    crate::session::drop_test_users(&mut config);
    let (aws, cache) = console.clients(&config.region).await;
    let desired = Desired::build(config)?;
    Session::open_cached(aws, desired, &cache, &Focus::all()).await
}
