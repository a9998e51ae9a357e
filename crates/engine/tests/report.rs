//! The HTML report: one cell per account × region coloured by its state,
//! counts by control, every user-given value escaped, nothing loaded.

use baseline_engine::report;
use baseline_engine::*;
use serde_json::json;

fn target(account: &str, name: &str, region: &str) -> Target {
    Target {
        account_id: account.into(),
        account_name: Some(name.into()),
        region: region.into(),
        home: region == "ap-northeast-1",
        ou: None,
    }
}

fn change(account: &str, region: &str, kind: &str, action: Action, control: &str) -> Change {
    let attrs = |v: serde_json::Value| v.as_object().cloned();
    Change {
        address: Address {
            account: account.into(),
            region: region.into(),
            kind: kind.into(),
            name: "default".into(),
        },
        action,
        controls: vec![control.into()],
        before: attrs(json!({"name": "<img src=x onerror=alert(1)>"})),
        after: attrs(json!({"name": "Sec & Ops <team>"})),
        changed: vec!["name".into()],
        depends_on: vec![],
        instructions: (action == Action::Manual).then(|| "Sign in as root & enable MFA".into()),
        note: None,
        held: None,
        private: Default::default(),
        known_after_apply: vec![],
        preconditions: vec![],
        waits: vec![],
    }
}

fn in_line(account: &str, region: &str, kind: &str, control: &str) -> InLine {
    InLine {
        account: account.into(),
        region: region.into(),
        kinds: std::sync::Arc::new([(kind.into(), 1)].into_iter().collect()),
        controls: vec![control.into()].into(),
    }
}

fn plan() -> Plan {
    let regions = ["ap-northeast-1", "us-east-1"];
    let mut targets = Vec::new();
    for (id, name) in [
        ("111111111111", "<script>alert('one')</script>"),
        ("222222222222", "two"),
        ("333333333333", "three"),
    ] {
        for r in regions {
            targets.push(target(id, name, r));
        }
    }
    let baseline = baseline_spec::parse(
        "version: 1\naccounts: [{id: \"111111111111\"}]\nregions: [us-east-1]\nhome_region: us-east-1\n",
        "b.yaml",
    )
    .expect("a minimal baseline");
    Plan {
        format_version: FORMAT_VERSION.into(),
        mode: Mode::Apply,
        baseline,
        source: Some(BaselineSource {
            file: "org/baseline.yaml".into(),
            sha256: "ab".repeat(32),
        }),
        created_at: Some("2026-11-29T03:00:00Z".into()),
        services: vec!["config".into(), "iam".into()],
        targets,
        changes: vec![
            change(
                "111111111111",
                "ap-northeast-1",
                "iam.root_mfa",
                Action::Manual,
                "IAM.9",
            ),
            change(
                "222222222222",
                "ap-northeast-1",
                "config.recorder",
                Action::Update,
                "Config.1",
            ),
            change(
                "222222222222",
                "us-east-1",
                "config.recorder",
                Action::Create,
                "Config.1",
            ),
        ],
        // Resources in line are counted (as make_plan does), not listed.
        in_line: vec![
            in_line("111111111111", "us-east-1", "config.recorder", "Config.1"),
            in_line("222222222222", "us-east-1", "iam.root_mfa", "IAM.9"),
        ],
        errors: vec![PlanError {
            account: "333333333333".into(),
            region: String::new(),
            service: String::new(),
            message: "cannot assume role <arn>".into(),
            kind: ErrorKind::Denied,
        }],
        notes: vec![],
        unreadable: vec![],
        scopes: Default::default(),
        exceptions: Vec::new(),
    }
}

/// The opening tag of the matrix cell of `account` in `region`.
fn cell_tag(html: &str, account: &str, region: &str) -> String {
    let row = html
        .find(&format!("<tr data-account=\"{account}\""))
        .unwrap();
    let row = &html[row..html[row..].find("</tr>").unwrap() + row];
    let at = row
        .find(&format!("data-region=\"{region}\" data-state="))
        .unwrap();
    let start = row[..at].rfind("<td ").unwrap();
    row[start..start + row[start..].find('>').unwrap() + 1].to_string()
}

/// The `class` of the matrix cell of `account` in `region`.
fn cell_class<'a>(html: &'a str, account: &str, region: &str) -> &'a str {
    let row = html
        .find(&format!("<tr data-account=\"{account}\""))
        .unwrap_or_else(|| panic!("no row for {account}"));
    let row = &html[row..html[row..].find("</tr>").unwrap() + row];
    let at = row
        .find(&format!("data-region=\"{region}\" data-state="))
        .unwrap_or_else(|| panic!("no cell {account}/{region}"));
    let start = row[..at].rfind("<td class=\"").unwrap() + "<td class=\"".len();
    let end = start + row[start..].find('"').unwrap();
    &row[start..end]
}

