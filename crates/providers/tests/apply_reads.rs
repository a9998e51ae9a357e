//! The providers' `apply` follows the plan alone (issue 34): no provider's
//! apply calls an AWS read (List*, Get*, Describe*, Head*) unless the read
//! is one of the exceptions below, each documented (docs/decisions.md,
//! "What apply reads"). What apply must find before it writes is a
//! change's preconditions, read by the executor through the provider's
//! `read`, not by `apply`.
//!
//! How: every function of `crates/providers/src` is parsed (syn); an AWS
//! call is a method chain ending in `.send()`, and it reads when one of
//! its methods starts with `list_`, `get_`, `describe_` or `head_`. From
//! each `Service::apply`, every function it calls (`f(..)`,
//! `module::f(..)`, `self.f(..)`) is followed, by name (a name shared by
//! two functions follows both: the check errs on the side of finding a
//! read). Each read reached must be in `EXCEPTIONS`,
//! and each exception must still be reached (a stale list fails too).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use syn::visit::Visit;

/// (function, SDK operation): the reads apply may make, and why.
const EXCEPTIONS: &[(&str, &str, &str)] = &[
    // Finishing one's own half-made create.
    (
        "orphans",
        "list_aliases",
        "a key a stopped run made but did not alias is adopted, not made twice",
    ),
    (
        "orphans",
        "list_keys",
        "a key a stopped run made but did not alias is adopted, not made twice",
    ),
    (
        "orphans",
        "describe_key",
        "a key a stopped run made but did not alias is adopted, not made twice",
    ),
    (
        "orphans",
        "list_resource_tags",
        "a key a stopped run made but did not alias is adopted, not made twice",
    ),
    (
        "ensure",
        "get_bucket_tagging",
        "a CreateBucket whose answer was lost: the bucket is taken only with this baseline's mark",
    ),
    (
        "slr_exists",
        "list_roles",
        "CreateServiceLinkedRole, answered 'taken': the role is there",
    ),
    // What a delete must list to do its work.
    (
        "empty_and_delete",
        "list_object_versions",
        "a bucket is emptied of every version before it is deleted",
    ),
    // What a create learns from what it made (its plan could not read it).
    (
        "apply_detector",
        "get_detector",
        "the protection plans the region offers, from the detector this step made",
    ),
    (
        "offered_plans",
        "get_detector",
        "the plans the region offers, from the administrator's detector, for a create only",
    ),
    (
        "offered",
        "describe_standards",
        "the standards the region offers, for the standards of a hub this apply made",
    ),
    // The waits the changes declare.
    (
        "detector_id",
        "list_detectors",
        "waits until the detector the designation makes appears (Wait::Designated)",
    ),
    (
        "hub_arn",
        "describe_hub",
        "waits until the hub the designation makes appears (Wait::Designated)",
    ),
    (
        "subscriptions",
        "get_enabled_standards",
        "waits until no standard is PENDING (Wait::StandardsReady)",
    ),
    (
        "administrator_of",
        "get_administrator_account",
        "waits until the member is covered (Wait::Coverage)",
    ),
    (
        "apply",
        "describe_organization_configuration",
        "waits until the delegation holds, for a create (Wait::Delegation)",
    ),
    (
        "turn_on",
        "describe_organization_configuration",
        "waits until central configuration is ENABLED (Wait::CentralConfiguration)",
    ),
    // Another resource's mark.
    (
        "apply",
        "list_resource_tags",
        "the trail re-reads the mark of the key it is pointed at",
    ),
    (
        "tag_of",
        "list_tags_for_resource",
        "the association re-reads the mark of the policy it associates with the root",
    ),
];

/// What one function does: the functions and methods it calls, and the
/// AWS reads it sends.
#[derive(Default)]
struct Body {
    calls: BTreeSet<String>,
    reads: BTreeSet<String>,
}

#[derive(Default)]
struct Crate {
    /// Each function's bodies, by name (several functions may share one).
    functions: BTreeMap<String, Vec<Body>>,
    /// The `apply` methods of `impl Service for ...`, by file.
    roots: Vec<(String, Body)>,
}

const READS: [&str; 4] = ["list_", "get_", "describe_", "head_"];

#[derive(Default)]
struct BodyVisitor {
    body: Body,
}

impl<'a> Visit<'a> for BodyVisitor {
    fn visit_expr_method_call(&mut self, m: &'a syn::ExprMethodCall) {
        let name = m.method.to_string();
        if name == "send" {
            // The chain before `.send()`: the builder of one AWS call.
            let mut cur = &*m.receiver;
            while let syn::Expr::MethodCall(inner) = cur {
                let op = inner.method.to_string();
                if READS.iter().any(|p| op.starts_with(p)) {
                    self.body.reads.insert(op);
                }
                cur = &inner.receiver;
            }
        }
        // A method of the provider's own (`self.apply_hub(..)`); methods
        // of other values are the SDK's and the standard library's.
        if matches!(&*m.receiver, syn::Expr::Path(p) if p.path.is_ident("self")) {
            self.body.calls.insert(name);
        }
        syn::visit::visit_expr_method_call(self, m);
    }
    fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func
            && let Some(last) = p.path.segments.last()
        {
            self.body.calls.insert(last.ident.to_string());
        }
        syn::visit::visit_expr_call(self, c);
    }
    fn visit_macro(&mut self, m: &'a syn::Macro) {
        // Calls inside macros (`futures::join!`, `format!`) are parsed as
        // the expressions they hold, where they are some.
        if let Ok(args) = m.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        ) {
            for e in &args {
                self.visit_expr(e);
            }
        }
    }
}

