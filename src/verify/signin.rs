//! Signing in as a test user through the real flow: InitiateAuth (USER_PASSWORD_AUTH) on the
//! client, then GetId and GetCredentialsForIdentity on the identity pool.

use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use base64::Engine as _;
use serde_json::Value;

use super::Target;
use crate::aws::{self, Aws, AwsError, RetryWhen};
use crate::resource::test_user::Password;

/// Right after its roles are created or attached, Cognito identity may not yet be able to
/// assume them: "InvalidIdentityPoolConfigurationException: Invalid identity pool
/// configuration. Check assigned IAM roles for this pool." AWS gives the same answer for a role
/// whose trust policy will never let Cognito in, so the retry is capped by `aws::retry`.
pub const ROLE_NOT_YET_ASSUMABLE: RetryWhen = RetryWhen {
    name: "identity pool roles not yet assumable",
    matches: |e| e.is("InvalidIdentityPoolConfigurationException"),
};

/// A signed-in identity.
#[derive(Debug, Clone)]
pub(super) struct Identity {
    pub identity_id: String,
    /// The user pool `sub` of the user.
    pub user_sub: String,
    /// When the credentials expire (RFC 3339); the keys themselves are never kept.
    pub expires: Option<String>,
}

/// The real sign-in flow: InitiateAuth (USER_PASSWORD_AUTH) → GetId → GetCredentialsForIdentity.
pub(super) async fn sign_in(
    aws: &Aws,
    t: &Target,
    email: &str,
    password: &Password,
) -> Result<Identity, String> {
    let token = id_token(aws, t, email, password).await?;
    let provider = format!("cognito-idp.{}.amazonaws.com/{}", t.region, t.user_pool_id);
    let id = aws
        .identity
        .get_id()
        .identity_pool_id(&t.identity_pool_id)
        .logins(&provider, &token)
        .send()
        .await
        .map_err(|e| {
            let pool = &t.identity_pool_id;
            let e = AwsError::new("getting an identity for", "Cognito identity pool", pool, e);
            format!("GetId: {}", e.message())
        })?;
    let identity_id = id
        .identity_id()
        .ok_or("GetId returned no identity id")?
        .to_string();
    let expires = credentials(aws, &identity_id, &provider, &token).await?;
    Ok(Identity {
        identity_id,
        user_sub: jwt_sub(&token).unwrap_or_default(),
        expires,
    })
}

/// InitiateAuth with the user's password: the ID token, or Cognito's answer.
async fn id_token(
    aws: &Aws,
    t: &Target,
    email: &str,
    password: &Password,
) -> Result<String, String> {
    let auth = aws
        .idp
        .initiate_auth()
        .client_id(&t.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", email)
        .auth_parameters("PASSWORD", password.expose())
        .send()
        .await
        .map_err(|e| {
            let e = AwsError::new("signing in", "Cognito test user", email, e);
            format!("InitiateAuth: {}", e.message())
        })?;
    if let Some(c) = auth.challenge_name() {
        return Err(format!(
            "InitiateAuth answered with the challenge {} instead of tokens",
            c.as_str()
        ));
    }
    Ok(auth
        .authentication_result()
        .and_then(|r| r.id_token())
        .ok_or("InitiateAuth returned no ID token")?
        .to_string())
}

/// GetCredentialsForIdentity (retried while IAM does not yet let Cognito assume a new role):
/// when the credentials expire; the keys are never kept.
async fn credentials(
    aws: &Aws,
    identity_id: &str,
    provider: &str,
    token: &str,
) -> Result<Option<String>, String> {
    let creds = aws::retry(ROLE_NOT_YET_ASSUMABLE, || async {
        aws.identity
            .get_credentials_for_identity()
            .identity_id(identity_id)
            .logins(provider, token)
            .send()
            .await
            .map_err(|e| {
                AwsError::new(
                    "getting credentials for",
                    "Cognito identity",
                    identity_id,
                    e,
                )
            })
    })
    .await
    .map_err(|e| format!("GetCredentialsForIdentity: {}", e.message()))?;
    let Some(credentials) = creds.credentials().filter(|c| c.access_key_id().is_some()) else {
        return Err("GetCredentialsForIdentity returned no credentials".into());
    };
    Ok(credentials
        .expiration()
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()))
}

/// The `sub` claim of a JWT, read without verification (only to fill in `amr`).
fn jwt_sub(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("sub")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_sub_reads_the_claim() {
        // {"sub":"abc-123"} base64url, no padding.
        assert_eq!(
            jwt_sub("x.eyJzdWIiOiJhYmMtMTIzIn0.y").as_deref(),
            Some("abc-123")
        );
        assert_eq!(jwt_sub("garbage"), None);
    }
}
