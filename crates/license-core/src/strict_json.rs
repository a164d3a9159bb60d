//! Payload JSON rules the spec adds to plain JSON: the top level is an object and no
//! object, at any depth, repeats a member. (serde's derive catches repeats of known
//! fields only; an ignored unknown member could otherwise hide a second value.)

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

struct NoDuplicates;

impl<'de> Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicates)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("member \"{key}\" appears more than once")));
            }
            map.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

/// Checks the JSON rules and returns a plain-language reason on failure.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    let trimmed = bytes.iter().position(|b| !b.is_ascii_whitespace()).map(|i| bytes[i]);
    if trimmed != Some(b'{') {
        return Err("the payload is not a JSON object".into());
    }
    serde_json::from_slice::<NoDuplicates>(bytes).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn duplicates_are_found_at_any_depth() {
        assert!(check(br#"{"a":1,"b":{"c":[1,{"d":2}]}}"#).is_ok());
        assert!(check(br#"{"a":1,"a":2}"#).unwrap_err().contains("\"a\""));
        assert!(check(br#"{"x":{"y":1,"y":1}}"#).unwrap_err().contains("\"y\""));
        assert!(check(br#"{"x":[{"z":1,"z":2}]}"#).is_err());
        assert!(check(b"[1]").unwrap_err().contains("not a JSON object"));
        assert!(check(b"{\"a\":1} trailing").is_err());
    }
}
