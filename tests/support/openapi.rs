//! The OpenAPI oracle: checks requests a bot sent against Discord's OpenAPI 3.1 spec.
//!
//! Owns loading the spec (env `DISCORD_OPENAPI`, else `$CARGO_MANIFEST_DIR/../shared/discord/
//! openapi.json`; never copied into the repo), matching a concrete path to a spec path template
//! (literal segments such as `@me` and `@original` win over parameters), and validating path
//! parameters, query parameters and the body against the operation with the `jsonschema` crate
//! (JSON Schema 2020-12). A JSON body is checked against the operation's `application/json`
//! schema; a `multipart/form-data` body (a message with files) against its `multipart/form-data`
//! schema, as the form Discord reads: the fields of the `payload_json` part plus one string per
//! other part (`files[0]`, ...), part names unique.
//!
//! Each schema is compiled with the whole spec document as its root plus `allOf: [schema]`, so
//! the spec's `#/components/schemas/...` references resolve; validators are cached per schema.
//! When a `oneOf`/`anyOf` fails, the oracle narrows it to the branch the instance's `type`
//! discriminator (or non-null-ness) selects and reports that branch's errors instead, so a
//! failure names the exact field rather than "not valid under any of the schemas".

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

/// One request as the oracle sees it.
#[derive(Clone, Debug)]
pub struct RequestView<'a> {
    /// How the failure names the request, e.g. `#3 POST /channels/1/messages`.
    pub label: String,
    /// Upper-case HTTP method.
    pub method: &'a str,
    /// Path below `/api/v10`, starting with `/`.
    pub path: &'a str,
    /// Raw query string without the `?`, if any.
    pub query: Option<&'a str>,
    /// The body.
    pub body: BodyView<'a>,
}

/// A request body as the oracle sees it.
#[derive(Clone, Debug)]
pub enum BodyView<'a> {
    /// No body.
    None,
    /// A JSON body.
    Json(&'a Value),
    /// A `multipart/form-data` body.
    Multipart {
        /// The `payload_json` part, parsed; `None` when there is none or it is not JSON.
        payload_json: Option<&'a Value>,
        /// Every part, `payload_json` included, in order.
        parts: Vec<FormPart<'a>>,
    },
    /// A body that is not what its content type says (the stand-in could not parse it).
    Invalid,
}

/// One part of a multipart body.
#[derive(Clone, Debug)]
pub struct FormPart<'a> {
    /// The form field name (`payload_json`, `files[0]`, ...).
    pub name: &'a str,
    /// Whether the part is a file (it has a file name).
    pub is_file: bool,
    /// The raw bytes.
    pub data: &'a [u8],
}

/// One way a request breaks the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The request, as [`RequestView::label`].
    pub request: String,
    /// Where in the request: a JSON pointer into the body (`/embeds/0/title`, `` for the
    /// whole body), into a multipart body's `payload_json` (`payload_json/attachments/0/id`, or
    /// `payload_json` for the part itself), `part:{name}` for another part of it,
    /// `path:{name}`, `query:{name}`, or `route` for a path/method problem.
    pub pointer: String,
    /// The rule broken, with the schema location it comes from.
    pub rule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() { "(body)" } else { &self.pointer };
        write!(f, "{} at {}: {}", self.request, pointer, self.rule)
    }
}

/// A parsed path template such as `/channels/{channel_id}/messages`.
struct Template {
    raw: String,
    /// `Some(literal)` or `None` for a `{parameter}`, with the parameter names alongside.
    segments: Vec<(Option<String>, String)>,
}

/// The loaded spec plus its compiled-validator cache.
pub struct Spec {
    doc: Value,
    templates: Vec<Template>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// Where the spec is looked for when `DISCORD_OPENAPI` is unset.
fn default_spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/discord/openapi.json")
}

/// The process-wide spec, loaded on first use.
///
/// # Panics
/// When the spec cannot be found or parsed, with a one-line message naming both locations.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let default = default_spec_path();
        let path = match std::env::var_os("DISCORD_OPENAPI").map(PathBuf::from) {
            Some(p) if p.is_file() => p,
            Some(p) => panic!(
                "Discord OpenAPI spec not found: DISCORD_OPENAPI={} is not a file (default location: {})",
                p.display(),
                default.display()
            ),
            None if default.is_file() => default,
            None => {
                panic!("Discord OpenAPI spec not found: set DISCORD_OPENAPI or put the spec at {}", default.display())
            }
        };
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read Discord OpenAPI spec {}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("Discord OpenAPI spec {} is not JSON: {e}", path.display()));
        Spec::new(doc)
    })
}

