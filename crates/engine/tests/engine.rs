//! The engine against a fake service: diff rules, executor order and
//! failure handling, the stale check, and the rendered plan.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use baseline_engine::render::{self, Styles};
use baseline_engine::*;
use baseline_spec::Baseline;
use futures::StreamExt;
use serde_json::json;

fn baseline() -> Baseline {
    baseline_spec::parse(
        "version: 1\naccounts: [{id: \"123456789012\", name: sandbox}]\nregions: [eu-west-1]\nhome_region: eu-west-1\n",
        "test.yaml",
    )
    .unwrap()
}

fn target() -> Target {
    Target {
        account_id: "123456789012".into(),
        account_name: Some("sandbox".into()),
        region: "eu-west-1".into(),
        home: true,
        ou: None,
    }
}

fn addr(kind: &str) -> Address {
    Address::new(&target(), kind, "x")
}

fn attrs(v: serde_json::Value) -> Attrs {
    v.as_object().unwrap().clone()
}

/// A service whose desired and observed state are given, which records the
/// order of its writes and fails the kinds it is told to.
struct Fake {
    desired: Vec<Desired>,
    observed: Mutex<HashMap<Address, Observed>>,
    log: Mutex<Vec<String>>,
    fail: Vec<&'static str>,
    /// What each change declares.
    declare: Option<fn(&Change) -> Declared>,
    /// The changes as their steps got them.
    given: Mutex<Vec<Change>>,
}

#[async_trait]
impl Service for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }
    fn desired(&self, _: &Baseline, _: &Target, mode: Mode) -> Vec<Desired> {
        match mode {
            Mode::Apply => self.desired.clone(),
            Mode::Destroy => self
                .desired
                .iter()
                .map(|d| Desired {
                    want: Want::Absent,
                    ..d.clone()
                })
                .collect(),
        }
    }
    async fn read(&self, _: &Target, _: &[Desired]) -> Result<Reading, ServiceError> {
        Ok(self
            .observed
            .lock()
            .unwrap()
            .values()
            .cloned()
            .collect::<Vec<_>>()
            .into())
    }
    fn declare(&self, change: &Change) -> Declared {
        self.declare.map(|d| d(change)).unwrap_or_default()
    }
    async fn apply(&self, _: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        // Yield, so that concurrent steps really interleave.
        tokio::task::yield_now().await;
        self.given.lock().unwrap().push(change.clone());
        self.log
            .lock()
            .unwrap()
            .push(format!("{:?} {}", change.action, change.address.kind));
        if self.fail.contains(&change.address.kind.as_str()) {
            return Err("boom".into());
        }
        let mut observed = self.observed.lock().unwrap();
        match &change.after {
            Some(a) => {
                observed.insert(
                    change.address.clone(),
                    Observed::new(change.address.clone(), a.clone(), Ownership::Ours),
                );
            }
            None => {
                observed.remove(&change.address);
            }
        }
        // What only the write knows: the made thing's id.
        Ok(attrs(
            json!({"id": format!("made-{}", change.address.kind)}),
        ))
    }
}

fn want(kind: &str, deps: &[&str]) -> Desired {
    Desired {
        address: addr(kind),
        controls: vec!["X.1".into()],
        want: Want::Present(attrs(json!({"on": true}))),
        depends_on: deps.iter().map(|d| addr(d)).collect(),
        private: Default::default(),
    }
}

/// fake.a ← fake.b ← fake.c, and fake.z alone.
fn chain(fail: Vec<&'static str>) -> Arc<Fake> {
    Arc::new(Fake {
        desired: vec![
            want("fake.c", &["fake.b"]),
            want("fake.b", &["fake.a"]),
            want("fake.a", &[]),
            want("fake.z", &[]),
        ],
        observed: Mutex::new(HashMap::new()),
        log: Mutex::new(Vec::new()),
        fail,
        declare: None,
        given: Mutex::new(Vec::new()),
    })
}

async fn plan_of(fake: &Arc<Fake>, mode: Mode) -> Plan {
    let svcs: Vec<Arc<dyn Service>> = vec![fake.clone()];
    make_plan(
        &baseline(),
        &[target()],
        &svcs,
        mode,
        Vec::new(),
        &PlanOptions::default(),
    )
    .await
}

async fn run(fake: &Arc<Fake>, plan: &Plan) -> Vec<StepResult> {
    let svc: Arc<dyn Service> = fake.clone();
    run_with(&[svc], plan).await
}

async fn run_with(svcs: &[Arc<dyn Service>], plan: &Plan) -> Vec<StepResult> {
    execute(
        plan,
        svcs,
        &ExecOptions {
            concurrency: 8,
            per_account: 8,
            cancel: None,
        },
        &Silent,
    )
    .await
}

fn observed(kind: &str, v: serde_json::Value, managed: bool) -> Option<Observed> {
    Some(Observed::new(
        addr(kind),
        attrs(v),
        if managed {
            Ownership::Ours
        } else {
            Ownership::NotOurs
        },
    ))
}

