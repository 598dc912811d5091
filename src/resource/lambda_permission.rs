//! Lambda permission: the one statement stackwatch owns in a function's resource policy, so that
//! API Gateway may invoke the function for one HTTP API's routes (what SST's Api, CDK's
//! `HttpLambdaIntegration` and Terraform's `aws_lambda_permission` add). Without it every call
//! to a Lambda route answers 500.
//!
//! One node per distinct function an `api` integrates, shown as `Stack.Api.Invoke(fn)`. The
//! statement id is derived from app, stage, stack and API (`stackwatch-{stage}-{app}-{stack}-{api}`),
//! so it is ours by construction; only that statement is ever added, re-added after drift, or
//! removed. The rest of the function's policy is never touched. Lambda has no update of a
//! statement: a changed one is removed and added again. A function that does not exist is an
//! error of the read, so the plan shows the node blocked, naming the function.

use serde_json::{Value, json};

use super::naming::{Chars, NameRule};
use super::{Attrs, Hint, Observed, Owned, Owner, Resolve, ResourceKind, Scope, State};
use super::{TAG_ID, TAG_STACK, Tags};
use crate::aws::{Aws, AwsError, OrNotFound, RetryWhen, retry};
use crate::source::template::Template;

pub const KIND: &str = "Lambda permission";
/// What the statement allows, and to whom.
pub const ACTION: &str = "lambda:InvokeFunction";
pub const PRINCIPAL: &str = "apigateway.amazonaws.com";
/// The statement ids stackwatch derives start with this.
pub const SID_PREFIX: &str = "stackwatch";
/// AddPermission's `StatementId`: 1-100 characters of `[a-zA-Z0-9-_.]`.
pub const SID: NameRule = NameRule::new(
    "a Lambda permission statement id",
    1,
    100,
    Chars {
        allowed: |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
        words: "letters, digits and `-_.`",
    },
);
/// "ResourceNotFoundException: Function not found: arn:…" and, for GetPolicy of a function with
/// no policy, "The resource you requested does not exist."
pub const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// The statement id for one API's routes: `stackwatch-{stage}-{app}-{stack}-{api}`.
pub fn statement_id(stage: &str, app: &str, stack: &str, api: &str) -> String {
    format!("{SID_PREFIX}-{stage}-{app}-{stack}-{api}")
}

/// While a function is being updated Lambda refuses policy changes: "ResourceConflictException:
/// The operation cannot be performed at this time. An update is in progress for resource: …".
pub const UPDATE_IN_PROGRESS: RetryWhen = RetryWhen {
    name: "lambda function update in progress",
    matches: |e| e.is("ResourceConflictException") && e.message().contains("update is in progress"),
};

/// What the config asks for: the function a route targets, our statement id, and the API
/// whose routes may invoke it (as the `execute-api` ARN pattern).
#[derive(Debug, Clone)]
pub struct Def {
    pub function: Template,
    pub statement_id: String,
    pub source_arn: Template,
}

#[derive(Debug, Clone)]
pub struct Spec {
    /// The function's ARN (or name), as the route names it; a qualifier (`:alias`) is kept.
    pub function: String,
    pub statement_id: String,
    /// `arn:{partition}:execute-api:{region}:{account}:{apiId}/*/*`.
    pub source_arn: String,
}

/// The function's name (with its `:qualifier`, if any) from an ARN; a plain name is itself.
pub fn function_name(function: &str) -> &str {
    function
        .split_once(":function:")
        .map_or(function, |(_, name)| name)
}

fn physical(function: &str, sid: &str) -> String {
    format!("{}#{sid}", function_name(function))
}

/// The comparable fields of one policy statement.
fn statement_state(st: &Value) -> State {
    let actions: Vec<String> = match st.get("Action") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    };
    let principal = match st.get("Principal") {
        Some(Value::Object(p)) => p.get("Service").cloned().unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let source_arn = st
        .pointer("/Condition/ArnLike/AWS:SourceArn")
        .cloned()
        .unwrap_or(Value::Null);
    State::from([
        ("effect", st.get("Effect").cloned().unwrap_or(Value::Null)),
        ("action", super::set(actions)),
        ("principal", principal),
        ("sourceArn", source_arn),
    ])
}

/// The statements of a function's resource policy, as GetPolicy returns it (a JSON string).
fn statements(policy: &str, function: &str) -> Result<Vec<Value>, AwsError> {
    let doc: Value = serde_json::from_str(policy).map_err(|e| {
        AwsError::refused(
            "reading",
            KIND,
            function,
            format!("the resource policy AWS returned is not JSON: {e}"),
        )
    })?;
    Ok(match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    })
}