/// Checks one request against the process-wide spec.
pub fn check(req: &RequestView<'_>) -> Vec<Violation> {
    spec().check(req)
}

fn unescape_pointer_segment(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

fn escape_pointer_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in query strings).
fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Spec {
    fn new(doc: Value) -> Spec {
        let templates = doc["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .keys()
                    .map(|raw| Template {
                        raw: raw.clone(),
                        segments: raw
                            .trim_start_matches('/')
                            .split('/')
                            .map(|seg| {
                                if seg.starts_with('{') && seg.ends_with('}') {
                                    (None, seg[1..seg.len() - 1].to_string())
                                } else {
                                    (Some(seg.to_string()), String::new())
                                }
                            })
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Spec { doc, templates, validators: Mutex::new(HashMap::new()) }
    }

    /// Resolves a local `$ref` (`#/components/...`) against the document.
    fn resolve_ref(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        self.doc.pointer(pointer)
    }

    /// Follows `$ref` chains until a node without `$ref`.
    fn deref<'s>(&'s self, mut node: &'s Value) -> &'s Value {
        for _ in 0..16 {
            match node.get("$ref").and_then(Value::as_str).and_then(|r| self.resolve_ref(r)) {
                Some(next) => node = next,
                None => break,
            }
        }
        node
    }

    /// The spec path template a concrete path matches, with the parameter values.
    pub fn match_path(&self, path: &str) -> Option<(&str, HashMap<String, String>)> {
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut best: Option<(&Template, Vec<bool>)> = None;
        for t in &self.templates {
            if t.segments.len() != segs.len() {
                continue;
            }
            let fits = t.segments.iter().zip(&segs).all(|((lit, _), seg)| match lit {
                Some(lit) => lit == seg,
                None => !seg.is_empty(),
            });
            if !fits {
                continue;
            }
            // Literal segments win over parameters, position by position from the left.
            let rank: Vec<bool> = t.segments.iter().map(|(lit, _)| lit.is_some()).collect();
            if best.as_ref().is_none_or(|(_, r)| rank > *r) {
                best = Some((t, rank));
            }
        }
        best.map(|(t, _)| {
            let params = t
                .segments
                .iter()
                .zip(&segs)
                .filter(|((lit, _), _)| lit.is_none())
                .map(|((_, name), seg)| (name.clone(), percent_decode(seg, false)))
                .collect();
            (t.raw.as_str(), params)
        })
    }

    /// A validator for `schema` (which may use `#/components/...` references).
    fn validator(&self, schema: &Value) -> Arc<jsonschema::Validator> {
        let key = schema.to_string();
        if let Some(v) = self.validators.lock().unwrap().get(&key) {
            return v.clone();
        }
        let mut root = self.doc.clone();
        root.as_object_mut().expect("the spec is a JSON object").insert("allOf".into(), json!([schema]));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .unwrap_or_else(|e| panic!("spec schema {key} does not compile: {e}"));
        let validator = Arc::new(validator);
        self.validators.lock().unwrap().insert(key, validator.clone());
        validator
    }

    /// The operation's parameters (path level, overridden by operation level), `$ref`s resolved.
    fn parameters<'s>(&'s self, path_item: &'s Value, op: &'s Value) -> Vec<&'s Value> {
        let mut out: Vec<&Value> = Vec::new();
        for list in [&path_item["parameters"], &op["parameters"]] {
            for p in list.as_array().into_iter().flatten() {
                let p = self.deref(p);
                out.retain(|q| !(q["name"] == p["name"] && q["in"] == p["in"]));
                out.push(p);
            }
        }
        out
    }

    /// All the ways `req` breaks the spec; empty when it conforms.
    pub fn check(&self, req: &RequestView<'_>) -> Vec<Violation> {
        let violation =
            |pointer: &str, rule: String| Violation { request: req.label.clone(), pointer: pointer.to_string(), rule };
        let Some((template, params)) = self.match_path(req.path) else {
            return vec![violation("route", "path not in Discord's OpenAPI spec".into())];
        };
        let path_item = &self.doc["paths"][template];
        let method = req.method.to_ascii_lowercase();
        let op = &path_item[method.as_str()];
        if !op.is_object() {
            let mut allowed: Vec<String> = path_item
                .as_object()
                .map(|m| m.keys().filter(|k| *k != "parameters").map(|k| k.to_uppercase()).collect())
                .unwrap_or_default();
            allowed.sort();
            return vec![violation(
                "route",
                format!("{} is not an operation of {template} (spec has {})", req.method, allowed.join(", ")),
            )];
        }
        let mut out = Vec::new();
        let parameters = self.parameters(path_item, op);

        // Path parameters.
        for (name, value) in &params {
            let schema =
                parameters.iter().find(|p| p["in"] == "path" && p["name"] == name.as_str()).map(|p| &p["schema"]);
            if let Some(schema) = schema {
                for (pointer, rule) in self.validate(schema, &Value::String(value.clone())) {
                    out.push(violation(&format!("path:{name}{pointer}"), rule));
                }
            }
        }

        // Query parameters.
        for pair in req.query.unwrap_or("").split('&') {
            // serenity 0.12.5 builds queries as `?&a=1&b=2`: the empty pair is its quirk, not
            // a parameter.
            if pair.is_empty() {
                continue;
            }
            let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(name, true);
            let raw = percent_decode(raw, true);
            let Some(param) = parameters.iter().find(|p| p["in"] == "query" && p["name"] == name.as_str()) else {
                out.push(violation(
                    &format!("query:{name}"),
                    format!("query parameter `{name}` is not in the spec for {} {template}", req.method),
                ));
                continue;
            };
            let schema = &param["schema"];
            let value = self.coerce_query(schema, &raw);
            for (pointer, rule) in self.validate(schema, &value) {
                out.push(violation(&format!("query:{name}{pointer}"), rule));
            }
        }

        // Body.
        out.extend(self.check_body(template, op, req).into_iter().map(|(pointer, rule)| violation(&pointer, rule)));
        out
    }

    /// The body's violations as (pointer, rule) pairs.
    fn check_body(&self, template: &str, op: &Value, req: &RequestView<'_>) -> Vec<(String, String)> {
        let request_body = self.deref(&op["requestBody"]);
        let content = &request_body["content"];
        match &req.body {
            BodyView::None => {
                let json_schema = &content["application/json"]["schema"];
                if request_body["required"] == true && !json_schema.is_null() {
                    return vec![(String::new(), "the operation requires a body and none was sent".into())];
                }
                Vec::new()
            }
            BodyView::Invalid => vec![(String::new(), "the body cannot be parsed as its content type says".into())],
            BodyView::Json(body) => {
                let schema = &content["application/json"]["schema"];
                if schema.is_null() {
                    return match body.is_null() {
                        true => Vec::new(),
                        false => vec![(String::new(), format!("{} {template} takes no JSON body", req.method))],
                    };
                }
                let mut body = (*body).clone();
                apply_known_deviations(template, req.method, &mut body);
                self.validate(schema, &body)
            }
            BodyView::Multipart { payload_json, parts } => {
                let schema = &content["multipart/form-data"]["schema"];
                if schema.is_null() {
                    return vec![(String::new(), format!("{} {template} takes no multipart body", req.method))];
                }
                let (mut form, mut out) = multipart_form(*payload_json, parts);
                apply_known_deviations(template, req.method, &mut form);
                let others: Vec<&str> = parts.iter().map(|p| p.name).filter(|n| *n != "payload_json").collect();
                for (pointer, rule) in self.validate(schema, &form) {
                    out.push((multipart_pointer(&pointer, &others), rule));
                }
                out
            }
        }
    }

    /// Turns a query string value into the JSON type its schema asks for.
    fn coerce_query(&self, schema: &Value, raw: &str) -> Value {
        let resolved = self.deref(schema);
        let types: Vec<&str> = match &resolved["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if types.contains(&"integer") {
            if let Ok(i) = raw.parse::<i64>() {
                return json!(i);
            }
        }
        if types.contains(&"number") {
            if let Ok(f) = raw.parse::<f64>() {
                return json!(f);
            }
        }
        if types.contains(&"boolean") {
            match raw {
                "true" | "True" => return json!(true),
                "false" | "False" => return json!(false),
                _ => {}
            }
        }
        Value::String(raw.to_string())
    }

    /// Validates `instance` against `schema`; returns (instance JSON pointer, rule) pairs.
    pub fn validate(&self, schema: &Value, instance: &Value) -> Vec<(String, String)> {
        self.validate_depth(schema, instance, 0)
    }

    fn validate_depth(&self, schema: &Value, instance: &Value, depth: usize) -> Vec<(String, String)> {
        let validator = self.validator(schema);
        let mut out = Vec::new();
        for error in validator.iter_errors(instance) {
            let pointer = error.instance_path.as_str().to_string();
            let schema_path = error.schema_path.as_str().to_string();
            let is_union = matches!(
                error.kind,
                jsonschema::error::ValidationErrorKind::AnyOf | jsonschema::error::ValidationErrorKind::OneOfNotValid
            );
            if is_union && depth < 6 {
                if let Some(narrowed) = self.narrow(schema, &schema_path, instance, &pointer, depth) {
                    out.extend(narrowed);
                    continue;
                }
            }
            out.push((pointer, format!("{error} [{}]", self.describe_schema_path(schema, &schema_path))));
        }
        out
    }

    /// Walks a validator's schema path (which includes `$ref` hops) to the schema node.
    fn schema_at<'s>(&'s self, schema: &'s Value, schema_path: &str) -> (Option<&'s Value>, String) {
        let mut segs = schema_path.trim_start_matches('/').split('/').map(unescape_pointer_segment);
        let mut node: &Value;
        let mut last_ref = String::from("request schema");
        let mut tail = String::new();
        // The compiled root is the spec document plus `allOf: [schema]`.
        match (segs.next().as_deref(), segs.next().as_deref()) {
            (Some("allOf"), Some("0")) => node = schema,
            _ => return (None, last_ref),
        }
        for seg in segs {
            if seg == "$ref" {
                let Some(r) = node.get("$ref").and_then(Value::as_str) else {
                    return (None, last_ref);
                };
                let Some(next) = self.resolve_ref(r) else {
                    return (None, last_ref);
                };
                node = next;
                last_ref = r.trim_start_matches("#/components/schemas/").to_string();
                tail.clear();
                continue;
            }
            let next = match node {
                Value::Object(m) => m.get(&seg),
                Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return (None, format!("{last_ref}{tail}/{seg}")),
            }
            tail.push('/');
            tail.push_str(&escape_pointer_segment(&seg));
        }
        (Some(node), format!("{last_ref}{tail}"))
    }

    /// "RichEmbedField/properties/inline/type": where in the spec the broken rule lives.
    fn describe_schema_path(&self, schema: &Value, schema_path: &str) -> String {
        self.schema_at(schema, schema_path).1
    }

    /// Re-validates a failed `oneOf`/`anyOf` against the one branch the instance selects.
    fn narrow(
        &self,
        schema: &Value,
        schema_path: &str,
        instance: &Value,
        pointer: &str,
        depth: usize,
    ) -> Option<Vec<(String, String)>> {
        let (node, where_) = self.schema_at(schema, schema_path);
        let branches = node?.as_array()?;
        let value = instance.pointer(pointer)?;
        // An enumeration written as a union of constants: say which values are allowed.
        let consts: Vec<&Value> = branches.iter().filter_map(|b| self.deref(b).get("const")).collect();
        if !consts.is_empty() && consts.len() == branches.len() {
            let allowed: Vec<String> = consts.iter().map(|c| c.to_string()).collect();
            return Some(vec![(
                pointer.to_string(),
                format!("{value} is not one of {} [{where_}]", allowed.join(", ")),
            )]);
        }
        let discriminator = value.get("type");
        let mut candidates: Vec<&Value> = Vec::new();
        let mut allowed: Vec<Value> = Vec::new();
        for branch in branches {
            let resolved = self.deref(branch);
            if resolved["type"] == "null" {
                if value.is_null() {
                    candidates.push(branch);
                }
                continue;
            }
            let type_schema = self.deref(&resolved["properties"]["type"]);
            let accepts = match (discriminator, type_schema.get("enum"), type_schema.get("const")) {
                (Some(d), Some(Value::Array(e)), _) => {
                    allowed.extend(e.iter().cloned());
                    e.contains(d)
                }
                (Some(d), None, Some(c)) => {
                    allowed.push(c.clone());
                    c == d
                }
                _ => true,
            };
            if accepts {
                candidates.push(branch);
            }
        }
        match candidates.as_slice() {
            [only] => Some(
                self.validate_depth(only, value, depth + 1)
                    .into_iter()
                    .map(|(p, rule)| (format!("{pointer}{p}"), rule))
                    .collect(),
            ),
            [] if discriminator.is_some() && !allowed.is_empty() => Some(vec![(
                format!("{pointer}/type"),
                format!(
                    "type {} matches no branch of the union (allowed: {}) [{where_}]",
                    discriminator.unwrap(),
                    allowed.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
                ),
            )]),
            _ => None,
        }
    }
}