#[test]
fn diff_rules() {
    let d = want("fake.a", &[]);
    assert_eq!(diff(d.clone(), None).action, Action::Create);
    assert_eq!(
        diff(
            d.clone(),
            observed("fake.a", json!({"on": true, "extra": 1}), true)
        )
        .action,
        Action::NoOp
    );
    let up = diff(
        d.clone(),
        observed("fake.a", json!({"on": false, "extra": 1}), true),
    );
    assert_eq!(up.action, Action::Update);
    assert_eq!(up.changed, ["on"]);
    assert_eq!(
        up.after.unwrap()["extra"],
        1,
        "attributes baseline does not manage are kept"
    );

    let absent = Desired {
        want: Want::Absent,
        ..d.clone()
    };
    assert_eq!(diff(absent.clone(), None).action, Action::NoOp);
    assert_eq!(
        diff(absent.clone(), observed("fake.a", json!({}), true)).action,
        Action::Delete
    );
    let foreign = diff(absent, observed("fake.a", json!({}), false));
    assert_eq!(
        foreign.action,
        Action::NoOp,
        "what baseline does not manage is never deleted"
    );
    assert_eq!(foreign.held, Some(Held::NotOurs));
    assert!(
        foreign
            .held
            .unwrap()
            .to_string()
            .contains("not baseline's (no ownership mark)")
    );

    let check = Desired {
        want: Want::Check {
            attrs: attrs(json!({"mfa": true})),
            instructions: "enable MFA".into(),
        },
        ..d
    };
    let manual = diff(
        check.clone(),
        observed("fake.a", json!({"mfa": false}), false),
    );
    assert_eq!(manual.action, Action::Manual);
    assert_eq!(manual.instructions.as_deref(), Some("enable MFA"));
    assert_eq!(
        diff(check, observed("fake.a", json!({"mfa": true}), false)).action,
        Action::NoOp
    );
}

#[tokio::test]
async fn creates_follow_dependencies_and_deletes_run_backwards() {
    let fake = chain(vec![]);
    let plan = plan_of(&fake, Mode::Apply).await;
    assert_eq!(plan.summary().add, 4);
    let results = run(&fake, &plan).await;
    assert_eq!(results.len(), 4);
    assert!(results.iter().all(|r| r.outcome == Outcome::Done));
    let log = fake.log.lock().unwrap().clone();
    let at = |s: &str| log.iter().position(|l| l == s).unwrap();
    assert!(
        at("Create fake.a") < at("Create fake.b") && at("Create fake.b") < at("Create fake.c"),
        "{log:?}"
    );
    assert!(
        !plan_of(&fake, Mode::Apply).await.has_applicable_changes(),
        "converged"
    );

    fake.log.lock().unwrap().clear();
    let teardown = plan_of(&fake, Mode::Destroy).await;
    assert_eq!(teardown.summary().destroy, 4);
    run(&fake, &teardown).await;
    let log = fake.log.lock().unwrap().clone();
    let at = |s: &str| log.iter().position(|l| l == s).unwrap();
    assert!(
        at("Delete fake.c") < at("Delete fake.b") && at("Delete fake.b") < at("Delete fake.a"),
        "{log:?}"
    );
}

/// Why: a plan whose order had a cycle (an edited plan, a provider bug)
/// ended as "not started: the run was interrupted", saying nothing of why.
/// The cycle is found before anything runs and named; what is not in it
/// runs.
#[tokio::test]
async fn a_cycle_in_the_order_is_named_and_the_rest_runs() {
    let fake = Arc::new(Fake {
        desired: vec![
            want("fake.c", &["fake.b"]),
            want("fake.b", &["fake.a"]),
            want("fake.a", &["fake.c"]),
            want("fake.d", &["fake.c"]),
            want("fake.z", &[]),
        ],
        observed: Mutex::new(HashMap::new()),
        log: Mutex::new(Vec::new()),
        fail: vec![],
        declare: None,
        given: Mutex::new(Vec::new()),
    });
    let plan = plan_of(&fake, Mode::Apply).await;
    let results = run(&fake, &plan).await;
    let outcome = |k: &str| {
        results
            .iter()
            .find(|r| r.address.kind == k)
            .unwrap()
            .outcome
            .clone()
    };
    for k in ["fake.a", "fake.b", "fake.c"] {
        match outcome(k) {
            Outcome::Failed { kind, message } => {
                assert_eq!(kind, ErrorKind::Refused);
                assert!(
                    message.contains("the plan's order has a cycle"),
                    "{message}"
                );
                for member in ["fake.a", "fake.b", "fake.c"] {
                    assert!(message.contains(member), "{message}");
                }
            }
            other => panic!("{k}: {other:?}"),
        }
    }
    assert!(matches!(outcome("fake.d"), Outcome::Skipped(_)));
    assert_eq!(outcome("fake.z"), Outcome::Done);
    assert_eq!(*fake.log.lock().unwrap(), ["Create fake.z"]);
}

/// Many steps under tight bounds (the scheduler wakes steps as others
/// end): every step runs, once.
#[tokio::test]
async fn every_step_of_many_runs_once_under_tight_bounds() {
    let desired: Vec<Desired> = (0..200).map(|i| want(&format!("fake.s{i}"), &[])).collect();
    let fake = Arc::new(Fake {
        desired,
        observed: Mutex::new(HashMap::new()),
        log: Mutex::new(Vec::new()),
        fail: vec![],
        declare: None,
        given: Mutex::new(Vec::new()),
    });
    let plan = plan_of(&fake, Mode::Apply).await;
    let svc: Arc<dyn Service> = fake.clone();
    let results = execute(
        &plan,
        &[svc],
        &ExecOptions {
            concurrency: 4,
            per_account: 3,
            cancel: None,
        },
        &Silent,
    )
    .await;
    assert_eq!(results.len(), 200);
    assert!(results.iter().all(|r| r.outcome == Outcome::Done));
    assert_eq!(fake.log.lock().unwrap().len(), 200);
}