/// The function's resource policy statements (GetPolicy); `Ok(None)` when AWS answers
/// ResourceNotFoundException, which it does both for a function without a policy and for a
/// function that does not exist.
async fn get_policy(aws: &Aws, function: &str) -> Result<Option<Vec<Value>>, AwsError> {
    let out = aws
        .lambda
        .get_policy()
        .function_name(function)
        .send()
        .await
        .map_err(|e| {
            AwsError::new(
                "reading the resource policy of",
                "Lambda function",
                function,
                e,
            )
        })
        .or_not_found(NOT_FOUND)?;
    out.map(|o| statements(o.policy().unwrap_or("{}"), function))
        .transpose()
}

/// The function's resource policy statements; `Ok(None)` when the function has no policy.
/// A function that does not exist is an error naming it (the plan shows the node blocked).
async fn read_policy(aws: &Aws, function: &str) -> Result<Option<Vec<Value>>, AwsError> {
    if let Some(stmts) = get_policy(aws, function).await? {
        return Ok(Some(stmts));
    }
    // No policy, or no function: only GetFunctionConfiguration tells them apart.
    let exists = aws
        .lambda
        .get_function_configuration()
        .function_name(function)
        .send()
        .await
        .map_err(|e| AwsError::new("reading", "Lambda function", function, e))
        .or_not_found(NOT_FOUND)?;
    match exists {
        Some(_) => Ok(None),
        None => Err(AwsError::refused(
            "reading",
            "Lambda function",
            function,
            "the function a route of this API integrates does not exist; create it \
             (or point the route elsewhere), then stackwatch lets API Gateway invoke it",
        )),
    }
}

async fn add(aws: &Aws, spec: &Spec) -> Result<(), AwsError> {
    retry(UPDATE_IN_PROGRESS, || async {
        aws.lambda
            .add_permission()
            .function_name(&spec.function)
            .statement_id(&spec.statement_id)
            .action(ACTION)
            .principal(PRINCIPAL)
            .source_arn(&spec.source_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                AwsError::new(
                    "creating",
                    KIND,
                    physical(&spec.function, &spec.statement_id),
                    e,
                )
            })
    })
    .await
}

/// Removes our statement; one already gone is fine.
async fn remove(aws: &Aws, function: &str, sid: &str) -> Result<(), AwsError> {
    let out = retry(UPDATE_IN_PROGRESS, || async {
        aws.lambda
            .remove_permission()
            .function_name(function)
            .statement_id(sid)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::new("deleting", KIND, physical(function, sid), e))
    })
    .await;
    out.or_gone(NOT_FOUND)
}

/// The logical id a statement id names, as tags: `{stack}` and `{api}.Invoke({fn})`. A
/// shortened (hashed) statement id names none; it is then found only by its name.
fn owned_tags(sid: &str, function: &str) -> Tags {
    let parts: Vec<&str> = sid.split('-').collect();
    let (stack, id) = match parts.as_slice() {
        [_, _, _, stack, api] => (
            (*stack).to_string(),
            format!("{api}.Invoke({})", function_name(function)),
        ),
        _ => ("?".to_string(), "?".to_string()),
    };
    Tags::from([(TAG_STACK.to_string(), stack), (TAG_ID.to_string(), id)])
}

/// Our statements in every function's policy in the region (ListFunctions, then GetPolicy of
/// each function): the ones whose id starts with this app and stage's prefix.
async fn list_statements(
    aws: &Aws,
    prefix: &str,
    declared: &std::collections::BTreeSet<String>,
) -> Result<Vec<Owned>, AwsError> {
    let functions = aws
        .lambda
        .list_functions()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::new("listing", "Lambda function", "*", e))?;
    let mut owned = Vec::new();
    for f in functions {
        let Some(name) = f.function_name() else {
            continue;
        };
        // Listed, so it exists: no policy (or gone since) is nothing of ours.
        let Some(stmts) = get_policy(aws, name).await? else {
            continue;
        };
        for st in stmts {
            let Some(sid) = st.get("Sid").and_then(Value::as_str) else {
                continue;
            };
            let id = physical(name, sid);
            if sid.starts_with(prefix) && !declared.contains(&id) {
                owned.push(Owned {
                    tags: owned_tags(sid, name),
                    id,
                });
            }
        }
    }
    Ok(owned)
}

/// The Lambda permission kind; a leftover one (its route or API is gone) is removed.
pub struct LambdaPermission;

impl ResourceKind for LambdaPermission {
    crate::kind_basics!();
    const FINDS_LEFTOVERS: bool = true;

