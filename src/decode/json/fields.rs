//! OTLP/JSON field names that have two spellings: the lowerCamelCase of the
//! proto3 JSON mapping (`timeUnixNano`) and the original snake_case
//! (`time_unix_nano`), which decoders must accept too.
//!
//! Every such pair is written once, in the table below: `field!(snake_name)`
//! is the match pattern `"camelName" | "snake_name"` and `pair!(snake_name)`
//! the array `["camelName", "snake_name"]`; the camelCase spelling is checked
//! against the snake_case one at compile time. Names of one word (`name`,
//! `flags`) have one spelling and are matched as plain strings where used.
//! The test below decodes documents that use every pair in every message
//! under both spellings.

/// Checks that `camel` is the lowerCamelCase of `snake` (each `_x` becomes
/// `X`), at compile time.
const fn is_camel_of(camel: &str, snake: &str) -> bool {
    let (c, s) = (camel.as_bytes(), snake.as_bytes());
    let (mut i, mut j) = (0, 0);
    while j < s.len() {
        let mut want = s[j];
        if want == b'_' {
            j += 1;
            if j == s.len() || !s[j].is_ascii_lowercase() {
                return false;
            }
            want = s[j].to_ascii_uppercase();
        }
        if i == c.len() || c[i] != want {
            return false;
        }
        i += 1;
        j += 1;
    }
    i == c.len()
}

/// Declares the table: `snake_name => "camelName"` per pair. Defines the
/// `field!` and `pair!` macros and [`FIELDS`], and asserts each pair at
/// compile time.
macro_rules! field_names {
    ($($snake:ident => $camel:literal,)*) => {
        /// The two spellings of an OTLP/JSON field name, as a match pattern.
        macro_rules! field {
            $(($snake) => { $camel | stringify!($snake) };)*
        }
        /// The two spellings of an OTLP/JSON field name, as `[camel, snake]`.
        macro_rules! pair {
            $(($snake) => { [$camel, stringify!($snake)] };)*
        }
        /// Every pair, `(camel, snake)`, in table order.
        #[cfg(test)]
        pub(super) const FIELDS: &[(&str, &str)] = &[$(($camel, stringify!($snake)),)*];
        const _: () = {
            $(assert!(
                is_camel_of($camel, stringify!($snake)),
                concat!($camel, " is not the camelCase of ", stringify!($snake))
            );)*
        };
    };
}

field_names! {
    // the envelope
    resource_logs => "resourceLogs",
    resource_spans => "resourceSpans",
    resource_metrics => "resourceMetrics",
    scope_logs => "scopeLogs",
    scope_spans => "scopeSpans",
    scope_metrics => "scopeMetrics",
    log_records => "logRecords",
    schema_url => "schemaUrl",
    // common.v1
    dropped_attributes_count => "droppedAttributesCount",
    string_value => "stringValue",
    bool_value => "boolValue",
    int_value => "intValue",
    double_value => "doubleValue",
    bytes_value => "bytesValue",
    array_value => "arrayValue",
    kvlist_value => "kvlistValue",
    // logs.v1
    time_unix_nano => "timeUnixNano",
    observed_time_unix_nano => "observedTimeUnixNano",
    severity_number => "severityNumber",
    severity_text => "severityText",
    trace_id => "traceId",
    span_id => "spanId",
    event_name => "eventName",
    // trace.v1
    trace_state => "traceState",
    parent_span_id => "parentSpanId",
    start_time_unix_nano => "startTimeUnixNano",
    end_time_unix_nano => "endTimeUnixNano",
    dropped_events_count => "droppedEventsCount",
    dropped_links_count => "droppedLinksCount",
    // metrics.v1
    exponential_histogram => "exponentialHistogram",
    data_points => "dataPoints",
    aggregation_temporality => "aggregationTemporality",
    is_monotonic => "isMonotonic",
    as_double => "asDouble",
    as_int => "asInt",
    bucket_counts => "bucketCounts",
    explicit_bounds => "explicitBounds",
    zero_count => "zeroCount",
    zero_threshold => "zeroThreshold",
    quantile_values => "quantileValues",
    filtered_attributes => "filteredAttributes",
}