#[tokio::test]
async fn a_failure_skips_its_dependents_and_independent_steps_go_on() {
    let fake = chain(vec!["fake.b"]);
    let plan = plan_of(&fake, Mode::Apply).await;
    let results = run(&fake, &plan).await;
    let outcome = |k: &str| {
        results
            .iter()
            .find(|r| r.address.kind == k)
            .unwrap()
            .outcome
            .clone()
    };
    assert_eq!(outcome("fake.a"), Outcome::Done);
    assert_eq!(
        outcome("fake.b"),
        Outcome::Failed {
            kind: ErrorKind::Other,
            message: "boom".into()
        }
    );
    assert_eq!(
        outcome("fake.c"),
        Outcome::Skipped(Skip::Upstream {
            step: addr("fake.b")
        })
    );
    assert_eq!(outcome("fake.z"), Outcome::Done);
    assert!(
        !fake
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.ends_with("fake.c")),
        "a skipped step is never called"
    );
}

#[tokio::test]
async fn a_dependency_that_could_not_be_read_blocks_its_dependents() {
    let fake = chain(vec![]);
    let mut plan = plan_of(&fake, Mode::Apply).await;
    plan.unreadable.push(addr("fake.a"));
    plan.changes.retain(|c| c.address.kind != "fake.a");
    let results = run(&fake, &plan).await;
    let outcome = |k: &str| {
        results
            .iter()
            .find(|r| r.address.kind == k)
            .unwrap()
            .outcome
            .clone()
    };
    assert!(matches!(
        outcome("fake.b"),
        Outcome::Skipped(Skip::Unreadable { .. })
    ));
    assert!(matches!(outcome("fake.c"), Outcome::Skipped(_)));
    assert_eq!(outcome("fake.z"), Outcome::Done);
}

#[tokio::test]
async fn an_interrupted_run_starts_nothing_new() {
    let fake = chain(vec![]);
    let plan = plan_of(&fake, Mode::Apply).await;
    let cancel = AtomicBool::new(true);
    let svcs: Vec<Arc<dyn Service>> = vec![fake.clone()];
    let results = execute(
        &plan,
        &svcs,
        &ExecOptions {
            concurrency: 8,
            per_account: 8,
            cancel: Some(&cancel),
        },
        &Silent,
    )
    .await;
    assert!(!results.is_empty());
    assert!(
        results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Skipped(_)))
    );
    assert!(fake.log.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_plan_is_stale_when_aws_changed_since() {
    let fake = chain(vec![]);
    let saved = plan_of(&fake, Mode::Apply).await;
    assert!(check_fresh(&saved, &plan_of(&fake, Mode::Apply).await).is_ok());
    fake.observed.lock().unwrap().insert(
        addr("fake.z"),
        Observed::new(addr("fake.z"), attrs(json!({"on": false})), Ownership::Ours),
    );
    let err = check_fresh(&saved, &plan_of(&fake, Mode::Apply).await).unwrap_err();
    assert_eq!(
        err.differences,
        ["123456789012/eu-west-1/fake.z[\"x\"]: changed outside this plan"]
    );
    assert!(err.to_string().starts_with("plan is stale"));
}

#[tokio::test]
async fn rendered_plan() {
    let fake = Arc::new(Fake {
        desired: vec![
            want("fake.new", &[]),
            want("fake.drifted", &[]),
            Desired {
                want: Want::Check {
                    attrs: attrs(json!({"mfa": true})),
                    instructions: "Sign in as root and add an MFA device.".into(),
                },
                ..want("fake.root", &[])
            },
        ],
        observed: Mutex::new(HashMap::from([
            (
                addr("fake.drifted"),
                Observed::new(
                    addr("fake.drifted"),
                    attrs(json!({"on": false})),
                    Ownership::Ours,
                ),
            ),
            (
                addr("fake.root"),
                Observed::new(
                    addr("fake.root"),
                    attrs(json!({"mfa": false})),
                    Ownership::NotOurs,
                ),
            ),
        ])),
        log: Mutex::new(Vec::new()),
        fail: vec![],
        declare: None,
        given: Mutex::new(Vec::new()),
    });
    let mut plan = plan_of(&fake, Mode::Apply).await;
    plan.errors.push(PlanError {
        account: "210987654321".into(),
        region: String::new(),
        service: String::new(),
        message: "cannot assume role".into(),
        kind: ErrorKind::Denied,
    });
    insta::assert_snapshot!("human", render::human(&plan, &Styles::plain()));
    let colored = render::human(&plan, &Styles::colored());
    assert!(colored.contains("\u{1b}["), "colour when asked for");
    assert!(
        !render::human(&plan, &Styles::plain()).contains('\u{1b}'),
        "no escape codes without colour"
    );
    let json: serde_json::Value = serde_json::from_str(&render::json(&plan)).unwrap();
    assert_eq!(json["format_version"], "10");
    assert_eq!(
        json["summary"],
        json!({"add": 1, "change": 1, "destroy": 0, "manual": 1, "in_line": 0})
    );
    assert!(render::markdown(&plan).contains("```diff\n"));
}

/// Why: at ten thousand accounts every resource already in line was kept
/// with its attributes until the plan was rendered (700 MB at a thousand).
/// A resource in line is counted by kind, with the controls it clears; what
/// apply changes, a person must change, or a safety rule holds back is
/// still a change with its attributes.
#[tokio::test]
async fn a_resource_in_line_is_counted_not_kept() {
    let mut other = want("fake.other", &[]);
    other.controls = vec!["X.2".into(), "X.1".into()];
    let fake = Arc::new(Fake {
        desired: vec![want("fake.same", &[]), other, want("fake.drifted", &[])],
        observed: Mutex::new(HashMap::from([
            (
                addr("fake.same"),
                Observed::new(
                    addr("fake.same"),
                    attrs(json!({"on": true})),
                    Ownership::Ours,
                ),
            ),
            (
                addr("fake.other"),
                Observed::new(
                    addr("fake.other"),
                    attrs(json!({"on": true})),
                    Ownership::NotOurs,
                ),
            ),
            (
                addr("fake.drifted"),
                Observed::new(
                    addr("fake.drifted"),
                    attrs(json!({"on": false})),
                    Ownership::Ours,
                ),
            ),
        ])),
        log: Mutex::new(Vec::new()),
        fail: vec![],
        declare: None,
        given: Mutex::new(Vec::new()),
    });
    let plan = plan_of(&fake, Mode::Apply).await;
    let kinds: Vec<&str> = plan
        .changes
        .iter()
        .map(|c| c.address.kind.as_str())
        .collect();
    assert_eq!(kinds, ["fake.drifted"]);
    let json: serde_json::Value = serde_json::from_str(&render::json(&plan)).unwrap();
    assert_eq!(
        json["in_line"],
        json!([{
            "account": "123456789012",
            "region": "eu-west-1",
            "kinds": {"fake.other": 1, "fake.same": 1},
            "controls": ["X.1", "X.2"],
        }])
    );
    assert_eq!(json["summary"]["in_line"], 2);

    // Torn down, the resource that is not baseline's is held back: a
    // change, so that the plan says why it stays.
    let plan = plan_of(&fake, Mode::Destroy).await;
    let held: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.held.is_some())
        .map(|c| c.address.kind.as_str())
        .collect();
    assert_eq!(held, ["fake.other"]);
    assert!(plan.in_line.is_empty(), "{:?}", plan.in_line);
}