/// A multipart body as the form Discord reads: the fields of `payload_json` plus one string per
/// other part (a file stands as `<file, N bytes>`), and what is wrong with its parts.
fn multipart_form(payload_json: Option<&Value>, parts: &[FormPart<'_>]) -> (Value, Vec<(String, String)>) {
    let mut problems = Vec::new();
    let mut form = match payload_json {
        Some(Value::Object(fields)) => fields.clone(),
        Some(other) => {
            problems.push(("payload_json".into(), format!("payload_json must be a JSON object, not {other}")));
            serde_json::Map::new()
        }
        None if parts.iter().any(|p| p.name == "payload_json") => {
            problems.push(("payload_json".into(), "the payload_json part is not JSON".into()));
            serde_json::Map::new()
        }
        None => serde_json::Map::new(),
    };
    let from_payload: Vec<String> = form.keys().cloned().collect();
    let mut seen = std::collections::HashSet::new();
    for part in parts.iter().filter(|p| p.name != "payload_json") {
        let at = format!("part:{}", part.name);
        if !seen.insert(part.name) {
            problems.push((at, "a second part of this name: Discord needs unique part names".into()));
            continue;
        }
        if from_payload.iter().any(|k| k == part.name) {
            problems.push((at.clone(), "the part repeats a field of payload_json".into()));
        }
        let value = match part.is_file {
            true => format!("<file, {} bytes>", part.data.len()),
            false => String::from_utf8_lossy(part.data).into_owned(),
        };
        form.insert(part.name.to_string(), Value::String(value));
    }
    (Value::Object(form), problems)
}

/// Where a violation found in a multipart form lies: in the part its pointer's first segment
/// names (`part:files[0]`), else in `payload_json` (`payload_json/attachments/0/id`).
fn multipart_pointer(pointer: &str, parts: &[&str]) -> String {
    let Some(rest) = pointer.strip_prefix('/') else { return pointer.to_string() };
    let (first, tail) = rest.split_once('/').map_or((rest, ""), |(f, t)| (f, t));
    let name = unescape_pointer_segment(first);
    if parts.contains(&name.as_str()) {
        let tail = if tail.is_empty() { String::new() } else { format!("/{tail}") };
        format!("part:{name}{tail}")
    } else {
        format!("payload_json{pointer}")
    }
}

/// Rewrites the few things serenity 0.12.5 sends that the spec rejects although Discord accepts
/// them, so that only real mistakes fail. Each case says why.
fn apply_known_deviations(template: &str, method: &str, body: &mut Value) {
    // Command registration: serenity's `CreateCommand` serializes `default_member_permissions`
    // as a decimal string (its `Permissions` type serializes as a string); Discord's docs type the
    // field as a string, while the OpenAPI spec says integer. Validate the number it encodes.
    let is_command_write = template.starts_with("/applications/{application_id}/")
        && (template.ends_with("/commands") || template.ends_with("/commands/{command_id}"))
        && matches!(method, "POST" | "PUT" | "PATCH");
    if is_command_write {
        let mut fix = |command: &mut Value| {
            if let Some(v) = command.get_mut("default_member_permissions") {
                if let Some(n) = v.as_str().and_then(|s| s.parse::<u64>().ok()) {
                    *v = json!(n);
                }
            }
        };
        match body {
            Value::Array(commands) => commands.iter_mut().for_each(&mut fix),
            other => fix(other),
        }
    }
}
