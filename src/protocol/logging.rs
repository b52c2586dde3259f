//! Logs as go-plugin expects them: one hclog-style JSON object per line on stderr.
//!
//! Terraform reads the provider's stderr line by line, parses `@level`, `@message` and
//! `@timestamp`, passes every other key through as a field, and drops lines below the level chosen
//! with `TF_LOG_PROVIDER` / `TF_LOG`. We apply the same level ourselves so that nothing is
//! formatted only to be thrown away.

use std::fmt::{self, Write as _};
use std::io::{self, Write as _};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// Environment variables that choose our log level, most specific first. The provider-named one
/// follows terraform-plugin-log's `TF_LOG_PROVIDER_<NAME>` convention; the other two are
/// Terraform's own.
pub const LEVEL_VARIABLES: [&str; 3] = ["TF_LOG_PROVIDER_IDBRIDGE", "TF_LOG_PROVIDER", "TF_LOG"];

/// Crates whose events are ours; everything else is a dependency.
const OWN_TARGETS: [&str; 2] = ["idbridge", "terraform_provider_idbridge"];

/// Installs the process-wide subscriber writing hclog JSON lines to stderr at the level taken from
/// the environment (see [`LEVEL_VARIABLES`]). Safe to call more than once; later calls do nothing.
pub fn init() {
    let level = level_from_env(|name| std::env::var(name).ok());
    let subscriber =
        Registry::default().with(HclogLayer::new(io::stderr).with_filter(filter(level)));
    // Fails only when a subscriber is already installed, which is what repeated calls want.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The level Terraform would use for provider logs given these variables: the first one that is
/// set and non-empty wins; `JSON` means trace; an unknown value means trace (as Terraform does);
/// nothing set means off.
pub fn level_from_env(lookup: impl Fn(&str) -> Option<String>) -> LevelFilter {
    let Some(value) = LEVEL_VARIABLES
        .iter()
        .filter_map(|name| lookup(name))
        .map(|value| value.trim().to_ascii_uppercase())
        .find(|value| !value.is_empty())
    else {
        return LevelFilter::OFF;
    };
    match value.as_str() {
        "OFF" => LevelFilter::OFF,
        "ERROR" => LevelFilter::ERROR,
        "WARN" => LevelFilter::WARN,
        "INFO" => LevelFilter::INFO,
        "DEBUG" => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// Our own events at `level`; dependencies (hyper, h2, rustls, the AWS SDK, ...) never below INFO,
/// because their debug and trace output is noise to users and can include request details we
/// must not leak.
pub fn filter(level: LevelFilter) -> Targets {
    let dependency_level = level.min(LevelFilter::INFO);
    OWN_TARGETS.iter().fold(
        Targets::new().with_default(dependency_level),
        |targets, own| targets.with_target(*own, level),
    )
}

/// A `tracing` layer that writes each event as one hclog JSON line.
pub struct HclogLayer<W> {
    make_writer: W,
}

impl<W> HclogLayer<W>
where
    W: for<'writer> MakeWriter<'writer> + 'static,
{
    pub fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

/// Span fields, kept in the span's extensions so events inside the span carry them.
struct SpanFields(Map<String, Value>);

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + 'static,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let mut visitor = JsonVisitor::default();
        attrs.record(&mut visitor);
        span.extensions_mut().insert(SpanFields(visitor.fields));
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            let mut visitor = JsonVisitor {
                fields: std::mem::take(fields),
                message: None,
            };
            values.record(&mut visitor);
            *fields = visitor.fields;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        let mut visitor = JsonVisitor {
            fields,
            message: None,
        };
        event.record(&mut visitor);

        let metadata = event.metadata();
        let mut line = visitor.fields;
        line.insert("@level".into(), hclog_level(*metadata.level()).into());
        line.insert(
            "@message".into(),
            visitor.message.unwrap_or_default().into(),
        );
        line.insert("@module".into(), module_name(metadata.target()).into());
        line.insert(
            "@timestamp".into(),
            hclog_timestamp(time::OffsetDateTime::now_utc()).into(),
        );

        let Ok(mut bytes) = serde_json::to_vec(&Value::Object(line)) else {
            return;
        };
        bytes.push(b'\n');
        // One write per line so concurrent events never interleave within a line; a failed write
        // to stderr has nowhere better to be reported.
        let _ = self.make_writer.make_writer().write_all(&bytes);
    }
}

/// hclog's level names, which Terraform maps back to its own levels.
fn hclog_level(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// `idbridge::clients::graph::auth` becomes `idbridge.clients`: enough to tell layers apart in
/// Terraform's output without repeating whole module paths.
fn module_name(target: &str) -> String {
    let mut parts = target.split("::");
    let crate_name = match parts.next() {
        Some("terraform_provider_idbridge") | None => "idbridge",
        Some(other) => other,
    };
    match parts.next() {
        Some(layer) => format!("{crate_name}.{layer}"),
        None => crate_name.to_owned(),
    }
}

/// The exact layout go-plugin parses (`2006-01-02T15:04:05.000000Z07:00`): six fractional digits,
/// `Z` for UTC. Anything else makes Terraform treat the whole line as unstructured debug text.
fn hclog_timestamp(at: time::OffsetDateTime) -> String {
    let mut out = String::with_capacity(27);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    );
    out
}

#[derive(Default)]
struct JsonVisitor {
    fields: Map<String, Value>,
    message: Option<String>,
}

impl JsonVisitor {
    fn insert(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(text) => text,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for JsonVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.insert(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.insert(field, value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn lines_logged(level: LevelFilter, emit: impl FnOnce()) -> Vec<Map<String, Value>> {
        let captured = Captured::default();
        let subscriber =
            Registry::default().with(HclogLayer::new(captured.clone()).with_filter(filter(level)));
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| match serde_json::from_str(line).unwrap() {
                Value::Object(map) => map,
                other => panic!("not an object: {other}"),
            })
            .collect()
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn event_becomes_one_hclog_json_line_with_fields_and_span_context() {
        let lines = lines_logged(LevelFilter::TRACE, || {
            let span = tracing::info_span!(target: "idbridge::resources", "apply", tf_resource_type = "idbridge_app");
            let _entered = span.enter();
            tracing::warn!(target: "idbridge::resources::app", attempt = 2, retry = true, "retrying create");
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["@level"], "warn");
        assert_eq!(line["@message"], "retrying create");
        assert_eq!(line["@module"], "idbridge.resources");
        assert_eq!(line["attempt"], 2);
        assert_eq!(line["retry"], true);
        assert_eq!(line["tf_resource_type"], "idbridge_app");
        let timestamp = line["@timestamp"].as_str().unwrap();
        // 2026-11-23T10:17:02.123456Z
        assert_eq!(timestamp.len(), 27, "{timestamp}");
        assert!(
            timestamp.ends_with('Z') && timestamp.as_bytes()[19] == b'.',
            "{timestamp}"
        );
    }

    #[test]
    fn own_events_follow_the_level_and_dependencies_stay_at_info_or_above() {
        let lines = lines_logged(LevelFilter::DEBUG, || {
            tracing::trace!(target: "idbridge::protocol", "too detailed");
            tracing::debug!(target: "idbridge::protocol", "ours at debug");
            tracing::debug!(target: "h2::codec", "dependency at debug");
            tracing::info!(target: "hyper::proto", "dependency at info");
        });
        let messages: Vec<_> = lines.iter().map(|line| line["@message"].clone()).collect();
        assert_eq!(messages, ["ours at debug", "dependency at info"]);
    }

    #[test]
    fn nothing_is_written_when_logging_is_off() {
        let lines = lines_logged(LevelFilter::OFF, || {
            tracing::error!(target: "idbridge::protocol", "hidden");
        });
        assert!(lines.is_empty());
    }

    #[test]
    fn level_comes_from_the_most_specific_variable_like_terraform() {
        assert_eq!(level_from_env(env(&[])), LevelFilter::OFF);
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "debug")])),
            LevelFilter::DEBUG
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "debug"), ("TF_LOG_PROVIDER", "warn")])),
            LevelFilter::WARN
        );
        assert_eq!(
            level_from_env(env(&[
                ("TF_LOG", "debug"),
                ("TF_LOG_PROVIDER", "warn"),
                ("TF_LOG_PROVIDER_IDBRIDGE", "error"),
            ])),
            LevelFilter::ERROR
        );
        // An empty specific variable does not hide a set general one.
        assert_eq!(
            level_from_env(env(&[("TF_LOG_PROVIDER", ""), ("TF_LOG", "info")])),
            LevelFilter::INFO
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "JSON")])),
            LevelFilter::TRACE
        );
        assert_eq!(
            level_from_env(env(&[("TF_LOG", "chatty")])),
            LevelFilter::TRACE
        );
        assert_eq!(level_from_env(env(&[("TF_LOG", "off")])), LevelFilter::OFF);
    }

    #[test]
    fn timestamp_has_the_layout_go_plugin_parses() {
        let at = time::macros::datetime!(2026-01-02 03:04:05.000007 UTC);
        assert_eq!(hclog_timestamp(at), "2026-01-02T03:04:05.000007Z");
    }

    #[test]
    fn module_names_are_short() {
        assert_eq!(
            module_name("idbridge::clients::graph::auth"),
            "idbridge.clients"
        );
        assert_eq!(module_name("terraform_provider_idbridge"), "idbridge");
        assert_eq!(module_name("hyper::proto::h1"), "hyper.proto");
    }
}
