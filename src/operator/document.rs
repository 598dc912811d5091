//! A `Stack`'s or `App`'s spec as a document the config loader reads: JSON text (which is
//! YAML) with one value per line, and the field path of every line. The loader's checks then
//! run unchanged, and a diagnostic at a line names its field path
//! (`spec.resources.Auth.login[0]`) instead of a line and column.

use serde_json::Value;

/// A spec written out, with the field path of each of its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub text: String,
    /// The field path of line `i + 1`.
    paths: Vec<String>,
}

impl Rendered {
    /// The spec's value as one JSON document, each value on its own line.
    pub fn of(spec: &Value) -> Rendered {
        let mut r = Rendered {
            text: String::new(),
            paths: Vec::new(),
        };
        r.value(spec, "spec", 0, "", true);
        r
    }

    /// The field path written at `line` (1-based); the whole spec for a line it never wrote.
    pub fn path_at(&self, line: u64) -> &str {
        usize::try_from(line)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .and_then(|i| self.paths.get(i))
            .map_or("spec", String::as_str)
    }

    fn line(&mut self, depth: usize, text: &str, path: &str) {
        self.text.push_str(&"  ".repeat(depth));
        self.text.push_str(text);
        self.text.push('\n');
        self.paths.push(path.to_string());
    }

    /// `head` is `"key": ` inside a map, empty elsewhere; `last` leaves out the comma.
    fn value(&mut self, v: &Value, path: &str, depth: usize, head: &str, last: bool) {
        let comma = if last { "" } else { "," };
        match v {
            Value::Object(map) if !map.is_empty() => {
                self.line(depth, &format!("{head}{{"), path);
                let n = map.len();
                for (i, (k, child)) in map.iter().enumerate() {
                    let head = format!("{}: ", quoted(k));
                    self.value(child, &field(path, k), depth + 1, &head, i + 1 == n);
                }
                self.line(depth, &format!("}}{comma}"), path);
            }
            Value::Array(items) if !items.is_empty() => {
                self.line(depth, &format!("{head}["), path);
                let n = items.len();
                for (i, child) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.value(child, &p, depth + 1, "", i + 1 == n);
                }
                self.line(depth, &format!("]{comma}"), path);
            }
            scalar => self.line(depth, &format!("{head}{scalar}{comma}"), path),
        }
    }
}

fn quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// `path.key`, or `path["a key"]` when the key is not a plain name.
fn field(path: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", quoted(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_line_knows_its_field_path() {
        let spec = json!({
            "stack": "AuthStack",
            "resources": {"Auth": {"kind": "auth", "login": ["email", "phone"]}},
            "outputs": {"a.b": "x", "e": {}},
        });
        let r = Rendered::of(&spec);
        let at = |needle: &str| {
            let line = r.text.lines().position(|l| l.contains(needle)).unwrap();
            r.path_at(line as u64 + 1).to_string()
        };
        assert_eq!(at("\"phone\""), "spec.resources.Auth.login[1]");
        assert_eq!(at("\"login\""), "spec.resources.Auth.login");
        assert_eq!(at("\"kind\""), "spec.resources.Auth.kind");
        assert_eq!(at("\"a.b\""), "spec.outputs[\"a.b\"]");
        assert_eq!(at("\"e\": {}"), "spec.outputs.e");
        assert_eq!(r.path_at(1), "spec");
        assert_eq!(r.path_at(999), "spec");
        let back: Value = serde_json::from_str(&r.text).unwrap();
        assert_eq!(back, spec, "the text is the spec");
    }

    #[test]
    fn the_text_reads_as_yaml_with_the_same_value() {
        let spec = json!({"a": [1, true, null, "x: \"y\"\n"], "b": {"c": 2.5}});
        let text = Rendered::of(&spec).text;
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, spec);
    }
}
