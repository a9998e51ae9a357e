//! Alternate contacts (billing, operations, security) of the account, so
//! that AWS and Trusted Advisor notices reach people. A free setting:
//! teardown leaves it.

use async_trait::async_trait;
use aws_sdk_account::types::AlternateContactType;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use baseline_engine::{
    Action, Address, Change, Declared, Desired, Mode, Observed, Outputs, Ownership, Reading,
    Service, ServiceError, Target, Want,
};
use baseline_spec::{Baseline, Contact};
use serde_json::{Value, json};

use crate::error::Ctx;
use crate::{account_of, attrs, controls};

const SERVICE: &str = "alternate_contacts";
const KIND: &str = "alternate_contacts.contact";

service_type!(
    /// Alternate contacts.
    AccountService
);

fn contact_attrs(c: &Contact) -> baseline_engine::Attrs {
    attrs(&[
        ("name", json!(c.name)),
        ("email", json!(c.email)),
        ("phone", json!(c.phone)),
        ("title", json!(c.title)),
    ])
}

#[async_trait]
impl Service for AccountService {
    fn name(&self) -> &'static str {
        SERVICE
    }

    fn desired(&self, baseline: &Baseline, target: &Target, mode: Mode) -> Vec<Desired> {
        let (Some(spec), true, Mode::Apply) = (&baseline.alternate_contacts, target.home, mode)
        else {
            return Vec::new();
        };
        [
            ("BILLING", &spec.billing, &[][..]),
            ("OPERATIONS", &spec.operations, &[][..]),
            ("SECURITY", &spec.security, &["Account.1"][..]),
        ]
        .into_iter()
        .filter_map(|(kind, c, ctl)| {
            c.as_ref().map(|c| Desired {
                address: Address::new(target, KIND, kind),
                controls: controls(ctl),
                want: Want::Present(contact_attrs(c)),
                depends_on: Vec::new(),
                private: baseline_engine::Attrs::new(),
            })
        })
        .collect()
    }

    async fn read(&self, target: &Target, desired: &[Desired]) -> Result<Reading, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let client = client!(aws_sdk_account, account, &target.region);
        let ctx = Ctx::new(target, SERVICE);
        // The contacts are read at once.
        let reads = futures::future::join_all(desired.iter().map(|d| {
            client
                .get_alternate_contact()
                .alternate_contact_type(AlternateContactType::from(d.address.name.as_str()))
                .send()
        }))
        .await;
        let mut out = Vec::new();
        for (d, read) in desired.iter().zip(reads) {
            match read {
                Ok(o) => {
                    if let Some(c) = o.alternate_contact() {
                        out.push(Observed::new(
                            d.address.clone(),
                            attrs(&[
                                ("name", json!(c.name())),
                                ("email", json!(c.email_address())),
                                ("phone", json!(c.phone_number())),
                                ("title", json!(c.title())),
                            ]),
                            Ownership::NotOurs,
                        ));
                    }
                }
                Err(e) if e.code() == Some("ResourceNotFoundException") => {}
                Err(e) => return Err(Box::new(ctx.err("GetAlternateContact")(e))),
            }
        }
        Ok(out.into())
    }

    fn declare(&self, change: &Change) -> Declared {
        crate::usual(change)
    }

    async fn apply(&self, target: &Target, change: &Change) -> Result<Outputs, ServiceError> {
        let account = account_of(&self.aws, target)?;
        let account = &*account;
        let client = client!(aws_sdk_account, account, &target.region);
        let ctx = Ctx::new(target, SERVICE);
        if !matches!(change.action, Action::Create | Action::Update) {
            return Err(crate::unsupported(&change.address.kind, change.action));
        }
        let after = change.after.clone().unwrap_or_default();
        let get = |k: &str| {
            after
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        client
            .put_alternate_contact()
            .alternate_contact_type(AlternateContactType::from(change.address.name.as_str()))
            .name(get("name"))
            .email_address(get("email"))
            .phone_number(get("phone"))
            .title(get("title"))
            .send()
            .await
            .map_err(ctx.err("PutAlternateContact"))?;
        Ok(Outputs::new())
    }
}