/// Accounts are read as they are reached, in whatever order that is; the
/// plan lists them in the baseline's order, with what of each could not
/// be reached.
#[tokio::test]
async fn accounts_are_planned_as_reached_and_listed_in_order() {
    let fake = chain(vec![]);
    let svcs: Vec<Arc<dyn Service>> = vec![fake.clone()];
    let other = Target {
        account_id: "210987654321".into(),
        account_name: None,
        ..target()
    };
    let arrivals = vec![
        Reached {
            order: 1,
            targets: vec![other.clone()],
            errors: vec![PlanError {
                account: other.account_id.clone(),
                region: "ap-east-1".into(),
                service: String::new(),
                message: "not enabled".into(),
                kind: ErrorKind::Refused,
            }],
        },
        Reached {
            order: 0,
            targets: vec![target()],
            errors: vec![],
        },
    ];
    let plan = plan_as_reached(
        &baseline(),
        futures::stream::iter(arrivals),
        &svcs,
        Mode::Apply,
        Vec::new(),
        &PlanOptions::default(),
    )
    .await;
    assert_eq!(plan.targets, [target(), other]);
    assert_eq!(plan.changes.len(), 8, "four resources read in each");
    assert_eq!(plan.errors.len(), 1);
    assert_eq!(plan.errors[0].region, "ap-east-1");
}

/// A read waits at the gate until it opens.
struct Gated(Arc<tokio::sync::Semaphore>);

#[async_trait]
impl Service for Gated {
    fn name(&self) -> &'static str {
        "gated"
    }
    fn desired(&self, _: &Baseline, target: &Target, _: Mode) -> Vec<Desired> {
        vec![Desired {
            address: Address::new(target, "gated.x", "x"),
            ..want("gated.x", &[])
        }]
    }
    async fn read(&self, _: &Target, _: &[Desired]) -> Result<Reading, ServiceError> {
        let _pass = self.0.acquire().await.expect("never closed");
        Ok(Vec::new().into())
    }
    async fn apply(&self, _: &Target, _: &Change) -> Result<Outputs, ServiceError> {
        Ok(Outputs::new())
    }
}

/// Why: an account being reached (its AssumeRole, under an operation
/// timeout) was not driven while every reading slot was busy, so slow
/// reads could time the next accounts' AssumeRoles out. Here the reads
/// wait until the last account has been reached: the plan finishes only
/// if reaching goes on while every slot is taken.
#[tokio::test]
async fn accounts_are_reached_while_every_reading_slot_is_busy() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let svcs: Vec<Arc<dyn Service>> = vec![Arc::new(Gated(gate.clone()))];
    let accounts: Vec<Reached> = (0..6)
        .map(|n| Reached {
            order: n,
            targets: vec![Target {
                account_id: format!("10000000000{n}"),
                ..target()
            }],
            errors: vec![],
        })
        .collect();
    let opened = gate.clone();
    let arrivals = futures::stream::iter(accounts).chain(
        futures::stream::once(async move {
            opened.add_permits(100);
            None
        })
        .filter_map(|r| async move { r }),
    );
    // One read at a time: two accounts fill the slots.
    let opts = PlanOptions {
        concurrency: 1,
        per_account: 1,
        progress: None,
        today: None,
    };
    let plan = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        plan_as_reached(&baseline(), arrivals, &svcs, Mode::Apply, Vec::new(), &opts),
    )
    .await
    .expect("reaching went on while the slots were busy");
    assert_eq!(plan.targets.len(), 6);
    assert_eq!(plan.changes.len(), 6, "every account read");
}

