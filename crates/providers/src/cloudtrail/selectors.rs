//! A trail's event selectors as a planned value: the document
//! PutEventSelectors takes (`{"EventSelectors": [...]}` or
//! `{"AdvancedEventSelectors": [...]}`, in the API's own field names), read
//! from the trail, extended (never replaced) by the read to record
//! management events, and written back whole by apply.

use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector, ReadWriteType,
};
use baseline_engine::ServiceError;
use serde_json::{Value, json};

/// The selectors of a new trail: read and write management events.
pub(super) fn all_management() -> Value {
    json!({"EventSelectors": [basic_all_management()]})
}

fn basic_all_management() -> Value {
    json!({"ReadWriteType": "All", "IncludeManagementEvents": true,
           "DataResources": [], "ExcludeManagementEventSources": []})
}

fn strings(v: &[String]) -> Value {
    json!(v)
}

/// The selectors a trail has, as a document.
pub(super) fn document(out: &GetEventSelectorsOutput) -> Value {
    if !out.advanced_event_selectors().is_empty() {
        let list: Vec<Value> = out
            .advanced_event_selectors()
            .iter()
            .map(|s| {
                json!({
                    "Name": s.name(),
                    "FieldSelectors": s.field_selectors().iter().map(|f| json!({
                        "Field": f.field(),
                        "Equals": strings(f.equals()),
                        "StartsWith": strings(f.starts_with()),
                        "EndsWith": strings(f.ends_with()),
                        "NotEquals": strings(f.not_equals()),
                        "NotStartsWith": strings(f.not_starts_with()),
                        "NotEndsWith": strings(f.not_ends_with()),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return json!({ "AdvancedEventSelectors": list });
    }
    let list: Vec<Value> = out
        .event_selectors()
        .iter()
        .map(|s| {
            json!({
                "ReadWriteType": s.read_write_type().map(|t| t.as_str()).unwrap_or("All"),
                "IncludeManagementEvents": s.include_management_events().unwrap_or(true),
                "DataResources": s.data_resources().iter().map(|d| json!({
                    "Type": d.r#type(),
                    "Values": strings(d.values()),
                })).collect::<Vec<_>>(),
                "ExcludeManagementEventSources": strings(s.exclude_management_event_sources()),
            })
        })
        .collect();
    json!({ "EventSelectors": list })
}

/// `have` made to record read and write management events, keeping every
/// selector it has (data events, advanced selectors): a basic selector is
/// added to basic ones, an advanced one to advanced ones. `have` itself
/// when it already records them (`records_all`).
pub(super) fn with_management(have: &Value, records_all: bool) -> Value {
    if records_all {
        return have.clone();
    }
    let mut out = have.clone();
    if let Some(list) = out
        .get_mut("AdvancedEventSelectors")
        .and_then(Value::as_array_mut)
    {
        list.push(
            json!({"Name": "Management events (baseline)", "FieldSelectors": [{
            "Field": "eventCategory", "Equals": ["Management"], "StartsWith": [], "EndsWith": [],
            "NotEquals": [], "NotStartsWith": [], "NotEndsWith": []}]}),
        );
        return out;
    }
    let mut basic = out
        .get("EventSelectors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    basic.push(basic_all_management());
    json!({ "EventSelectors": basic })
}

fn list(v: &Value, k: &str) -> Vec<String> {
    v[k].as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// The planned document as PutEventSelectors' two lists (one of them
/// `None`).
#[allow(clippy::type_complexity)]
pub(super) fn to_request(
    doc: &Value,
) -> Result<
    (
        Option<Vec<EventSelector>>,
        Option<Vec<AdvancedEventSelector>>,
    ),
    ServiceError,
> {
    if let Some(adv) = doc.get("AdvancedEventSelectors").and_then(Value::as_array) {
        let mut out = Vec::new();
        for s in adv {
            let mut fields = Vec::new();
            for f in s["FieldSelectors"].as_array().into_iter().flatten() {
                fields.push(
                    AdvancedFieldSelector::builder()
                        .field(f["Field"].as_str().unwrap_or_default())
                        .set_equals(Some(list(f, "Equals")).filter(|l| !l.is_empty()))
                        .set_starts_with(Some(list(f, "StartsWith")).filter(|l| !l.is_empty()))
                        .set_ends_with(Some(list(f, "EndsWith")).filter(|l| !l.is_empty()))
                        .set_not_equals(Some(list(f, "NotEquals")).filter(|l| !l.is_empty()))
                        .set_not_starts_with(
                            Some(list(f, "NotStartsWith")).filter(|l| !l.is_empty()),
                        )
                        .set_not_ends_with(Some(list(f, "NotEndsWith")).filter(|l| !l.is_empty()))
                        .build()
                        .map_err(|e| Box::new(e) as ServiceError)?,
                );
            }
            out.push(
                AdvancedEventSelector::builder()
                    .set_name(s["Name"].as_str().map(str::to_string))
                    .set_field_selectors(Some(fields))
                    .build()
                    .map_err(|e| Box::new(e) as ServiceError)?,
            );
        }
        return Ok((None, Some(out)));
    }
    let basic = doc
        .get("EventSelectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            EventSelector::builder()
                .read_write_type(ReadWriteType::from(
                    s["ReadWriteType"].as_str().unwrap_or("All"),
                ))
                .include_management_events(s["IncludeManagementEvents"].as_bool().unwrap_or(true))
                .set_data_resources(Some(
                    s["DataResources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|d| {
                            DataResource::builder()
                                .set_type(d["Type"].as_str().map(str::to_string))
                                .set_values(Some(list(d, "Values")))
                                .build()
                        })
                        .collect(),
                ))
                .set_exclude_management_event_sources(Some(list(
                    s,
                    "ExcludeManagementEventSources",
                )))
                .build()
        })
        .collect();
    Ok((Some(basic), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn management_events_are_added_beside_data_events_never_replacing_them() {
        let data = json!({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": false,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::team/"]}],
            "ExcludeManagementEventSources": []}]});
        let planned = with_management(&data, false);
        let list = planned["EventSelectors"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], data["EventSelectors"][0]);
        assert_eq!(list[1], basic_all_management());
        assert_eq!(with_management(&data, true), data);
        let (basic, adv) = to_request(&planned).unwrap();
        assert_eq!(basic.map(|b| b.len()), Some(2));
        assert!(adv.is_none());

        let advanced = json!({"AdvancedEventSelectors": [{"Name": "data", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"], "StartsWith": [], "EndsWith": [],
             "NotEquals": [], "NotStartsWith": [], "NotEndsWith": []}]}]});
        let planned = with_management(&advanced, false);
        assert_eq!(
            planned["AdvancedEventSelectors"].as_array().unwrap().len(),
            2
        );
        let (basic, adv) = to_request(&planned).unwrap();
        assert!(basic.is_none());
        assert_eq!(adv.map(|a| a.len()), Some(2));
    }
}
