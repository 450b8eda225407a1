//! Lists in settings: a TOML array, or one comma-separated string as an environment
//! variable or `--set` gives it (`AUTOMA_TLS_EXTRA_CA_CERTS=a.pem,b.pem`).

use serde::Deserializer;
use serde::de::{self, SeqAccess, Visitor};
use std::fmt;
use std::path::PathBuf;

pub fn paths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    d.deserialize_any(PathsVisitor)
}

struct PathsVisitor;

impl<'de> Visitor<'de> for PathsVisitor {
    type Value = Vec<PathBuf>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of paths or one comma-separated string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(path) = seq.next_element::<PathBuf>()? {
            out.push(path);
        }
        Ok(out)
    }
}