/// Why: `destroy` deleted a log bucket that another region's delivery
/// channel, outside the plan, still delivered to.
#[tokio::test]
async fn a_delete_waits_for_every_user_to_be_deleted_by_the_same_plan() {
    let other_region = Address {
        region: "us-east-1".into(),
        ..addr("fake.channel")
    };
    let observed = |kind: &str, used_by: Vec<Address>, unknown: Option<&str>| {
        let mut o = Observed::new(addr(kind), attrs(json!({"on": true})), Ownership::Ours);
        o.used_by = used_by;
        o.users_unknown = unknown.map(str::to_string);
        (addr(kind), o)
    };
    let fake = |bucket: (Address, Observed)| {
        Arc::new(Fake {
            desired: vec![
                want("fake.bucket", &[]),
                want("fake.channel", &["fake.bucket"]),
            ],
            observed: Mutex::new(HashMap::from([
                bucket,
                observed("fake.channel", vec![], None),
            ])),
            log: Mutex::new(Vec::new()),
            fail: vec![],
            declare: None,
            given: Mutex::new(Vec::new()),
        })
    };
    let action = |plan: &Plan, kind: &str| {
        let c = plan
            .changes
            .iter()
            .find(|c| c.address.kind == kind)
            .unwrap();
        (
            c.action,
            c.held.as_ref().map(|h| h.to_string()).unwrap_or_default(),
        )
    };

    // Its only user is deleted by the plan: deleted.
    let f = fake(observed("fake.bucket", vec![addr("fake.channel")], None));
    let plan = plan_of(&f, Mode::Destroy).await;
    assert_eq!(action(&plan, "fake.bucket").0, Action::Delete);

    // A user in another region, not in this plan: kept, and said why.
    let f = fake(observed(
        "fake.bucket",
        vec![addr("fake.channel"), other_region.clone()],
        None,
    ));
    let plan = plan_of(&f, Mode::Destroy).await;
    let (a, why) = action(&plan, "fake.bucket");
    assert_eq!(a, Action::NoOp);
    assert!(
        why.contains("still used by 123456789012/us-east-1/fake.channel"),
        "{why}"
    );
    let held = plan
        .changes
        .iter()
        .find(|c| c.address.kind == "fake.bucket");
    assert_eq!(
        held.and_then(|c| c.held.clone()),
        Some(Held::InUse {
            users: vec![other_region.clone()]
        }),
        "the JSON plan names the users, typed"
    );
    assert_eq!(action(&plan, "fake.channel").0, Action::Delete);

    // Users that could not be read: kept, not guessed.
    let f = fake(observed(
        "fake.bucket",
        vec![],
        Some("eu-west-3 could not be read"),
    ));
    let plan = plan_of(&f, Mode::Destroy).await;
    let (a, why) = action(&plan, "fake.bucket");
    assert_eq!(a, Action::NoOp);
    assert!(why.contains("eu-west-3 could not be read"), "{why}");
}

/// Why: resources of a landing zone (e.g. AWS Control Tower's recorder)
/// were corrected and deleted like any other.
#[test]
fn what_another_tool_manages_is_never_changed_nor_deleted() {
    let mut o = Observed::new(
        addr("fake.recorder"),
        attrs(json!({"on": false})),
        Ownership::Ours,
    );
    o.managed_by_tool(Some("AWS Control Tower".into()));
    let c = diff(want("fake.recorder", &[]), Some(o.clone()));
    assert_eq!(c.action, Action::Manual);
    assert_eq!(
        c.held,
        Some(Held::OtherTool {
            tool: "AWS Control Tower".into()
        })
    );
    assert!(
        c.explanation()
            .join("\n")
            .contains("make this change through AWS Control Tower")
    );
    let gone = Desired {
        want: Want::Absent,
        ..want("fake.recorder", &[])
    };
    let c = diff(gone, Some(o));
    assert_eq!(c.action, Action::NoOp);
    assert!(
        c.held
            .unwrap()
            .to_string()
            .contains("managed by AWS Control Tower")
    );
}

/// Why: an AWS error can carry a whole document (a policy, a proxy's HTML
/// page), and was stored in plans as it came.
#[test]
fn error_text_is_bounded() {
    let long = std::io::Error::other("x".repeat(10_000));
    let text = error_chain(&long);
    assert!(
        text.chars().count() < MAX_ERROR_CHARS + 40,
        "{}",
        text.len()
    );
    assert!(text.ends_with("(8000 more characters)"), "{text}");
}

/// Why: a plan of many accounts made a Markdown comment larger than a pull
/// request takes (65,536 characters), and it was cut anywhere.
#[tokio::test]
async fn a_markdown_plan_fits_a_comment_and_is_cut_only_between_lines() {
    let desired: Vec<Desired> = (0..3000)
        .map(|i| Desired {
            address: Address::new(&target(), "fake.kind", format!("resource-{i:04}")),
            ..want("fake.kind", &[])
        })
        .collect();
    let fake = Arc::new(Fake {
        desired,
        observed: Mutex::new(HashMap::new()),
        log: Mutex::new(Vec::new()),
        fail: vec![],
        declare: None,
        given: Mutex::new(Vec::new()),
    });
    let plan = plan_of(&fake, Mode::Apply).await;
    let full = render::human(&plan, &Styles::plain());
    assert!(full.len() > 65_536);
    let md = render::markdown(&plan);
    assert!(md.chars().count() <= render::MARKDOWN_LIMIT, "{}", md.len());
    assert!(
        md.contains("Plan: 3000 to add"),
        "the summary counts everything"
    );
    assert!(md.contains("lines shown, cut at a line's end"));
    let block = md
        .split("```diff\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    for line in block.lines() {
        assert!(full.lines().any(|l| l == line), "a cut line: {line:?}");
    }
    // A small plan is whole.
    let small = render::markdown(&plan_of(&chain(vec![]), Mode::Apply).await);
    assert!(!small.contains("longer than a comment allows"));
}

/// A plan over several account-regions ends with its shape: changes by
/// service and by control.
#[tokio::test]
async fn a_plan_over_many_places_ends_with_a_breakdown() {
    let mut plan = plan_of(&chain(vec![]), Mode::Apply).await;
    let one = render::human(&plan, &Styles::plain());
    assert!(
        !one.contains("By setting"),
        "one place: no breakdown\n{one}"
    );
    let elsewhere: Vec<Change> = plan
        .changes
        .iter()
        .cloned()
        .map(|mut c| {
            c.address.region = "us-east-1".into();
            c
        })
        .collect();
    plan.changes.extend(elsewhere);
    let text = render::human(&plan, &Styles::plain());
    assert!(
        text.contains("Changes in 2 account-regions. By setting: fake 8."),
        "{text}"
    );
    assert!(text.contains("By control: X.1 8."), "{text}");
}

