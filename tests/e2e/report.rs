//! The HTML report in a real browser: a plan of three accounts (one in
//! line but for root MFA, one drifted, one whose role cannot be assumed)
//! opened in headless Chromium; the matrix, a cell's colour and the script's
//! work read back from the DOM, no console message, a screenshot saved.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::moto::{Moto, baseline_file};

const DENIED: &str = "arn:aws:iam::333333333333:role/BaselineAdmin";

const BASELINE: &str = r#"version: 1
accounts:
  - {id: "111111111111", name: "<b>prod</b> & co", role_arn: "arn:aws:iam::111111111111:role/BaselineAdmin"}
  - {id: "222222222222", name: two, role_arn: "arn:aws:iam::222222222222:role/BaselineAdmin"}
  - {id: "333333333333", name: three, role_arn: "arn:aws:iam::333333333333:role/BaselineAdmin"}
regions: [ap-northeast-1, us-east-1, eu-west-1]
home_region: ap-northeast-1
iam:
  root_mfa: required
guardduty:
  enabled: true
ebs_encryption:
  enabled: true
alternate_contacts:
  security: {name: "<script>alert(1)</script>", email: security@example.com, phone: "+81-3-0000-0000", title: Security}
exceptions:
  - settings: [guardduty, ebs_encryption]
    accounts: ["222222222222"]
    regions: [us-east-1]
    reason: "a data-science sandbox, by decision"
    owner: "security@example.com"
    expires: END
"#;

/// The baseline, its exception ending in 30 days (UTC, as the binary
/// counts).
fn baseline() -> String {
    let out = Command::new("date")
        .args(["-u", "-d", "+30 days", "+%F"])
        .output()
        .unwrap();
    BASELINE.replace("END", String::from_utf8(out.stdout).unwrap().trim())
}

/// Chromium from Debian's package, installed by tests/chromium.sh when
/// missing (as moto is by tests/moto-env.sh).
fn chromium() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/chromium.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .expect("bash runs tests/chromium.sh");
    assert!(
        out.status.success(),
        "no Chromium for the report test, and tests/chromium.sh could not install it: {}\ninstall Debian's package chromium (apt-get install chromium) or set BASELINE_CHROMIUM",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Runs headless Chromium on `page` with `args`; (stdout, stderr).
fn headless(chromium: &Path, profile: &Path, page: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The opening tag of the matrix cell of `account` in `region`.
fn cell_tag(dom: &str, account: &str, region: &str) -> String {
    let row = dom
        .find(&format!("<tr data-account=\"{account}\""))
        .unwrap_or_else(|| panic!("no row for {account} in the DOM"));
    let row = &dom[row..row + dom[row..].find("</tr>").unwrap()];
    let at = row
        .find(&format!("data-region=\"{region}\" data-state="))
        .unwrap_or_else(|| panic!("no cell {account}/{region} in the DOM"));
    let start = row[..at].rfind("<td ").unwrap();
    row[start..start + row[start..].find('>').unwrap() + 1].to_string()
}

/// The `class` attribute of the matrix cell of `account` in `region`.
fn cell_class(dom: &str, account: &str, region: &str) -> String {
    let tag = cell_tag(dom, account, region);
    let start = tag.find("class=\"").unwrap() + "class=\"".len();
    tag[start..start + tag[start..].find('"').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_opens_in_a_browser_with_one_coloured_cell_per_account_region() {
    let browser = chromium();
    let moto = Moto::start_with(&["--deny-role", DENIED]);
    let dir = tempfile::tempdir().unwrap();
    let file = baseline_file(&dir, &baseline());
    let f = file.to_str().unwrap();

    // Account one converged (root MFA stays: only a person can do it).
    let apply = moto.baseline(&[
        "apply",
        "-f",
        f,
        "--accounts",
        "111111111111",
        "--auto-approve",
    ]);
    assert_eq!(apply.code, 0, "{apply:?}");

    let plan = moto.baseline(&["plan", "-f", f, "--output", "html"]);
    assert_eq!(plan.code, 1, "account three cannot be reached: {plan:?}");
    let html = plan.stdout;
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..200.min(html.len())]
    );
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "a contact's name is escaped"
    );
    assert!(
        !html.contains("<b>prod</b>"),
        "an account's name is escaped"
    );

    // Saved where a person can look after the test.
    let keep = std::env::temp_dir().join("baseline-report-test");
    std::fs::create_dir_all(&keep).unwrap();
    let page = keep.join("report.html");
    std::fs::write(&page, &html).unwrap();
    let profile = tempfile::tempdir().unwrap();

    let (dom, log) = headless(&browser, profile.path(), &page, &["--dump-dom"]);
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "the page logged to the console: {console:#?}"
    );

    assert_eq!(
        dom.matches("<td class=\"cell ").count(),
        9,
        "3 accounts × 3 regions"
    );
    assert_eq!(cell_class(&dom, "111111111111", "us-east-1"), "cell ok");
    assert_eq!(
        cell_class(&dom, "111111111111", "ap-northeast-1"),
        "cell manual"
    );
    assert_eq!(
        cell_class(&dom, "222222222222", "eu-west-1"),
        "cell changes"
    );
    assert_eq!(cell_class(&dom, "333333333333", "eu-west-1"), "cell error");
    // Issue 36: a cell whose drift an exception covers is coloured apart,
    // and the exception is listed with its end.
    assert_eq!(
        cell_class(&dom, "222222222222", "us-east-1"),
        "cell excepted"
    );
    assert!(
        dom.contains("id=\"exceptions\"") && dom.contains("a data-science sandbox, by decision"),
        "the exceptions are listed"
    );
    // The script ran to its end (it writes how many rows it shows).
    assert!(
        dom.contains("3 of 3 accounts shown"),
        "the page's script did not run"
    );
    // Names from the baseline are text in the DOM, not markup.
    assert!(
        dom.contains("&lt;b&gt;prod&lt;/b&gt; &amp; co"),
        "the account's name as text"
    );
    assert!(
        dom.contains("data-name=\"three\""),
        "an unreachable account's name, from the baseline"
    );

    // Filters from the address: one account, one region, one service.
    let filtered = keep.join("filtered.html");
    std::fs::copy(&page, &filtered).unwrap();
    let url = format!(
        "{}?account=two&region=eu-west-1&service=guardduty",
        filtered.display()
    );
    let (dom, _) = headless(&browser, profile.path(), Path::new(&url), &["--dump-dom"]);
    assert!(dom.contains("1 of 3 accounts shown"), "the account filter");
    // Under the service filter a cell takes that service's state: account
    // one's home region needs a person for root MFA, but GuardDuty is in line.
    assert_eq!(
        cell_class(&dom, "111111111111", "ap-northeast-1"),
        "cell ok"
    );
    assert_eq!(
        cell_class(&dom, "222222222222", "eu-west-1"),
        "cell changes"
    );
    assert!(!cell_tag(&dom, "222222222222", "eu-west-1").contains("hidden"));
    assert!(
        cell_tag(&dom, "222222222222", "us-east-1").contains("hidden"),
        "other regions' columns are hidden"
    );

    let shot = keep.join("report.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &browser,
        profile.path(),
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
        ],
    );
    let png = std::fs::read(&shot).expect("chromium saved the screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot: {} bytes",
        png.len()
    );
    eprintln!(
        "report: {} · screenshot: {}",
        page.display(),
        shot.display()
    );
}
