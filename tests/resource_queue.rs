//! The `queue` kind against the strict emulator through the real SDK: a queue and its
//! dead-letter queue are created with their attributes and our tags in CreateQueue, with a
//! clean plan after; drift made by hand is planned and reverted; a dead-letter queue dropped
//! from the file is removed from the queue; a queue removed from the file is deleted (a queue
//! holds no data stackwatch keeps); someone else's tags stay; and a dead-letter queue that is
//! not a queue's `arn` is an error at its line.

mod common;

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use common::{Emulator, apply_yes, edit, example_config, open, planned_actions, stackwatch};
use stackwatch::aws::Aws;
use stackwatch::plan::Action;

const JOBS: &str = "dev-notes-JobsStack-Jobs";
const DLQ: &str = "dev-notes-JobsStack-Dlq";

const STACK: &str = "stack: JobsStack
resources:
  Dlq:
    kind: queue
    retention: 1209600
  Jobs:
    kind: queue
    visibilityTimeout: 60
    deadLetter:
      queue: ${JobsStack.Dlq.arn}
      maxReceiveCount: 5
outputs:
  JobsUrl: ${JobsStack.Jobs.url}
";

fn sqs(aws: &Aws) -> aws_sdk_sqs::Client {
    aws.client()
}

async fn url(aws: &Aws, name: &str) -> Option<String> {
    let out = sqs(aws).get_queue_url().queue_name(name).send().await;
    out.ok().and_then(|o| o.queue_url)
}

/// Everyone's tags on the queue at `url`.
async fn queue_tags(aws: &Aws, url: &str) -> HashMap<String, String> {
    let out = sqs(aws).list_queue_tags().queue_url(url).send().await;
    out.unwrap().tags.unwrap_or_default()
}

async fn attributes(aws: &Aws, name: &str) -> HashMap<QueueAttributeName, String> {
    let url = url(aws, name).await.expect(name);
    let out = sqs(aws)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    out.attributes.unwrap_or_default()
}

#[tokio::test]
async fn a_queue_and_its_dead_letter_queue_live_their_whole_life() {
    let emu = Emulator::start();
    let dir = example_config();
    let d = dir.path();
    std::fs::write(d.join("stacks/jobs.yaml"), STACK).unwrap();
    let out = apply_yes(&emu, d, &[]);
    assert!(out.contains("+ JobsStack.Jobs (SQS queue"), "{out}");
    assert!(out.contains("JobsUrl"), "{out}");

    // Created as declared, tagged in the create call.
    let aws = emu.aws().await;
    let jobs = attributes(&aws, JOBS).await;
    let dlq = attributes(&aws, DLQ).await;
    assert_eq!(jobs[&QueueAttributeName::VisibilityTimeout], "60");
    assert_eq!(dlq[&QueueAttributeName::MessageRetentionPeriod], "1209600");
    let redrive: serde_json::Value =
        serde_json::from_str(&jobs[&QueueAttributeName::RedrivePolicy]).unwrap();
    assert_eq!(
        redrive["deadLetterTargetArn"].as_str(),
        Some(dlq[&QueueAttributeName::QueueArn].as_str())
    );
    let jobs_url = url(&aws, JOBS).await.unwrap();
    let tags = queue_tags(&aws, &jobs_url).await;
    assert_eq!(tags.get("stackwatch:id").map(String::as_str), Some("Jobs"));

    // A second plan is clean and writes nothing.
    let s = open(&emu.aws().await, d).await;
    assert!(!s.plan().has_changes(), "{:#?}", s.plan());

    // Drift made by hand is planned and reverted; someone else's tag stays.
    let client = sqs(&aws);
    client
        .set_queue_attributes()
        .queue_url(&jobs_url)
        .attributes(QueueAttributeName::VisibilityTimeout, "5")
        .attributes(QueueAttributeName::RedrivePolicy, "")
        .send()
        .await
        .unwrap();
    client
        .tag_queue()
        .queue_url(&jobs_url)
        .tags("team", "jobs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        planned_actions(&emu, d).await,
        [("JobsStack.Jobs".to_string(), Action::Update)]
    );
    apply_yes(&emu, d, &[]);
    let jobs = attributes(&aws, JOBS).await;
    assert_eq!(jobs[&QueueAttributeName::VisibilityTimeout], "60");
    assert!(
        jobs.contains_key(&QueueAttributeName::RedrivePolicy),
        "{jobs:?}"
    );
    let tags = queue_tags(&aws, &jobs_url).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("jobs"));

    // Dropping the dead-letter queue from the file removes it from the queue.
    edit(
        d,
        "stacks/jobs.yaml",
        "    deadLetter:\n      queue: ${JobsStack.Dlq.arn}\n      maxReceiveCount: 5\n",
        "",
    );
    apply_yes(&emu, d, &[]);
    let jobs = attributes(&aws, JOBS).await;
    assert!(
        jobs.get(&QueueAttributeName::RedrivePolicy)
            .is_none_or(|p| p.is_empty()),
        "{jobs:?}"
    );

    // A queue removed from the file is deleted; the other stays.
    edit(
        d,
        "stacks/jobs.yaml",
        "  Jobs:\n    kind: queue\n    visibilityTimeout: 60\n",
        "",
    );
    edit(
        d,
        "stacks/jobs.yaml",
        "outputs:\n  JobsUrl: ${JobsStack.Jobs.url}\n",
        "",
    );
    apply_yes(&emu, d, &[]);
    assert_eq!(url(&aws, JOBS).await, None);
    assert!(url(&aws, DLQ).await.is_some());
    emu.assert_no_validation_refusals();
}

#[tokio::test]
async fn a_dead_letter_queue_must_be_a_queues_arn() {
    let emu = Emulator::start();
    let dir = example_config();
    let d = dir.path();
    let stack = STACK
        .replace("${JobsStack.Dlq.arn}", "${JobsStack.Dlq.url}")
        .replace("maxReceiveCount: 5", "maxReceiveCount: 0");
    std::fs::write(d.join("stacks/jobs.yaml"), stack).unwrap();
    let (code, out, err) = stackwatch(&emu, d, &["plan"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("jobs.yaml:10:14: expected `deadLetter.queue` to be `${Stack.Resource.arn}` of a `queue`"),
        "{err}"
    );
    assert!(
        err.contains("jobs.yaml:11:24: expected `maxReceiveCount` of 1 to 1000, found 0"),
        "{err}"
    );
    let aws = emu.aws().await;
    assert_eq!(
        url(&aws, DLQ).await,
        None,
        "invalid config never reaches AWS"
    );
}