pub(super) use {field, pair};

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use super::FIELDS;
    use crate::decode::json::tests::big;
    use crate::decode::json::{logs, metrics, traces};

    /// A request of each signal that sets every field with two spellings,
    /// in every message that has it, to a value other than its default (so
    /// that a field not read changes the decoded model).
    const LOGS: &str = r#"{"resourceLogs":[{
        "resource":{"attributes":[{"key":"r","value":{"stringValue":"v"}}],
                    "droppedAttributesCount":1},
        "schemaUrl":"rs",
        "scopeLogs":[{
          "scope":{"name":"n","version":"v","droppedAttributesCount":2,
                   "attributes":[{"key":"k","value":{"boolValue":true}}]},
          "schemaUrl":"ss",
          "logRecords":[{
            "timeUnixNano":"1","observedTimeUnixNano":"2",
            "severityNumber":"SEVERITY_NUMBER_WARN","severityText":"W",
            "body":{"kvlistValue":{"values":[
              {"key":"s","value":{"stringValue":"x"}},
              {"key":"b","value":{"boolValue":true}},
              {"key":"i","value":{"intValue":"7"}},
              {"key":"d","value":{"doubleValue":1.5}},
              {"key":"y","value":{"bytesValue":"aGk="}},
              {"key":"a","value":{"arrayValue":{"values":[{"intValue":1}]}}}]}},
            "attributes":[{"key":"k","value":{"stringValue":"v"}}],
            "droppedAttributesCount":3,"flags":1,
            "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
            "eventName":"e"}]}]}]}"#;

    const TRACES: &str = r#"{"resourceSpans":[{
        "resource":{"droppedAttributesCount":1},"schemaUrl":"rs",
        "scopeSpans":[{
          "scope":{"droppedAttributesCount":2},"schemaUrl":"ss",
          "spans":[{
            "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
            "traceState":"t","parentSpanId":"0102030405060708","flags":1,"name":"n",
            "kind":"SPAN_KIND_SERVER","startTimeUnixNano":"1","endTimeUnixNano":"2",
            "attributes":[{"key":"k","value":{"stringValue":"v"}}],
            "droppedAttributesCount":3,
            "events":[{"timeUnixNano":"3","name":"e","droppedAttributesCount":4}],
            "droppedEventsCount":5,
            "links":[{"traceId":"0102030405060708090a0b0c0d0e0f10",
                      "spanId":"0807060504030201","traceState":"lt",
                      "droppedAttributesCount":6,"flags":2}],
            "droppedLinksCount":7,
            "status":{"message":"m","code":"STATUS_CODE_ERROR"}}]}]}]}"#;

    const METRICS: &str = r#"{"resourceMetrics":[{
        "resource":{"droppedAttributesCount":1},"schemaUrl":"rs",
        "scopeMetrics":[{
          "scope":{"droppedAttributesCount":2},"schemaUrl":"ss",
          "metrics":[
            {"name":"g","gauge":{"dataPoints":[
              {"startTimeUnixNano":"1","timeUnixNano":"2","asDouble":1.5,
               "exemplars":[{"filteredAttributes":[{"key":"k","value":{"stringValue":"v"}}],
                             "timeUnixNano":"3","asDouble":2.5,
                             "spanId":"eee19b7ec3c1b174",
                             "traceId":"5b8efff798038103d269b633813fc60c"}]},
              {"timeUnixNano":"4","asInt":"5","exemplars":[{"asInt":6}]}]}},
            {"name":"s","sum":{"dataPoints":[
              {"startTimeUnixNano":"1","timeUnixNano":"2","asInt":3}],
              "aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE",
              "isMonotonic":true}},
            {"name":"h","histogram":{"dataPoints":[
              {"startTimeUnixNano":"1","timeUnixNano":"2","count":"3","sum":4.5,
               "bucketCounts":["1","2"],"explicitBounds":[1.0],"min":0.5,"max":9.5}],
              "aggregationTemporality":1}},
            {"name":"e","exponentialHistogram":{"dataPoints":[
              {"startTimeUnixNano":"1","timeUnixNano":"2","count":"3","scale":2,
               "zeroCount":"1","positive":{"offset":1,"bucketCounts":["1"]},
               "negative":{"bucketCounts":["2"]},"zeroThreshold":0.25}],
              "aggregationTemporality":2}},
            {"name":"q","summary":{"dataPoints":[
              {"startTimeUnixNano":"1","timeUnixNano":"2","count":"3","sum":4.5,
               "quantileValues":[{"quantile":0.5,"value":1.5}]}]}}]}]}]}"#;

    /// A step from a JSON value to one inside it.
    #[derive(Clone, Debug)]
    enum Step {
        Key(String),
        Index(usize),
    }

    /// Every object key in `v` that is a camelCase name of [`FIELDS`], with
    /// the path to the object holding it.
    fn occurrences(v: &Value, path: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, &'static str)>) {
        match v {
            Value::Object(m) => {
                for (k, inner) in m {
                    if let Some((camel, _)) = FIELDS.iter().find(|(c, _)| c == k) {
                        out.push((path.clone(), camel));
                    }
                    path.push(Step::Key(k.clone()));
                    occurrences(inner, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, inner) in a.iter().enumerate() {
                    path.push(Step::Index(i));
                    occurrences(inner, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// The object at `path` in `v`.
    fn object_at<'v>(v: &'v mut Value, path: &[Step]) -> &'v mut Map<String, Value> {
        let mut at = v;
        for step in path {
            at = match step {
                Step::Key(k) => &mut at[k.as_str()],
                Step::Index(i) => &mut at[*i],
            };
        }
        at.as_object_mut().expect("an object")
    }

    fn snake_of(camel: &str) -> &'static str {
        FIELDS
            .iter()
            .find(|(c, _)| *c == camel)
            .map(|p| p.1)
            .unwrap()
    }

    /// Every pair of [`FIELDS`], at every place the documents use it: the
    /// snake_case spelling there decodes exactly as the camelCase one, and
    /// dropping the field changes the result (so the camelCase spelling is
    /// read too). Then all keys at once in snake_case. Fails if either
    /// spelling of any pair stops being accepted in any of those messages.
    #[test]
    fn every_pair_is_read_under_both_spellings() {
        type Decode = fn(&[u8]) -> String;
        let docs: [(&str, Decode); 3] = [
            (LOGS, |b| format!("{:?}", logs(b, &big()))),
            (TRACES, |b| format!("{:?}", traces(b, &big()))),
            (METRICS, |b| format!("{:?}", metrics(b, &big()))),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (doc, decode) in docs {
            let original: Value = serde_json::from_str(doc).unwrap();
            let run = |v: &Value| decode(serde_json::to_string(v).unwrap().as_bytes());
            let want = run(&original);
            assert!(want.starts_with("Ok("), "{want}");
            let mut found = Vec::new();
            occurrences(&original, &mut Vec::new(), &mut found);
            let mut all_snake = original.clone();
            // Deepest first, so renaming a key does not move the paths of
            // those still to rename below it.
            for (path, camel) in found.iter().rev() {
                let snake = snake_of(camel);
                seen.insert(*camel);

                let mut v = original.clone();
                let m = object_at(&mut v, path);
                let value = m.remove(*camel).unwrap();
                assert_ne!(run(&v), want, "{camel} at {path:?} is not read");
                object_at(&mut v, path).insert(snake.to_owned(), value);
                assert_eq!(run(&v), want, "{snake} at {path:?} is not read as {camel}");

                let m = object_at(&mut all_snake, path);
                let value = m.remove(*camel).unwrap();
                m.insert(snake.to_owned(), value);
            }
            assert_eq!(run(&all_snake), want, "all keys in snake_case");
        }
        let unused: Vec<_> = FIELDS.iter().filter(|(c, _)| !seen.contains(c)).collect();
        assert!(
            unused.is_empty(),
            "pairs the documents do not use: {unused:?}"
        );
    }
}
