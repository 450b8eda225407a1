//! The field names a serde struct accepts, read from its derived `Deserialize`: the
//! environment layer takes only `AUTOMA_*` variables that name a settings key, since
//! other tools share the prefix (`AUTOMA_URL`, `AUTOMA_TEST_*`), and the list cannot
//! drift from the struct.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// The names `T` reads as a struct (serde names, after renames); empty for non-structs.
pub fn of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    match T::deserialize(Probe) {
        Err(Found(fields)) => fields,
        Ok(_) => &[],
    }
}

struct Probe;

/// Not an error: the way the probe carries the field list out of `deserialize`.
#[derive(Debug)]
struct Found(&'static [&'static str]);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "fields {:?}", self.0)
    }
}

impl std::error::Error for Found {}

impl de::Error for Found {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Found(&[])
    }
}

impl<'de> Deserializer<'de> for Probe {
    type Error = Found;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
        Err(Found(&[]))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Found> {
        Err(Found(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_settings_keys_with_their_serde_names() {
        let fields = super::of::<super::super::Config>();
        assert!(fields.contains(&"listen"), "{fields:?}");
        assert!(fields.contains(&"access_token_ttl_secs"), "{fields:?}");
        assert!(fields.contains(&"smtp"), "{fields:?}");
        assert!(!fields.contains(&"access_token_ttl"), "{fields:?}");
    }
}