fn body_of(block: &syn::Block) -> Body {
    let mut v = BodyVisitor::default();
    v.visit_block(block);
    v.body
}

struct FileVisitor<'c> {
    file: String,
    krate: &'c mut Crate,
    in_service_impl: bool,
}

impl<'a> Visit<'a> for FileVisitor<'_> {
    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        self.krate
            .functions
            .entry(f.sig.ident.to_string())
            .or_default()
            .push(body_of(&f.block));
        syn::visit::visit_item_fn(self, f);
    }
    fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
        let service = i
            .trait_
            .as_ref()
            .and_then(|(_, p, _)| p.segments.last())
            .is_some_and(|s| s.ident == "Service");
        let was = std::mem::replace(&mut self.in_service_impl, service);
        syn::visit::visit_item_impl(self, i);
        self.in_service_impl = was;
    }
    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        let name = f.sig.ident.to_string();
        let body = body_of(&f.block);
        if self.in_service_impl && name == "apply" {
            self.krate.roots.push((self.file.clone(), body));
        } else if !self.in_service_impl {
            self.krate.functions.entry(name).or_default().push(body);
        }
        syn::visit::visit_impl_item_fn(self, f);
    }
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        // Unit tests are not apply.
        if m.ident == "tests" {
            return;
        }
        syn::visit::visit_item_mod(self, m);
    }
}

fn parse(dir: &Path, krate: &mut Crate) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            parse(&path, krate);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            FileVisitor {
                file: path.display().to_string(),
                krate,
                in_service_impl: false,
            }
            .visit_file(&file);
        }
    }
}

/// Every read reachable from each provider's apply: (function, operation)
/// → the files whose apply reaches it.
fn reached(krate: &Crate) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (file, root) in &krate.roots {
        let short = file.rsplit("src/").next().unwrap_or(file).to_string();
        for op in &root.reads {
            out.entry(("apply".into(), op.clone()))
                .or_default()
                .insert(short.clone());
        }
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut todo: Vec<&str> = root.calls.iter().map(String::as_str).collect();
        while let Some(name) = todo.pop() {
            if !seen.insert(name) {
                continue;
            }
            for body in krate.functions.get(name).into_iter().flatten() {
                for op in &body.reads {
                    out.entry((name.to_string(), op.clone()))
                        .or_default()
                        .insert(short.clone());
                }
                todo.extend(body.calls.iter().map(String::as_str));
            }
        }
    }
    out
}

#[test]
fn apply_reads_only_what_is_documented() {
    let mut krate = Crate::default();
    parse(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut krate,
    );
    assert!(
        krate.roots.len() >= 10,
        "every provider's apply is found: {}",
        krate.roots.len()
    );
    let reads = reached(&krate);
    let allowed: BTreeSet<(&str, &str)> = EXCEPTIONS.iter().map(|(f, op, _)| (*f, *op)).collect();
    let undocumented: Vec<String> = reads
        .iter()
        .filter(|((f, op), _)| !allowed.contains(&(f.as_str(), op.as_str())))
        .map(|((f, op), files)| format!("{op} in {f} (from the apply of {files:?})"))
        .collect();
    assert!(
        undocumented.is_empty(),
        "apply reads AWS beyond its documented exceptions; make it a precondition of the change, a value in its private data, or a reference to another change's output:\n{}",
        undocumented.join("\n")
    );
    let unused: Vec<String> = EXCEPTIONS
        .iter()
        .filter(|(f, op, _)| !reads.contains_key(&(f.to_string(), op.to_string())))
        .map(|(f, op, why)| format!("{op} in {f}: {why}"))
        .collect();
    assert!(
        unused.is_empty(),
        "exceptions no apply reaches any more (remove them):\n{}",
        unused.join("\n")
    );
}

/// The check finds a read where there is one: a provider whose apply
/// looks a value up again is caught.
#[test]
fn the_check_finds_a_read_in_apply() {
    let source = r#"
        struct S;
        impl Service for S {
            async fn apply(&self) { helper(&self.client).await }
        }
        async fn helper(c: &Client) {
            let id = c.list_detectors().send().await;
            let m = std::collections::HashMap::<u8, u8>::new();
            m.get(&1);
        }
        async fn unrelated(c: &Client) { c.get_detector().send().await; }
    "#;
    let mut krate = Crate::default();
    FileVisitor {
        file: "src/x.rs".into(),
        krate: &mut krate,
        in_service_impl: false,
    }
    .visit_file(&syn::parse_file(source).unwrap());
    let reads = reached(&krate);
    assert_eq!(
        reads.keys().cloned().collect::<Vec<_>>(),
        vec![("helper".to_string(), "list_detectors".to_string())]
    );
}
