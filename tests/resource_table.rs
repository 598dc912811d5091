//! The `table` kind against the strict emulator through the real SDK: the example app's notes
//! table is created with its keys, on-demand billing and our tags in CreateTable; found again
//! with a clean plan; updated in place (provisioned capacity, point-in-time recovery, TTL, a
//! stream); drift made by hand is planned and reverted; a key change is a replacement that needs
//! `--allow-replace` and keeps the old table (released from our tags); a same-named table
//! without our tags is left alone until `adopt:` names it; destroy retains it by default.

mod common;

use common::census::table_names;
use common::{Emulator, apply_yes, edit, example_config, open, planned_actions, stackwatch};
use stackwatch::aws::Aws;
use stackwatch::engine;
use stackwatch::plan::Action;

const TABLE: &str = "dev-notes-StorageStack-Notes";

async fn tags(aws: &Aws, name: &str) -> Vec<(String, String)> {
    let t = aws
        .ddb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .unwrap();
    let arn = t.table().unwrap().table_arn().unwrap().to_string();
    let out = aws
        .ddb
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    out.tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

#[tokio::test]
async fn the_notes_table_lives_its_whole_life() {
    let emu = Emulator::start();
    let dir = example_config();
    let d = dir.path();
    let out = apply_yes(&emu, d, &[]);
    assert!(
        out.contains("+ StorageStack.Notes (DynamoDB table"),
        "{out}"
    );

    // Created as declared, tagged in the create call.
    let aws = emu.aws().await;
    let t = aws
        .ddb
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    let t = t.table().unwrap();
    let keys: Vec<(&str, &str)> = t
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type().as_str()))
        .collect();
    assert_eq!(keys, [("userId", "HASH"), ("noteId", "RANGE")]);
    assert_eq!(
        t.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        Some("PAY_PER_REQUEST")
    );
    let tags = tags(&aws, TABLE).await;
    assert!(
        tags.contains(&("stackwatch:id".to_string(), "Notes".to_string())),
        "{tags:?}"
    );
    // A second plan is clean and writes nothing.
    let s = open(&emu.aws().await, d).await;
    assert!(!s.plan().has_changes(), "{:#?}", s.plan());
    let report = engine::apply(&s.aws, &s.desired, &s.snapshot, engine::Guard::ALLOW_ALL).await;
    assert!(report.errors().is_empty(), "{:?}", report.errors());
    assert_eq!(s.aws.calls.writes(), 0, "{:?}", s.aws.calls);

    // Every field that can change in place, changed in place.
    edit(
        d,
        "stacks/storage.yaml",
        "    sortKey: { name: noteId, type: string }\n",
        "    sortKey: { name: noteId, type: string }\n    billingMode: provisioned\n    capacity: { read: 2, write: 3 }\n    pointInTimeRecovery: true\n    ttlAttribute: expiresAt\n    stream: newAndOldImages\n",
    );
    assert_eq!(
        planned_actions(&emu, d).await,
        [("StorageStack.Notes".to_string(), Action::Update)]
    );
    apply_yes(&emu, d, &[]);
    let t = aws
        .ddb
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    let t = t.table().unwrap();
    let p = t.provisioned_throughput().unwrap();
    assert_eq!(
        (p.read_capacity_units(), p.write_capacity_units()),
        (Some(2), Some(3))
    );
    assert!(!t.latest_stream_arn().unwrap_or_default().is_empty());
    let ttl = aws
        .ddb
        .describe_time_to_live()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some("expiresAt")
    );
    assert!(planned_actions(&emu, d).await.is_empty());

    // Drift by hand: point-in-time recovery turned off is planned and turned back on.
    aws.ddb
        .update_continuous_backups()
        .table_name(TABLE)
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(false)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        planned_actions(&emu, d).await,
        [("StorageStack.Notes".to_string(), Action::Update)]
    );
    apply_yes(&emu, d, &[]);
    assert!(planned_actions(&emu, d).await.is_empty());

    // A new sort key replaces the table: only with --allow-replace, and never for a retained
    // table (DynamoDB has one table per name), which is refused before anything changes.
    edit(d, "stacks/storage.yaml", "name: noteId", "name: createdAt");
    let (code, out, err) = stackwatch(&emu, d, &["apply", "--yes"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("sortKey") && out.contains("# forces replacement"),
        "{out}"
    );
    assert!(err.contains("--allow-replace"), "{err}");
    let (code, out, err) = stackwatch(&emu, d, &["apply", "--yes", "--allow-replace"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        format!("{out}{err}").contains("removal: destroy"),
        "{out}\n{err}"
    );
    let t = aws
        .ddb
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.table().unwrap().key_schema()[1].attribute_name(),
        "noteId"
    );
    // With `removal: destroy` it is replaced: the new table has the new key.
    edit(
        d,
        "stacks/storage.yaml",
        "    kind: table\n",
        "    kind: table\n    removal: destroy\n",
    );
    apply_yes(&emu, d, &["--allow-replace"]);
    let t = aws
        .ddb
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    assert_eq!(
        t.table().unwrap().key_schema()[1].attribute_name(),
        "createdAt"
    );
    assert_eq!(table_names(&aws).await, [TABLE]);
    assert!(planned_actions(&emu, d).await.is_empty());
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn a_same_named_table_is_left_alone_until_adopted() {
    let emu = Emulator::start();
    let dir = example_config();
    let d = dir.path();
    let aws = emu.aws().await;
    aws.ddb
        .create_table()
        .table_name(TABLE)
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("userId")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("noteId")
                .key_type(aws_sdk_dynamodb::types::KeyType::Range)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("userId")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("noteId")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();

    let (code, out, err) = stackwatch(&emu, d, &["apply", "--yes"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let all = format!("{out}\n{err}");
    assert!(all.contains(&format!("adopt: {TABLE}")), "{all}");
    assert!(
        tags(&aws, TABLE).await.is_empty(),
        "a foreign table was tagged"
    );

    edit(
        d,
        "stacks/storage.yaml",
        "    kind: table\n",
        &format!("    kind: table\n    adopt: {TABLE}\n"),
    );
    apply_yes(&emu, d, &[]);
    let tags = tags(&aws, TABLE).await;
    assert!(
        tags.contains(&("stackwatch:id".to_string(), "Notes".to_string())),
        "{tags:?}"
    );
    assert_eq!(table_names(&aws).await, [TABLE]);

    // Destroy retains it (it holds data).
    let (code, out, err) = stackwatch(&emu, d, &["destroy", "--yes"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(table_names(&aws).await, [TABLE]);
    emu.assert_no_validation_refusals();
}