/// An empty plan says why it is empty: no account at all (an empty shard),
/// or none reached.
#[test]
fn an_empty_plan_says_whether_anything_failed() {
    let mut plan = Plan {
        format_version: FORMAT_VERSION.into(),
        mode: Mode::Apply,
        baseline: baseline(),
        source: None,
        created_at: None,
        services: vec![],
        targets: vec![],
        changes: vec![],
        in_line: vec![],
        errors: vec![],
        notes: vec![],
        unreadable: vec![],
        scopes: Default::default(),
        exceptions: Vec::new(),
    };
    assert!(render::human(&plan, &Styles::plain()).contains("No account to plan"));
    plan.errors.push(PlanError {
        account: "210987654321".into(),
        region: String::new(),
        service: String::new(),
        message: "cannot assume role".into(),
        kind: ErrorKind::Denied,
    });
    assert!(render::human(&plan, &Styles::plain()).contains("no account was reached"));
}

/// A service whose read panics (as the AWS SDK did on a 70,000-character
/// id from a hostile endpoint).
struct Panics;

#[async_trait]
impl Service for Panics {
    fn name(&self) -> &'static str {
        "panics"
    }
    fn desired(&self, _: &Baseline, t: &Target, _: Mode) -> Vec<Desired> {
        vec![Desired {
            address: Address::new(t, "panics.thing", "x"),
            controls: vec![],
            want: Want::Present(attrs(json!({"on": true}))),
            depends_on: vec![],
            private: Default::default(),
        }]
    }
    async fn read(&self, _: &Target, _: &[Desired]) -> Result<Reading, ServiceError> {
        panic!("building the request: uri too long\u{1b}[31m")
    }
    async fn apply(&self, _: &Target, _: &Change) -> Result<Outputs, ServiceError> {
        panic!("apply panicked")
    }
}

/// Why: a panic inside one provider call (the SDK on a hostile answer)
/// ended the whole process with exit 101 and nothing printed. It is now
/// that service's error in that place; the rest is planned and applied.
#[tokio::test]
async fn a_panicking_provider_fails_its_service_alone() {
    let fake = chain(vec![]);
    let svcs: Vec<Arc<dyn Service>> = vec![fake.clone(), Arc::new(Panics)];
    let plan = make_plan(
        &baseline(),
        &[target()],
        &svcs,
        Mode::Apply,
        Vec::new(),
        &PlanOptions::default(),
    )
    .await;
    assert_eq!(plan.errors.len(), 1, "{:?}", plan.errors);
    let e = &plan.errors[0];
    assert_eq!(e.service, "panics");
    assert!(
        e.message.contains("the panics read stopped on an internal error (panic: building the request: uri too long\\u{1b}[31m)"),
        "{}",
        e.message
    );
    assert_eq!(plan.summary().add, 4, "the other service is planned");

    // A step that panics fails alone too.
    let mut panicking = plan.clone();
    panicking.changes.push(Change {
        address: Address::new(&target(), "panics.thing", "x"),
        action: Action::Create,
        controls: vec![],
        before: None,
        after: Some(attrs(json!({"on": true}))),
        changed: vec!["on".into()],
        depends_on: vec![],
        instructions: None,
        note: None,
        held: None,
        private: Default::default(),
        known_after_apply: vec![],
        preconditions: vec![],
        waits: vec![],
    });
    let results = run_with(&svcs, &panicking).await;
    let failed: Vec<_> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed { .. }))
        .collect();
    assert_eq!(failed.len(), 1, "{results:?}");
    assert!(
        matches!(&failed[0].outcome, Outcome::Failed { kind: ErrorKind::Panic, message } if message.contains("panic: apply panicked"))
    );
    assert_eq!(
        results
            .iter()
            .filter(|r| r.outcome == Outcome::Done)
            .count(),
        4
    );
}

/// Why: names, reasons and notes from a baseline file or from AWS were
/// printed as they came: a name holding a newline and a code fence closed
/// the Markdown block of a pull-request comment and wrote Markdown of its
/// own; escape sequences reached the terminal; an error message's NUL
/// bytes were printed raw.
#[tokio::test]
async fn text_from_outside_cannot_break_out_of_its_place() {
    let mut plan = plan_of(&chain(vec![]), Mode::Apply).await;
    plan.targets[0].account_name = Some("evil\n```\n# Injected\n\u{1b}[2J".into());
    plan.changes[0].note = Some("````\n**pwned**".into());
    plan.notes
        .push("note\n```\n[click](https://example.com)".into());
    plan.errors.push(PlanError {
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        service: "fake".into(),
        message: "bad\u{0}answer\u{1b}[31m".into(),
        kind: ErrorKind::Other,
    });
    let md = render::markdown(&plan);
    let fence = md
        .lines()
        .find(|l| l.starts_with("```") && l.ends_with("diff"))
        .expect("an opening fence")
        .trim_end_matches("diff")
        .to_string();
    assert!(
        fence.len() > 4,
        "longer than the longest run inside: {fence}"
    );
    let closing: Vec<&str> = md.lines().filter(|l| l.trim_end() == fence).collect();
    assert_eq!(closing.len(), 1, "the block closes once, at its end:\n{md}");
    for line in md.lines() {
        assert!(
            !line.starts_with("# Injected")
                && !line.starts_with("**pwned**")
                && !line.starts_with("[click]"),
            "a line of the attacker's outside the block: {line:?}\n{md}"
        );
    }
    let text = render::human(&plan, &Styles::plain());
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{0}'),
        "{text:?}"
    );
    assert!(text.contains(r"evil\n```\n# Injected\n\u{1b}[2J"), "{text}");
    assert!(text.contains(r"bad\u{0}answer\u{1b}[31m"), "{text}");

    let e = std::io::Error::other("nul\u{0} and escape\u{1b}[2J");
    let chain_text = error_chain(&e);
    assert_eq!(chain_text, r"nul\u{0} and escape\u{1b}[2J");
}