    fn templates(def: &Def) -> Vec<&Template> {
        vec![&def.function, &def.source_arn]
    }
    fn resolve(def: &Def, cx: &mut Resolve<'_>) -> Spec {
        Spec {
            function: cx.text(&def.function),
            statement_id: def.statement_id.clone(),
            source_arn: cx.text(&def.source_arn),
        }
    }
    fn name(spec: &Spec) -> String {
        physical(&spec.function, &spec.statement_id)
    }
    fn state(spec: &Spec) -> State {
        State::from([
            ("effect", json!("Allow")),
            ("action", super::set([ACTION])),
            ("principal", json!(PRINCIPAL)),
            ("sourceArn", json!(spec.source_arn)),
        ])
    }
    async fn find(aws: &Aws, spec: &Spec, _: Hint<'_>) -> Result<Option<Observed>, AwsError> {
        let Some(stmts) = read_policy(aws, &spec.function).await? else {
            return Ok(None);
        };
        let ours = stmts
            .iter()
            .find(|st| st.get("Sid").and_then(Value::as_str) == Some(spec.statement_id.as_str()));
        Ok(ours.map(|st| {
            Observed::new(
                physical(&spec.function, &spec.statement_id),
                Owner::Ours,
                statement_state(st),
                Attrs::new(),
            )
        }))
    }
    async fn create(aws: &Aws, spec: &Spec) -> Result<Observed, AwsError> {
        add(aws, spec).await?;
        Ok(Observed::new(
            Self::name(spec),
            Owner::Ours,
            Self::state(spec),
            Attrs::new(),
        ))
    }
    /// Lambda cannot change a statement: ours is removed and added again.
    async fn update(
        aws: &Aws,
        spec: &Spec,
        _: &Observed,
        _: &[&'static str],
    ) -> Result<Observed, AwsError> {
        remove(aws, &spec.function, &spec.statement_id).await?;
        Self::create(aws, spec).await
    }
    async fn delete(aws: &Aws, spec: &Spec, _: &Observed) -> Result<(), AwsError> {
        remove(aws, &spec.function, &spec.statement_id).await
    }
    async fn list_owned(aws: &Aws, scope: Scope<'_>) -> Result<Vec<Owned>, AwsError> {
        let prefix = SID.listing_prefix(&format!("{SID_PREFIX}-{}-{}-", scope.stage, scope.app));
        list_statements(aws, &prefix, scope.declared_names).await
    }
    async fn delete_owned(aws: &Aws, obs: &Observed) -> Result<(), AwsError> {
        let Some((function, sid)) = obs.id.split_once('#') else {
            return Err(AwsError::refused(
                "deleting",
                KIND,
                &obs.id,
                "not a `function#statement` id",
            ));
        };
        remove(aws, function, sid).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_id_names_app_stage_stack_and_api_and_keeps_lambdas_rule() {
        let sid = statement_id("dev", "notes", "ApiStack", "Api");
        assert_eq!(sid, "stackwatch-dev-notes-ApiStack-Api");
        assert!(SID.check(&sid).is_ok());
        assert!(SID.check("has space").is_err());
        assert!(SID.check(&"a".repeat(101)).is_err());
    }

    #[test]
    fn function_name_comes_from_the_arn_with_its_qualifier() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:list"),
            "list"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:list:live"),
            "list:live"
        );
        assert_eq!(function_name("list"), "list");
    }

    #[test]
    fn a_statement_as_lambda_returns_it_compares_equal_to_the_spec() {
        let spec = Spec {
            function: "arn:aws:lambda:us-east-1:1:function:f".into(),
            statement_id: "stackwatch-dev-notes-ApiStack-Api".into(),
            source_arn: "arn:aws:execute-api:us-east-1:1:abc/*/*".into(),
        };
        let policy = r#"{"Version":"2012-10-17","Id":"default","Statement":[
            {"Sid":"someone-else","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction"},
            {"Sid":"stackwatch-dev-notes-ApiStack-Api","Effect":"Allow",
             "Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction",
             "Resource":"arn:aws:lambda:us-east-1:1:function:f",
             "Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:1:abc/*/*"}}}]}"#;
        let stmts = statements(policy, "f").unwrap();
        assert_eq!(statement_state(&stmts[1]), LambdaPermission::state(&spec));
        assert_ne!(statement_state(&stmts[0]), LambdaPermission::state(&spec));
        let other_api = Spec {
            source_arn: "arn:aws:execute-api:us-east-1:1:zzz/*/*".into(),
            ..spec.clone()
        };
        assert_ne!(
            statement_state(&stmts[1]),
            LambdaPermission::state(&other_api)
        );
    }

    #[test]
    fn a_listed_statement_names_its_logical_id_unless_shortened() {
        let tags = owned_tags("stackwatch-dev-notes-ApiStack-Api", "list");
        assert_eq!(tags[TAG_STACK], "ApiStack");
        assert_eq!(tags[TAG_ID], "Api.Invoke(list)");
        assert_eq!(
            owned_tags("stackwatch-dev-notes-3f9a2c1b", "list")[TAG_STACK],
            "?"
        );
    }
}
