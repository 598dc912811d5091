//! An `api` route that integrates a Lambda function: stackwatch owns one statement in the
//! function's resource policy letting API Gateway invoke it (`ApiStack.Api.Invoke(fn)`). It is
//! created, put back after someone removes it, and removed with the route; another statement
//! in the same policy is never touched; a function that does not exist blocks the plan, named.

mod common;

use std::path::Path;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use serde_json::Value;
use stackwatch::aws::Aws;

use common::{Emulator, apply_yes, edit, example_config, stackwatch};

const ACCOUNT: &str = "123456789012";
const SID: &str = "stackwatch-dev-notes-ApiStack-Api";
const FOREIGN_SID: &str = "someone-else";

/// The smallest zip file there is: an end-of-central-directory record and nothing in it.
fn empty_zip() -> Vec<u8> {
    let mut z = b"PK\x05\x06".to_vec();
    z.resize(22, 0);
    z
}

/// A function made as its own team would, with a statement of their own in its policy.
async fn function(aws: &Aws, name: &str) -> String {
    let role = aws
        .iam
        .create_role()
        .role_name(format!("{name}-exec"))
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("create the function's role");
    let out = aws
        .lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Nodejs20x)
        .handler("index.handler")
        .role(role.role().unwrap().arn())
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(empty_zip()))
                .build(),
        )
        .send()
        .await
        .expect("create function");
    aws.lambda
        .add_permission()
        .function_name(name)
        .statement_id(FOREIGN_SID)
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .send()
        .await
        .expect("their own statement");
    out.function_arn().unwrap().to_string()
}

/// The statements of the function's policy, by Sid.
async fn statements(aws: &Aws, name: &str) -> Vec<(String, Value)> {
    let policy = aws
        .lambda
        .get_policy()
        .function_name(name)
        .send()
        .await
        .expect("get policy");
    let doc: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["Sid"].as_str().unwrap().to_string(), s.clone()))
        .collect()
}

fn sids(stmts: &[(String, Value)]) -> Vec<&str> {
    stmts.iter().map(|(s, _)| s.as_str()).collect()
}

fn route_to(dir: &Path, arn: &str) {
    edit(
        dir,
        "stacks/api.yaml",
        "GET /notes: https://notes.example.com/notes",
        &format!("GET /notes: {arn}"),
    );
    edit(
        dir,
        "stacks/api.yaml",
        "POST /notes: https://notes.example.com/notes",
        &format!("POST /notes: {arn}"),
    );
}

#[tokio::test]
async fn a_lambda_routes_permission_is_created_reverted_and_removed_with_the_route() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let arn = function(&aws, "list-notes").await;
    let dir = example_config();
    let original = std::fs::read_to_string(dir.path().join("stacks/api.yaml")).unwrap();
    route_to(dir.path(), &arn);

    let out = apply_yes(&emu, dir.path(), &[]);
    assert!(out.contains("ApiStack.Api.Invoke(list-notes)"), "{out}");
    let api_id = aws.apigw.get_apis().send().await.unwrap().items()[0]
        .api_id()
        .unwrap()
        .to_string();
    let stmts = statements(&aws, "list-notes").await;
    assert_eq!(
        sids(&stmts),
        [FOREIGN_SID, SID],
        "one statement for both routes"
    );
    let ours = &stmts[1].1;
    assert_eq!(ours["Action"], "lambda:InvokeFunction");
    assert_eq!(ours["Principal"]["Service"], "apigateway.amazonaws.com");
    assert_eq!(
        ours["Condition"]["ArnLike"]["AWS:SourceArn"],
        format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/*")
    );

    // Removed out of band: the plan shows it, apply puts it back, theirs stays.
    aws.lambda
        .remove_permission()
        .function_name("list-notes")
        .statement_id(SID)
        .send()
        .await
        .unwrap();
    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("+ ApiStack.Api.Invoke(list-notes)"), "{out}");
    apply_yes(&emu, dir.path(), &[]);
    assert_eq!(
        sids(&statements(&aws, "list-notes").await),
        [FOREIGN_SID, SID]
    );

    // The routes go elsewhere: our statement goes with them, theirs stays.
    std::fs::write(dir.path().join("stacks/api.yaml"), original).unwrap();
    let out = apply_yes(&emu, dir.path(), &[]);
    assert!(out.contains("ApiStack.Api.Invoke(list-notes)"), "{out}");
    assert_eq!(sids(&statements(&aws, "list-notes").await), [FOREIGN_SID]);
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn a_route_to_a_missing_function_is_a_blocked_plan_line_naming_it() {
    let emu = Emulator::start();
    let aws = emu.aws().await;
    let dir = example_config();
    let missing = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:not-there");
    route_to(dir.path(), &missing);

    let (code, out, err) = stackwatch(&emu, dir.path(), &["plan"]);
    assert_eq!(code, 1, "a blocked plan exits 1:\n{out}\n{err}");
    let text = format!("{out}\n{err}");
    assert!(text.contains("ApiStack.Api.Invoke(not-there)"), "{text}");
    assert!(text.contains("not-there"), "{text}");
    assert!(text.contains("does not exist"), "{text}");
    let apis = aws.apigw.get_apis().send().await.unwrap();
    assert!(apis.items().is_empty(), "plan created nothing");
}