/// Why (issue 34): a trail was given its key's ARN by looking the key's
/// alias up again at apply. A value an earlier change makes is now
/// declared: known after apply when the plan creates its maker, handed
/// over by the executor from the maker's outputs; copied from the read
/// when the maker exists.
#[tokio::test]
async fn a_value_known_after_apply_is_shown_and_handed_over() {
    fn declare(c: &Change) -> Declared {
        if c.address.kind != "fake.trail" {
            return Declared::default();
        }
        Declared {
            references: vec![Reference {
                into: "key_id".into(),
                from: addr("fake.key"),
                output: "id".into(),
            }],
            ..Declared::default()
        }
    }
    let fake = |observed: Vec<(Address, Observed)>| {
        Arc::new(Fake {
            desired: vec![want("fake.trail", &[]), want("fake.key", &[])],
            observed: Mutex::new(observed.into_iter().collect()),
            log: Mutex::new(Vec::new()),
            fail: vec![],
            declare: Some(declare),
            given: Mutex::new(Vec::new()),
        })
    };
    // The plan makes the key: its id is known after apply.
    let made = fake(vec![]);
    let plan = plan_of(&made, Mode::Apply).await;
    let trail = plan
        .changes
        .iter()
        .find(|c| c.address.kind == "fake.trail")
        .unwrap();
    assert_eq!(trail.known_after_apply.len(), 1);
    assert!(
        trail.depends_on.contains(&addr("fake.key")),
        "the trail waits for the step that gives its value"
    );
    let text = render::human(&plan, &Styles::plain());
    assert!(
        text.contains("key_id = (known after apply: id of fake.key[\"x\"])"),
        "{text}"
    );
    assert!(render::json(&plan).contains("\"known_after_apply\""));
    let results = run(&made, &plan).await;
    assert!(
        results.iter().all(|r| r.outcome == Outcome::Done),
        "{results:?}"
    );
    let given = made.given.lock().unwrap().clone();
    let trail = given
        .iter()
        .find(|c| c.address.kind == "fake.trail")
        .unwrap();
    assert_eq!(trail.private.get("key_id"), Some(&json!("made-fake.key")));

    // The key exists: the plan copies the value it read.
    let mut key = Observed::new(
        addr("fake.key"),
        attrs(json!({"on": false})),
        Ownership::Ours,
    );
    key.private.insert("id".into(), json!("read-1"));
    let read = fake(vec![(addr("fake.key"), key)]);
    let plan = plan_of(&read, Mode::Apply).await;
    let trail = plan
        .changes
        .iter()
        .find(|c| c.address.kind == "fake.trail")
        .unwrap();
    assert!(trail.known_after_apply.is_empty());
    assert_eq!(trail.private.get("key_id"), Some(&json!("read-1")));
}

/// Why (issue 34): Security Hub's aggregator and configuration policy
/// chose create or update from a fresh list at apply: a create that
/// found one made meanwhile silently updated it. A create now declares
/// that it expects nothing there; the executor reads the resource afresh
/// and fails the step as stale, writing nothing.
#[tokio::test]
async fn a_create_that_finds_the_resource_made_meanwhile_is_stale() {
    fn declare(c: &Change) -> Declared {
        Declared {
            preconditions: match c.action {
                Action::Create => vec![Precondition::Absent],
                _ => c
                    .changed
                    .iter()
                    .map(|a| Precondition::Unchanged { attr: a.clone() })
                    .collect(),
            },
            waits: vec![Wait::PolicyInEffect],
            ..Declared::default()
        }
    }
    let fake = Arc::new(Fake {
        desired: vec![want("fake.a", &[]), want("fake.b", &[])],
        observed: Mutex::new(HashMap::new()),
        log: Mutex::new(Vec::new()),
        fail: vec![],
        declare: Some(declare),
        given: Mutex::new(Vec::new()),
    });
    let plan = plan_of(&fake, Mode::Apply).await;
    let text = render::human(&plan, &Styles::plain());
    assert!(
        text.contains("then waits until AWS puts into effect the policies written moments ago (at most --settle-timeout)"),
        "{text}"
    );
    // Someone makes fake.a between plan and apply.
    fake.observed.lock().unwrap().insert(
        addr("fake.a"),
        Observed::new(
            addr("fake.a"),
            attrs(json!({"on": false})),
            Ownership::NotOurs,
        ),
    );
    let results = run(&fake, &plan).await;
    let a = results.iter().find(|r| r.address.kind == "fake.a").unwrap();
    assert!(
        matches!(&a.outcome, Outcome::Failed { kind: ErrorKind::Stale, message } if message.contains("it exists now")),
        "{a:?}"
    );
    let b = results.iter().find(|r| r.address.kind == "fake.b").unwrap();
    assert_eq!(b.outcome, Outcome::Done, "the other create goes on");
    let log = fake.log.lock().unwrap().clone();
    assert_eq!(
        log,
        vec!["Create fake.b".to_string()],
        "nothing written to fake.a"
    );

    // An update whose attribute changed since the plan: stale too.
    let plan = plan_of(&fake, Mode::Apply).await;
    fake.observed.lock().unwrap().insert(
        addr("fake.a"),
        Observed::new(
            addr("fake.a"),
            attrs(json!({"on": "someone's"})),
            Ownership::NotOurs,
        ),
    );
    let results = run(&fake, &plan).await;
    let a = results.iter().find(|r| r.address.kind == "fake.a").unwrap();
    assert!(
        matches!(&a.outcome, Outcome::Failed { kind: ErrorKind::Stale, message } if message.contains("on changed since the plan")),
        "{a:?}"
    );
}