#[test]
fn each_account_region_is_one_cell_coloured_by_its_state() {
    let html = report::html(&plan());
    assert_eq!(
        html.matches("<td class=\"cell ").count(),
        6,
        "3 accounts × 2 regions"
    );
    assert_eq!(
        cell_class(&html, "111111111111", "ap-northeast-1"),
        "cell manual"
    );
    assert_eq!(cell_class(&html, "111111111111", "us-east-1"), "cell ok");
    assert_eq!(
        cell_class(&html, "222222222222", "ap-northeast-1"),
        "cell changes"
    );
    assert_eq!(
        cell_class(&html, "222222222222", "us-east-1"),
        "cell changes"
    );
    assert_eq!(cell_class(&html, "333333333333", "us-east-1"), "cell error");
    // The header says what the plan is.
    for needle in [
        "org/baseline.yaml".to_string(),
        "2026-11-29T03:00:00Z".to_string(),
        "<dd id=\"account-count\">3</dd>".to_string(),
        format!("<dt>Plan format</dt><dd>{FORMAT_VERSION}</dd>"),
        "Plan: 1 to add, 1 to change, 0 to destroy, 1 manual.".to_string(),
    ] {
        assert!(html.contains(&needle), "missing {needle}");
    }
    // A cell with something to do links to its changes; cells with the
    // same ones share one list (account three's two regions: one error).
    assert!(
        !cell_tag(&html, "111111111111", "us-east-1").contains("href"),
        "nothing to show"
    );
    let anchor = |account: &str, region: &str| {
        let tag = cell_tag(&html, account, region);
        let at = html.find(&tag).unwrap() + tag.len();
        let rest = &html[at..];
        let start = rest.find("href=\"#").expect("a link") + "href=\"#".len();
        rest[start..start + rest[start..].find('"').unwrap()].to_string()
    };
    let three = anchor("333333333333", "ap-northeast-1");
    assert_eq!(three, anchor("333333333333", "us-east-1"));
    assert_ne!(
        anchor("222222222222", "ap-northeast-1"),
        anchor("222222222222", "us-east-1")
    );
    let section = &html[html.find(&format!("id=\"{three}\"")).unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains("The same in 2 account-regions"),
        "{section}"
    );
    assert!(section.contains("cannot assume role"), "{section}");
    assert!(
        section.contains("Error: [denied] account"),
        "the kind of failure is shown: {section}"
    );
    assert_eq!(
        html.matches("<section class=\"cell-detail").count(),
        4,
        "4 distinct lists for 5 cells"
    );
    // A list of one place shows its own values: before → after.
    let two = &html[html
        .find(&format!(
            "id=\"{}\"",
            anchor("222222222222", "ap-northeast-1")
        ))
        .unwrap()..];
    assert!(two.contains("account 222222222222 (two) · ap-northeast-1"));
    assert!(two.contains("config.recorder"));
}

#[test]
fn controls_count_account_regions_by_state() {
    let html = report::html(&plan());
    let row = |control: &str| {
        let at = html.find(&format!("<tr><td>{control}</td>")).unwrap();
        html[at..at + html[at..].find("</tr>").unwrap()].to_string()
    };
    // Config.1: in line in 1, excepted in 0, drift in 2, person in 0.
    assert_eq!(
        row("Config.1"),
        "<tr><td>Config.1</td><td>1</td><td>0</td><td>2</td><td>0</td>"
    );
    assert_eq!(
        row("IAM.9"),
        "<tr><td>IAM.9</td><td>1</td><td>0</td><td>0</td><td>1</td>"
    );
}

#[test]
fn every_value_from_users_or_aws_is_escaped_and_nothing_is_loaded() {
    let html = report::html(&plan());
    for raw in [
        "<script>alert('one')</script>",
        "<img src=x",
        "Sec & Ops <team>",
        "root & enable",
        "<arn>",
    ] {
        assert!(!html.contains(raw), "{raw} is in the page unescaped");
    }
    assert!(
        html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"),
        "the name is shown, escaped"
    );
    // One inline script (the page's own), no external resource.
    assert_eq!(html.matches("<script").count(), 1);
    for external in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(!html.contains(external), "{external}");
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}