/// Issue 36: drift an exception covers is excepted while it is in force
/// (nothing is done, and it is not drift), and drift again with a note
/// from the day after it ends.
#[tokio::test]
async fn an_exception_leaves_its_drift_until_it_ends() {
    let fake = chain(vec![]);
    let mut b = baseline();
    b.exceptions = Some(vec![baseline_spec::Exception {
        settings: None,
        kinds: Some(vec!["fake.a".into()]),
        controls: None,
        accounts: Some(vec![baseline_spec::AccountId("123456789012".into())]),
        ous: None,
        regions: Some(vec!["eu-west-1".into()]),
        reason: "legacy workload".into(),
        owner: "security@example.com".into(),
        expires: "2027-03-31".into(),
    }]);
    let svcs: Vec<Arc<dyn Service>> = vec![fake.clone()];
    let plan_on = |today: &str| {
        let opts = PlanOptions {
            today: Some(today.into()),
            ..PlanOptions::default()
        };
        let (b, svcs) = (b.clone(), svcs.clone());
        async move { make_plan(&b, &[target()], &svcs, Mode::Apply, Vec::new(), &opts).await }
    };
    let plan = plan_on("2027-03-31").await;
    let a = plan
        .changes
        .iter()
        .find(|c| c.address.kind == "fake.a")
        .unwrap();
    assert_eq!(a.action, Action::NoOp);
    assert!(
        matches!(&a.held, Some(Held::Excepted { owner, .. }) if owner == "security@example.com")
    );
    assert_eq!(plan.summary().add, 3, "the other creates stand");
    assert_eq!(
        plan.exceptions,
        vec![ExceptionUse {
            index: 0,
            owner: "security@example.com".into(),
            reason: "legacy workload".into(),
            expires: "2027-03-31".into(),
            state: ExceptionState::InForce,
            covers: 1,
        }]
    );
    let text = render::human(&plan, &Styles::plain());
    assert!(
        text.contains("= fake.a[\"x\"] excepted")
            && text.contains("excepted until 2027-03-31 by security@example.com: legacy workload"),
        "{text}"
    );
    // The step that depends on it still waits for it: it is not applied.
    let results = run(&fake, &plan).await;
    assert!(results.iter().all(|r| r.address.kind != "fake.a"));

    // The day after: drift again, with the note.
    let plan = plan_on("2027-04-01").await;
    let a = plan
        .changes
        .iter()
        .find(|c| c.address.kind == "fake.a")
        .unwrap();
    assert_eq!(a.action, Action::Create);
    assert!(
        a.note
            .as_deref()
            .unwrap_or_default()
            .contains("ran out on 2027-03-31"),
        "{a:?}"
    );
    assert_eq!(plan.exceptions[0].state, ExceptionState::RunOut);
    assert!(render::human(&plan, &Styles::plain()).contains("Exception ended:"));
}

/// Issue 36's review: a renewal written below the ended entry is the one
/// in force; and a change that takes a value from an excepted create is
/// excepted with it (it could not run without that value).
#[tokio::test]
async fn a_renewed_exception_wins_and_what_needs_an_excepted_value_waits_with_it() {
    fn declare(c: &Change) -> Declared {
        if c.address.kind != "fake.trail" {
            return Declared::default();
        }
        Declared {
            references: vec![Reference {
                into: "key_id".into(),
                from: addr("fake.key"),
                output: "id".into(),
            }],
            ..Declared::default()
        }
    }
    let fake = Arc::new(Fake {
        desired: vec![want("fake.trail", &[]), want("fake.key", &[])],
        observed: Mutex::new(HashMap::new()),
        log: Mutex::new(Vec::new()),
        fail: vec![],
        declare: Some(declare),
        given: Mutex::new(Vec::new()),
    });
    let exception = |expires: &str| baseline_spec::Exception {
        settings: None,
        kinds: Some(vec!["fake.key".into()]),
        controls: None,
        accounts: None,
        ous: None,
        regions: None,
        reason: "waiting for a key design".into(),
        owner: format!("team-{expires}"),
        expires: expires.into(),
    };
    let mut b = baseline();
    b.exceptions = Some(vec![exception("2026-01-31"), exception("2027-01-31")]);
    let svcs: Vec<Arc<dyn Service>> = vec![fake.clone()];
    let opts = PlanOptions {
        today: Some("2026-12-07".into()),
        ..PlanOptions::default()
    };
    let plan = make_plan(&b, &[target()], &svcs, Mode::Apply, Vec::new(), &opts).await;
    let of = |k: &str| plan.changes.iter().find(|c| c.address.kind == k).unwrap();
    assert!(
        matches!(&of("fake.key").held, Some(Held::Excepted { owner, .. }) if owner == "team-2027-01-31"),
        "{:?}",
        of("fake.key")
    );
    assert_eq!(
        of("fake.trail").action,
        Action::NoOp,
        "it needs the key's id"
    );
    assert!(matches!(of("fake.trail").held, Some(Held::Excepted { .. })));
    assert!(!plan.has_applicable_changes());
    assert!(
        render::human(&plan, &Styles::plain())
            .contains("No changes to apply: the drift shown is excepted")
    );
}
